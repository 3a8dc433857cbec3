import { type SessionStore, type StoreCapabilities } from '@sessionkit/core';
import { categoryOf, harnessWarnings, unmetRequirement, type ConformanceTest, type Level } from './conformance-test.js';
import { describeError } from './checks.js';
import { harnessScale, ManagedContext } from './context.js';
import type { ConformanceHarness } from './harness.js';
import { conformanceTests } from './catalogue/index.js';
import { CAPABILITY_NAMES, detectExtensions, readManifest } from './manifest.js';
import { checkTimeout, DEFAULT_TIMEOUT_MS, HarnessError, settleWithin, TimeoutError } from './setup.js';

export { detectExtensions } from './manifest.js';

export type TestStatus = 'passed' | 'failed' | 'skipped' | 'waived';

export interface TestResult {
  readonly id: string;
  readonly level: Level;
  readonly category: string;
  readonly title: string;
  readonly status: TestStatus;
  /** Why it was skipped or waived, or what failed. */
  readonly reason?: string;
  readonly durationMs: number;
}

export interface ConformanceReport {
  readonly name: string;
  /**
   * Every capability (the optional ones included), `true` exactly when the
   * store declares it `true`; a value that is not a boolean is a warning.
   */
  readonly capabilities: StoreCapabilities;
  /**
   * The optional capabilities the store has: declared in its manifest and
   * backed by the method (e.g. `replaceHistory`, `historyMutations`,
   * `listing`), in a fixed order. See {@link detectExtensions}.
   */
  readonly extended: readonly string[];
  /**
   * Tests that need no capability (the five base methods, ids, values, input,
   * concurrency, persistence, close), among those that ran; a test needing
   * `conditionalAppend` or `readChanges` is not one.
   */
  readonly base: { readonly passed: number; readonly ran: number };
  readonly results: readonly TestResult[];
  readonly summary: {
    readonly must: { readonly passed: number; readonly failed: number };
    readonly should: { readonly passed: number; readonly failed: number };
    readonly skipped: number;
    readonly waived: number;
  };
  /**
   * What the run could not check and should have: e.g. a persistent store
   * whose harness has no `processes`. Empty when nothing is missing.
   */
  readonly warnings: readonly string[];
  /** True when no MUST test failed. */
  readonly ok: boolean;
}

export interface RunOptions {
  /**
   * Run only tests whose id equals or starts with one of these (e.g. `tx.` or
   * `basic.append-read`); one that matches no test is a RangeError. Default:
   * every test.
   */
  readonly only?: readonly string[];
  /** Called after each test, for progress output. Default: none. */
  readonly onResult?: (result: TestResult) => void;
  /**
   * What to do with a capability the store declares as neither a boolean nor
   * left out: `'warn'` (default) treats it as not declared and says so in
   * `warnings`; `'refuse'` (the CLI) throws before any test runs.
   */
  readonly invalidManifest?: 'warn' | 'refuse';
  /**
   * The time limit in ms of every test (replacing each test's own: 30 s, up to
   * 120 s for the heavy ones) and of each harness call the runner makes
   * outside a test (create, close and cleanup around the tests, teardown;
   * 30 s each by default). Whatever outlives it fails with `… did not settle
   * within N ms`: a test, as that test's failure; a call before or after
   * the tests, as a HarnessError.
   */
  readonly timeoutMs?: number;
}

/** The entries of `only` that are neither a test id nor the start of one. */
export function unmatchedSelectors(only: readonly string[]): string[] {
  return only.filter((prefix) => typeof prefix !== 'string' || !conformanceTests.some((test) => test.id.startsWith(prefix)));
}

/**
 * Tests selected by `only` (all when absent or empty). Throws a RangeError
 * naming every entry that matches no test id: a typo must not select nothing
 * and report a pass.
 */
export function selectTests(only?: readonly string[]): readonly ConformanceTest[] {
  if (!only?.length) return conformanceTests;
  const unmatched = unmatchedSelectors(only);
  if (unmatched.length) {
    throw new RangeError(`only: no test id is or starts with ${unmatched.map((id) => JSON.stringify(id)).join(', ')}`);
  }
  return conformanceTests.filter((test) => only.some((prefix) => test.id.startsWith(prefix)));
}

/**
 * Opens one store to read what it declares and which methods back it, then
 * closes and cleans it up. `capabilities` holds every capability, `true`
 * exactly when declared `true`; `manifestProblems` says which values were not
 * booleans (each also a warning). A harness whose create() or cleanup() fails
 * here is a HarnessError: no test could run.
 */
export async function probeStore(
  harness: ConformanceHarness,
  options: { readonly timeoutMs?: number } = {},
): Promise<{ capabilities: StoreCapabilities; extended: string[]; warnings: string[]; manifestProblems: string[] }> {
  const ms = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const when = 'while the kit opened a store to read its capabilities, before any test';
  let store: SessionStore;
  try {
    store = await settleWithin(ms, 'create()', () => harness.create());
  } catch (error) {
    if (error instanceof TimeoutError) throw new HarnessError(`${(error as Error).message}, ${when}`);
    throw new HarnessError(`create() threw ${when}`, { cause: error });
  }
  if (store === null || typeof store !== 'object' || typeof (store as { close?: unknown }).close !== 'function') {
    throw new HarnessError(`create() returned ${store === null ? 'null' : typeof store === 'object' ? 'an object without close()' : String(store)}, not a store, ${when}`);
  }
  const { capabilities, problems, invalid } = readManifest(store);
  const { extended, warnings } = detectExtensions(store);
  // A close() that fails is the tests' business (lifecycle.*); one that never settles would stall every test.
  const closed = Promise.resolve()
    .then(() => store.close())
    .then(
      () => true,
      () => true,
    );
  try {
    await settleWithin(ms, "the store's close()", () => closed);
  } catch (error) {
    throw new HarnessError(`${(error as Error).message} (the store the kit opened to read its capabilities, before any test); every test closes its stores, so none could finish`);
  }
  try {
    await settleWithin(ms, 'cleanup()', () => harness.cleanup?.(store));
  } catch (error) {
    if (error instanceof TimeoutError) throw new HarnessError(`${(error as Error).message}, ${when}`);
    throw new HarnessError(`cleanup() threw ${when}`, { cause: error });
  }
  return { capabilities, extended, warnings: [...problems, ...warnings], manifestProblems: invalid };
}

/** Opens one store to read what it declares, then closes and cleans it up. */
export async function probeCapabilities(harness: ConformanceHarness): Promise<StoreCapabilities> {
  return (await probeStore(harness)).capabilities;
}

const CAPABILITIES = new Set<string>(CAPABILITY_NAMES);

/**
 * A base test needs no capability, optional ones such as `conditionalAppend`
 * included (harness features such as `reopen` do not count, nor does
 * `not:<capability>`, which a store without the capability meets).
 */
export function isBaseTest(test: Pick<ConformanceTest, 'requires'>): boolean {
  return !(test.requires ?? []).some((need) => CAPABILITIES.has(need));
}

/**
 * Runs one test with a fresh context; throws what the test threw, or `<id>
 * did not settle within N ms` at its time limit (`timeoutMs`, else the test's
 * own, else 30 s). Its stores are closed and cleaned up after it, each call
 * within the same limit (default 30 s); one that never settles fails the test
 * when the test itself passed.
 */
export async function runTest(
  test: ConformanceTest,
  harness: ConformanceHarness,
  capabilities: StoreCapabilities,
  options: { readonly timeoutMs?: number } = {},
): Promise<void> {
  const ctx = new ManagedContext(harness, capabilities);
  const ms = options.timeoutMs ?? test.timeout ?? DEFAULT_TIMEOUT_MS;
  let failure: { error: unknown } | undefined;
  try {
    // A test that outlives its time fails at once; the test body itself cannot be stopped, only abandoned.
    await settleWithin(ms, test.id, () => test.run(ctx));
  } catch (error) {
    failure = { error };
  }
  try {
    await ctx.dispose(options.timeoutMs ?? DEFAULT_TIMEOUT_MS, test.id);
  } catch (error) {
    // The test's own failure says more than what it left behind, but a hang after a hang explains the time taken.
    if (failure?.error instanceof TimeoutError && error instanceof TimeoutError) {
      failure = { error: new TimeoutError(`${failure.error.message}; then ${error.message.replace(`${test.id}: `, '')}`) };
    }
    failure ??= { error };
  }
  if (failure) throw failure.error;
}

/** Checks that every waiver names a real test and gives a reason. */
export function checkWaivers(harness: ConformanceHarness): void {
  const waivers: unknown = harness.waivers ?? {};
  if (waivers === null || typeof waivers !== 'object') throw new HarnessError('harness.waivers must be an object of test id → written reason');
  for (const [id, reason] of Object.entries(waivers)) {
    if (!conformanceTests.some((test) => test.id === id)) throw new HarnessError(`waiver for unknown test id "${id}" (sessionkit-conformance --list shows every id)`);
    if (typeof reason !== 'string' || reason.trim() === '') throw new HarnessError(`waiver for "${id}" needs a written reason`);
  }
}

const HOOKS = ['reopen', 'injectCorruptItem', 'cleanup', 'teardown'] as const;

/**
 * Checks the harness before anything runs: create() and the optional hooks
 * are functions, the waivers name real tests with reasons, the scale is a
 * positive number. Throws a HarnessError saying what is wrong.
 */
export function checkHarness(harness: ConformanceHarness): void {
  if (harness === null || typeof harness !== 'object' || typeof harness.create !== 'function') {
    throw new HarnessError('a harness is an object with a create() method returning a fresh store');
  }
  for (const hook of HOOKS) {
    if (harness[hook] !== undefined && typeof harness[hook] !== 'function') throw new HarnessError(`harness.${hook} must be a function when given`);
  }
  harnessScale(harness);
  checkWaivers(harness);
}

/** Runs `teardown` after a run; a failure there is reported unless the run already failed (its error matters more). */
async function tearDown(harness: ConformanceHarness, runFailed: boolean, ms: number): Promise<void> {
  try {
    await settleWithin(ms, 'teardown()', () => harness.teardown?.());
  } catch (error) {
    if (runFailed) return;
    if (error instanceof TimeoutError) throw new HarnessError(`${(error as Error).message} after the run`);
    throw new HarnessError('teardown() threw after the run', { cause: error });
  }
}

/**
 * Runs the suite without a test framework (the CLI uses this): every
 * selected test, one at a time, into a report.
 */
export async function runConformance(name: string, harness: ConformanceHarness, options: RunOptions = {}): Promise<ConformanceReport> {
  checkHarness(harness);
  if (options.timeoutMs !== undefined) checkTimeout(options.timeoutMs, 'timeoutMs');
  const timeout = options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs };
  const tests = selectTests(options.only);
  const results: TestResult[] = [];
  const baseIds = new Set(conformanceTests.filter(isBaseTest).map((test) => test.id));
  let probed: Awaited<ReturnType<typeof probeStore>>;
  let runFailed = true;
  try {
    probed = await probeStore(harness, timeout);
    if (options.invalidManifest === 'refuse' && probed.manifestProblems.length) {
      throw new HarnessError(`the store's capabilities must each be true or false (or an optional one left out): ${probed.manifestProblems.join('; ')}`);
    }
    const { capabilities } = probed;
    for (const test of tests) {
      const base = { id: test.id, level: test.level, category: categoryOf(test), title: test.title };
      const waiver = harness.waivers?.[test.id];
      const unmet = unmetRequirement(test, harness, capabilities);
      let result: TestResult;
      if (waiver !== undefined) result = { ...base, status: 'waived', reason: waiver, durationMs: 0 };
      else if (unmet !== undefined) result = { ...base, status: 'skipped', reason: unmet, durationMs: 0 };
      else {
        const started = performance.now();
        try {
          await runTest(test, harness, capabilities, timeout);
          result = { ...base, status: 'passed', durationMs: Math.round(performance.now() - started) };
        } catch (error) {
          result = { ...base, status: 'failed', reason: describeError(error), durationMs: Math.round(performance.now() - started) };
        }
      }
      results.push(result);
      options.onResult?.(result);
    }
    runFailed = false;
  } finally {
    await tearDown(harness, runFailed, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  }
  const { capabilities, extended, warnings: probeWarnings } = probed;
  const count = (level: Level, status: TestStatus) => results.filter((r) => r.level === level && r.status === status).length;
  const summary = {
    must: { passed: count('MUST', 'passed'), failed: count('MUST', 'failed') },
    should: { passed: count('SHOULD', 'passed'), failed: count('SHOULD', 'failed') },
    skipped: results.filter((r) => r.status === 'skipped').length,
    waived: results.filter((r) => r.status === 'waived').length,
  };
  const base = results.filter((r) => baseIds.has(r.id) && (r.status === 'passed' || r.status === 'failed'));
  return {
    name,
    capabilities,
    extended,
    base: { passed: base.filter((r) => r.status === 'passed').length, ran: base.length },
    results,
    summary,
    warnings: [...probeWarnings, ...harnessWarnings(harness, capabilities)],
    ok: summary.must.failed === 0,
  };
}
