import { withAnalytics } from '@sessionkit/core';
import { describeStackConformance } from './analytics-fallback-compaction-harness.js';

describeStackConformance('withAnalytics', (open) => withAnalytics({ onEvent: () => {} })(open('store')));
