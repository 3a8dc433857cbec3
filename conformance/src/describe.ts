import type { ConformanceHarness } from './harness.js';
import type { DescribeConformanceOptions } from './vitest.js';

// The root entry must load without vitest: the CLI and runConformance need
// no test framework, and vitest is an optional peer. So vitest is imported
// here only if it is installed; `@sessionkit/conformance/vitest` imports it
// directly for those who want the failure at import time.
let vitestEntry: typeof import('./vitest.js') | undefined;
try {
  vitestEntry = await import('./vitest.js');
} catch (error) {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (!(code === 'ERR_MODULE_NOT_FOUND' && /['"]vitest['"]/.test(String(message)))) throw error;
}

/**
 * Registers the conformance suite as vitest tests (see
 * `@sessionkit/conformance/vitest`). Needs vitest installed; without it this
 * throws, while the rest of the package (the CLI, `runConformance`) works.
 */
export function describeConformance(name: string, harness: ConformanceHarness, options: DescribeConformanceOptions = {}): void {
  if (!vitestEntry) {
    throw new Error('describeConformance needs vitest (npm i -D vitest); without it use runConformance() or the sessionkit-conformance CLI');
  }
  vitestEntry.describeConformance(name, harness, options);
}
