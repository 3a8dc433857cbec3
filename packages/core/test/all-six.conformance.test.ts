import {
  compose,
  withAnalytics,
  withCache,
  withCompaction,
  withEncryption,
  withFallback,
  withMonitoring,
} from '@sessionkit/core';
import { CACHE_REOPEN_WAIVERS, describeStackConformance, type Stack } from './analytics-fallback-compaction-harness.js';

const keys = { k1: new Uint8Array(32).fill(11) };

/**
 * The six decorators in the order docs/decorators.md recommends, innermost first:
 * fallback over the raw backends, encryption above it (so primary and secondary
 * both hold ciphertext only), monitoring, cache, analytics, compaction outermost.
 */
const allSix: Stack = (open) =>
  compose(
    open('primary'),
    withFallback({ secondaries: [open('secondary')], resyncInterval: 0 }),
    withEncryption({ keys, primary: 'k1' }),
    withMonitoring({ onOperation: () => {}, slowThresholdMs: 60_000 }),
    withCache({ maxSessions: 100 }),
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

describeStackConformance('all six decorators', allSix, { reopenWaivers: CACHE_REOPEN_WAIVERS });
