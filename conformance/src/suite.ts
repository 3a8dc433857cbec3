import type { StoreCapabilities } from '@sessionkit/core';
import type * as Vitest from 'vitest';
import { harnessWarnings, unmetRequirement } from './conformance-test.js';
import type { ConformanceHarness } from './harness.js';
import { checkHarness, probeStore, runTest, selectTests } from './runner.js';

/** The part of vitest the suite registers through; passed in so this module never imports vitest itself. */
export type VitestApi = Pick<typeof Vitest, 'afterAll' | 'beforeAll' | 'describe' | 'it'>;

export interface DescribeConformanceOptions {
  /** Run only tests whose id equals or starts with one of these; one that matches no test is a RangeError. Default: every test. */
  readonly only?: readonly string[];
}

/**
 * Registers the conformance suite as vitest tests: one `it` per catalogue
 * entry, named `MUST basic.append-read: …`. Tests the store or harness cannot
 * run are skipped with the reason; waived tests are skipped and say WAIVED
 * with the harness's written reason. A failing SHOULD fails its test too:
 * waive it, with a reason, to accept it.
 */
export function registerConformance(
  { afterAll, beforeAll, describe, it }: VitestApi,
  name: string,
  harness: ConformanceHarness,
  options: DescribeConformanceOptions = {},
): void {
  checkHarness(harness);
  describe(`${name} conformance`, () => {
    let capabilities: StoreCapabilities | undefined;
    beforeAll(async () => {
      const probed = await probeStore(harness);
      capabilities = probed.capabilities;
      // Said once, loudly: the per-test skip reasons are easy to miss in a long run.
      for (const warning of [...probed.warnings, ...harnessWarnings(harness, capabilities)]) console.warn(`!!! ${name} conformance: ${warning}`);
      // The base score is vitest's own count; what the store has beyond the base is said here.
      console.info(`${name} conformance: extended: ${probed.extended.join(', ') || 'none'}`);
    }, 120_000);
    afterAll(async () => {
      await harness.teardown?.();
    }, 120_000);

    for (const test of selectTests(options.only)) {
      const label = `${test.level} ${test.id}: ${test.title}`;
      const waiver = harness.waivers?.[test.id];
      if (waiver !== undefined) {
        it.skip(`${label} [WAIVED: ${waiver}]`, () => {});
        continue;
      }
      it(
        label,
        async (context) => {
          if (!capabilities) throw new Error('the harness could not create a store (see the beforeAll error)');
          const unmet = unmetRequirement(test, harness, capabilities);
          if (unmet !== undefined) context.skip(unmet);
          await runTest(test, harness, capabilities);
        },
        // runTest enforces the test's own timeout; this one only catches a hung cleanup.
        (test.timeout ?? 30_000) + 30_000,
      );
    }
  });
}
