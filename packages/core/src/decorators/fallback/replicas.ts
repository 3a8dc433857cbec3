import type { SessionQueue } from '../../session-queue.js';
import type { FallbackJournal } from './journal.js';
import type { MissedOperations } from './missed-operations.js';
import type { ReplicaDeadline } from './replica-deadline.js';
import type { ReplicaState } from './replica-state.js';

/**
 * A fallback's replicas and what its process knows about them: what the
 * write path (write-path.ts) and the resync (resync.ts) work on. The store
 * owns it; the hooks are the store's (degradation, error reports, the resync timer).
 */
export interface Replicas<TItem> {
  readonly primary: ReplicaDeadline<TItem>;
  readonly secondaries: readonly ReplicaDeadline<TItem>[];
  readonly state: ReplicaState;
  readonly journal: FallbackJournal<TItem>;
  /** Serializes writes (and copies) per session in this process, so every replica sees them in one order. */
  readonly writes: SessionQueue;
  /** Operation ids some replica missed (a copy does not carry them): a repeat is answered from here. Memory only. */
  readonly missedOperations: MissedOperations;
  /** Whether an error of a replica means "unavailable" (fail over) rather than an answer. */
  isOutage(error: unknown): boolean;
  /** Enters the degraded state (once; calls `onDegraded`). */
  degrade(error: unknown): void;
  /** Hands an error to `onError`. */
  reportError(error: unknown): void;
  /** Schedules a background resync if there is something to resync. */
  arm(): void;
}

/** Secondaries holding this session in sync, in order. */
export function inSync<TItem>(r: Replicas<TItem>, sessionId: string): ReplicaDeadline<TItem>[] {
  return r.state.inSync(sessionId).map((index) => r.secondaries[index]!);
}
