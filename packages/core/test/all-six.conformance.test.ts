import {
  CacheStore,
  compose,
  withAnalytics,
  withCache,
  withCompaction,
  withEncryption,
  withFallback,
  withMonitoring,
  type SessionStore,
} from '@sessionkit/core';
import { CACHE_REOPEN_WAIVERS, describeStackConformance, injectUndecryptable, type Stack } from './analytics-fallback-compaction-harness.js';

const keys = { k1: new Uint8Array(32).fill(11) };

/**
 * The six decorators in the order docs/decorators.md recommends, innermost first:
 * fallback over the raw backends, encryption above it (so primary and secondary
 * both hold ciphertext only), monitoring, cache, analytics, compaction outermost.
 */
// The cache of each stack, so an injected item (written beneath it, like another process would) can be announced.
const caches = new WeakMap<SessionStore, CacheStore>();

const allSix: Stack = (open) => {
  let cache: CacheStore | undefined;
  const top = compose(
    open('primary'),
    withFallback({ secondaries: [open('secondary')], resyncInterval: 0 }),
    withEncryption({ keys, primary: 'k1' }),
    withMonitoring({ onOperation: () => {}, slowThresholdMs: 60_000 }),
    (store) => (cache = withCache({ maxSessions: 100 })(store)),
    withAnalytics({ onEvent: () => {} }),
    withCompaction({
      // A threshold the suite never reaches: compaction rewrites history by design (see compaction.conformance.test.ts).
      summarize: async () => {
        throw new Error('the conformance suite must never reach the compaction threshold');
      },
      maxItems: 1_000_000,
      keepLast: 10,
      inline: true,
      onError: (error, { phase }) => console.error(`!!! all-six conformance: unexpected ${phase} error`, error),
    }),
  );
  caches.set(top, cache!);
  return top;
};

describeStackConformance('all six decorators', allSix, {
  reopenWaivers: CACHE_REOPEN_WAIVERS,
  // Into the primary, which serves every read while healthy. The cache is coherent per process only
  // (docs/decorators/cache.md), so a write beneath it is announced the way an application would: invalidate().
  injectCorruptItem: async (opened, sessionId, store) => {
    await injectUndecryptable('primary', 'k1')(opened, sessionId);
    caches.get(store)!.invalidate(sessionId);
  },
});
