import type { ConformanceHarness } from '../harness.js';
import type { Backend } from './backend.js';
import { keyFor } from './backend.js';
import { FlawedStore } from './flawed-store.js';
import type { BrokenStoreFlaw } from './flaws.js';

/**
 * A harness for an in-memory store with one deliberate `flaw` (or none: the
 * correct reference, which passes every test). Used by the kit's
 * self-tests; a third party can use it to check its own additions to a suite.
 */
export function brokenStoreHarness(flaw?: BrokenStoreFlaw): ConformanceHarness {
  const backends = new WeakMap<object, Backend>();
  const ttls = new WeakMap<object, number | undefined>();
  const open = (backend: Backend, ttl: number | undefined) => {
    const store = new FlawedStore(backend, flaw, ttl);
    backends.set(store, backend);
    ttls.set(store, ttl);
    return store;
  };
  const backendOf = (store: object) => {
    const backend = backends.get(store);
    if (!backend) throw new Error('store was not created by this harness');
    return backend;
  };
  const reopened = (backend: Backend): Backend => {
    if (flaw === 'forgets-on-reopen') return { sessions: new Map(), ops: new Map() };
    if (flaw === 'forgets-log-on-reopen') return { sessions: backend.sessions, ops: new Map() };
    return backend;
  };
  return {
    create: (options = {}) => open({ sessions: new Map(), ops: new Map() }, options.ttl),
    reopen: (store) => open(reopened(backendOf(store)), ttls.get(store)),
    async injectCorruptItem(store, sessionId) {
      const entry = backendOf(store).sessions.get(keyFor(flaw, sessionId));
      if (!entry) throw new Error('inject into an existing session');
      entry.items.push('{"role": "user", "content": ');
      entry.updated = Date.now();
    },
  };
}
