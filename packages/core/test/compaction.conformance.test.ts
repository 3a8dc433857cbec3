import { withCompaction } from '@sessionkit/core';
import { describeStackConformance } from './analytics-fallback-compaction-harness.js';

// Compaction rewrites history by design, so the suite runs it with a threshold
// its histories never reach: every write still goes through the decorator and
// its threshold check, and the history must stay exactly what was written.
// Compaction firing under concurrency is tested in compaction.concurrency.test.ts (docs/decorators/compaction.md).
describeStackConformance('withCompaction', (open) =>
  withCompaction({
    summarize: async () => {
      throw new Error('the conformance suite must never reach the compaction threshold');
    },
    maxItems: 1_000_000,
    keepLast: 10,
    inline: true,
    // Nothing may fail here; if something does, say so loudly (the hook cannot fail the suite's writes).
    onError: (error, { phase }) => console.error(`!!! withCompaction conformance: unexpected ${phase} error`, error),
  })(open('store')),
);
