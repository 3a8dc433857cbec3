import { afterAll, beforeAll, describe, it } from 'vitest';
import type { ConformanceHarness } from './harness.js';
import { registerConformance, type DescribeConformanceOptions } from './suite.js';

export type { DescribeConformanceOptions } from './suite.js';

/**
 * Registers the conformance suite as vitest tests: one `it` per catalogue
 * entry, named `MUST basic.append-read: …`. Tests the store or harness cannot
 * run are skipped with the reason; waived tests are skipped and say WAIVED
 * with the harness's written reason. A failing SHOULD fails its test too:
 * waive it, with a reason, to accept it.
 */
export function describeConformance(name: string, harness: ConformanceHarness, options: DescribeConformanceOptions = {}): void {
  registerConformance({ afterAll, beforeAll, describe, it }, name, harness, options);
}
