import { withEncryption } from '@sessionkit/core';
import { describeStackConformance, injectUndecryptable } from './analytics-fallback-compaction-harness.js';

const keys = { old: new Uint8Array(32).fill(3), current: new Uint8Array(32).fill(4) };

describeStackConformance('withEncryption', (open) => withEncryption({ keys, primary: 'current' })(open('store')), {
  injectCorruptItem: injectUndecryptable('store', 'current'),
});
