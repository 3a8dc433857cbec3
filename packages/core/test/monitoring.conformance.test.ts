import { withMonitoring } from '@sessionkit/core';
import { describeStackConformance } from './analytics-fallback-compaction-harness.js';

// Every hook and exporter path on, so their code runs under the whole suite.
describeStackConformance('withMonitoring', (open) =>
  withMonitoring({ onOperation: () => {}, onSlow: () => {}, slowThresholdMs: 0, sessionIds: 'hash' })(open('store')),
);
