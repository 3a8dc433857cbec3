import { fileURLToPath } from 'node:url';
import { cacheStack } from './fixtures/cache-stack.mjs';
import { describeStackConformance } from './analytics-fallback-compaction-harness.js';

// On MemoryStore the suite opens one handle in one process: the default, per-process cache.
// On SqliteStore it also opens second handles and child processes over the same file, each with its own cache:
// that is the multi-process deployment, so the stack uses the documented mode for it, revalidate (exact reads).
describeStackConformance('withCache', (open, { shared }) => cacheStack(open('store'), { shared }), {
  processModule: fileURLToPath(new URL('./fixtures/cache-stack.mjs', import.meta.url)),
});
