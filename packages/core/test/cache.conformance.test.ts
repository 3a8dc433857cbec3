import { withCache } from '@sessionkit/core';
import { CACHE_REOPEN_WAIVERS, describeStackConformance } from './analytics-fallback-compaction-harness.js';

// Small limits so eviction and tail entries happen during the suite too.
describeStackConformance(
  'withCache',
  (open) => withCache({ maxSessions: 8, maxBytes: 64 * 1024, maxSessionBytes: 4 * 1024 })(open('store')),
  { reopenWaivers: CACHE_REOPEN_WAIVERS },
);
