import { fileURLToPath } from 'node:url';
import type { SessionStore } from '@sessionkit/core';
import type { CacheStore } from '@sessionkit/core/cache';
import { allSix } from './fixtures/all-six-stack.mjs';
import { describeStackConformance, injectUndecryptable, type Stack } from './analytics-fallback-compaction-harness.js';

// The cache of each stack, so an injected item (written beneath it, like another process would) can be announced.
const caches = new WeakMap<SessionStore, CacheStore>();

const stack: Stack = (open, { shared }) => {
  let cache: CacheStore | undefined;
  const top = allSix(open, (layer) => (cache = layer), { shared });
  caches.set(top, cache!);
  return top;
};

describeStackConformance('all six decorators', stack, {
  processModule: fileURLToPath(new URL('./fixtures/all-six-stack.mjs', import.meta.url)),
  // Into the primary, which serves every read while healthy. On MemoryStore the cache is the per-process default
  // (docs/decorators/cache.md), so a write beneath it is announced the way an application would: invalidate().
  // (On SqliteStore the cache revalidates and would see it anyway.)
  injectCorruptItem: async (opened, sessionId, store) => {
    await injectUndecryptable('primary', 'k1')(opened, sessionId);
    caches.get(store)!.invalidate(sessionId);
  },
});
