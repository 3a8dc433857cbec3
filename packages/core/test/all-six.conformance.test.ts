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
  reopenWaivers: {
    ...CACHE_REOPEN_WAIVERS,
    // Compaction reads after its writes, which fills each handle's cache mid-race; the items themselves
    // land once each and in order (the second handle's read is checked first and passes).
    'concurrency.two-handles':
      'withCache is coherent per process: after parallel writes through two handles, the first handle’s cache (filled by compaction’s reads mid-race) does not see the second handle’s batches until its entry expires (set ttl) — docs/decorators/cache.md',
  },
  // Into the primary, which serves every read while healthy. The cache is coherent per process only
  // (docs/decorators/cache.md), so a write beneath it is announced the way an application would: invalidate().
  injectCorruptItem: async (opened, sessionId, store) => {
    await injectUndecryptable('primary', 'k1')(opened, sessionId);
    caches.get(store)!.invalidate(sessionId);
  },
});
