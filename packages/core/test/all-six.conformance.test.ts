import { fileURLToPath } from 'node:url';
import type { CacheStore, SessionStore } from '@sessionkit/core';
import { allSix } from './fixtures/all-six-stack.mjs';
import { CACHE_REOPEN_WAIVERS, describeStackConformance, injectUndecryptable, type Stack } from './analytics-fallback-compaction-harness.js';

// The cache of each stack, so an injected item (written beneath it, like another process would) can be announced.
const caches = new WeakMap<SessionStore, CacheStore>();

const stack: Stack = (open) => {
  let cache: CacheStore | undefined;
  const top = allSix(open, (layer) => (cache = layer));
  caches.set(top, cache!);
  return top;
};

describeStackConformance('all six decorators', stack, {
  processModule: fileURLToPath(new URL('./fixtures/all-six-stack.mjs', import.meta.url)),
  reopenWaivers: CACHE_REOPEN_WAIVERS,
  // Into the primary, which serves every read while healthy. The cache is coherent per process only
  // (docs/decorators/cache.md), so a write beneath it is announced the way an application would: invalidate().
  injectCorruptItem: async (opened, sessionId, store) => {
    await injectUndecryptable('primary', 'k1')(opened, sessionId);
    caches.get(store)!.invalidate(sessionId);
  },
});
