import { type FaultInjectionStore, withFaults } from '@sessionkit/conformance';
import { MemoryStore, compose, withFallback, type FallbackOptions, type SessionStore } from '@sessionkit/core';

// Shared by the withFallback test files (not a test file itself).

/** A user message: the item every withFallback test writes. */
export const msg = (text: string) => ({ role: 'user', content: text });

/** A fallback stack over stores that outlive it: a new stack on the same stores stands for a restarted process. */
export function open(primary: SessionStore, secondaries: SessionStore[], extra: Partial<Omit<FallbackOptions, 'secondaries'>> = {}) {
  return compose(primary, withFallback({ secondaries, resyncInterval: 0, closeSecondaries: false, ...extra }));
}

/** A MemoryStore (`data`, read past the faults) behind a fault-injection store (`faults`, handed to the stack). */
export function faulty(): { data: MemoryStore; faults: FaultInjectionStore } {
  const data = new MemoryStore();
  return { data, faults: withFaults(data) };
}
