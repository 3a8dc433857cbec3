import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { ConformanceHarness } from './harness.js';
import { registerConformance, type DescribeConformanceOptions, type VitestApi } from './suite.js';

// The root entry must load without vitest (the CLI and runConformance need no test framework; vitest is an
// optional peer) and through require(), which Node refuses for a graph with top-level await. So vitest is
// loaded here on the first call, synchronously (vitest collects tests while the test file is evaluated):
// its ESM entry resolved with import conditions (its `require` entry only throws) and loaded through
// require(esm), which returns the very instance the running test file imported, not a second vitest.
let vitest: VitestApi | undefined;

function loadVitest(): VitestApi {
  if (vitest) return vitest;
  let url: string;
  try {
    url = import.meta.resolve('vitest');
  } catch {
    throw new Error('describeConformance needs vitest (npm i -D vitest); without it use runConformance() or the sessionkit-conformance CLI');
  }
  vitest = createRequire(import.meta.url)(fileURLToPath(url)) as VitestApi;
  return vitest;
}

/**
 * Registers the conformance suite as vitest tests (see
 * `@sessionkit/conformance/vitest`). Needs vitest installed; without it this
 * throws, while the rest of the package (the CLI, `runConformance`) works.
 */
export function describeConformance(name: string, harness: ConformanceHarness, options: DescribeConformanceOptions = {}): void {
  registerConformance(loadVitest(), name, harness, options);
}
