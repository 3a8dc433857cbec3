import { withFallback } from '@sessionkit/core';
import { describeStackConformance } from './analytics-fallback-compaction-harness.js';

// Healthy state: every operation through the primary, mirrored to two secondaries.
describeStackConformance('withFallback (two secondaries)', (open) =>
  withFallback({ secondaries: [open('secondary-1'), open('secondary-2')], resyncInterval: 0 })(open('primary')),
);
describeStackConformance('withFallback (one secondary)', (open) =>
  withFallback({ secondaries: [open('secondary')], resyncInterval: 0 })(open('primary')),
);
