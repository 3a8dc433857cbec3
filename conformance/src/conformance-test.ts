import type { SessionStore, StoreCapabilities } from '@sessionkit/core';
import type { ConformanceHarness, CreateOptions } from './harness.js';

/** MUST: the contract. SHOULD: expected of a good store; a failure is reported but does not fail the CLI. */
export type Level = 'MUST' | 'SHOULD';

/**
 * What a test needs: a capability the store declares, or a harness feature
 * (`reopen`, `processes`, `injectCorruptItem`), or `not:<capability>` for a
 * test of how a store without it behaves. Tests whose needs are not met are
 * reported as skipped with the reason, never as passed.
 */
export type Requirement =
  | keyof StoreCapabilities
  | `not:${keyof StoreCapabilities}`
  | 'reopen'
  | 'processes'
  | 'injectCorruptItem';

/** One append job run by a child process in the cross-process tests. */
export interface AppendJob {
  readonly kind: 'append';
  readonly sessionId: string;
  /** Distinguishes this writer's items: `p<writer>-b<batch>-i<index>`. */
  readonly writer: number;
  readonly batches: number;
  readonly batchSize: number;
}

/**
 * One transaction job: `batches` append_items transactions one after another,
 * with the items of an {@link AppendJob} and operation ids `p<writer>-op<batch>`
 * (two jobs with the same writer apply the same transactions: each must land once).
 */
export interface TransactJob {
  readonly kind: 'transact';
  readonly sessionId: string;
  readonly writer: number;
  readonly batches: number;
  readonly batchSize: number;
}

/** One pop job: pop `count` times and report what came back. */
export interface PopJob {
  readonly kind: 'pop';
  readonly sessionId: string;
  readonly count: number;
}

/**
 * Replaces the session's whole history `rounds` times, alternating between
 * `histories` (message contents), then once with `done`.
 */
export interface ReplaceJob {
  readonly kind: 'replace';
  readonly sessionId: string;
  readonly histories: readonly (readonly string[])[];
  readonly rounds: number;
  readonly done: readonly string[];
}

/**
 * Reads the whole history over and over until it reads `done` (or
 * `maxMs` passed), and reports every read that was not exactly one of
 * `histories` or `done`.
 */
export interface WatchJob {
  readonly kind: 'watch';
  readonly sessionId: string;
  readonly histories: readonly (readonly string[])[];
  readonly done: readonly string[];
  readonly maxMs: number;
}

export type ProcessJob = AppendJob | TransactJob | PopJob | ReplaceJob | WatchJob;

/** What a test gets: fresh stores, reopened handles, child processes, all cleaned up after it. */
export interface TestContext {
  readonly harness: ConformanceHarness;
  /** The harness's scale (default 1). */
  readonly scale: number;
  /** Capabilities of the store under test. */
  readonly capabilities: StoreCapabilities;
  /** A fresh, empty store; closed after the test. */
  create(options?: CreateOptions): Promise<SessionStore>;
  /** A second handle on `store`'s data (needs `reopen`). */
  reopen(store: SessionStore): Promise<SessionStore>;
  /** Writes one undecodable item at the end of a session (needs `injectCorruptItem`). */
  injectCorruptItem(store: SessionStore, sessionId: string): Promise<void>;
  /** Runs each job in its own child process against `store`'s data, all started together (needs `processes`). */
  runProcesses(store: SessionStore, jobs: readonly ProcessJob[]): Promise<unknown[]>;
  /** `base` scaled by the harness's scale, at least 1. */
  n(base: number): number;
}

export interface ConformanceTest {
  /** Stable id, `category.name`: reports, waivers and `--only` use it. */
  readonly id: string;
  readonly level: Level;
  readonly title: string;
  readonly requires?: readonly Requirement[];
  /** Per-test timeout in ms (default 30 000). */
  readonly timeout?: number;
  run(ctx: TestContext): Promise<void>;
}

/** The category of a test: the part of its id before the first dot. */
export function categoryOf(test: Pick<ConformanceTest, 'id'>): string {
  const dot = test.id.indexOf('.');
  return dot === -1 ? test.id : test.id.slice(0, dot);
}

type HarnessFeature = 'reopen' | 'processes' | 'injectCorruptItem';

/** What is lost when a harness leaves a feature out, for skip reasons and warnings. */
const NOT_RUN: Record<HarnessFeature, string> = {
  reopen: 'persistence-across-reopen and two-handle tests not run',
  processes: 'cross-process tests not run',
  injectCorruptItem: 'corrupt-data tests not run',
};

/** Features a store declaring `persistent` must give its harness, or it cannot be checked for what it claims. */
const PERSISTENT_NEEDS: readonly HarnessFeature[] = ['reopen', 'processes'];

function missing(feature: HarnessFeature, capabilities: StoreCapabilities): string {
  const method = feature === 'processes' ? 'processes' : `${feature}()`;
  const advice = capabilities.persistent && PERSISTENT_NEEDS.includes(feature) ? ` (the store declares persistent: give the harness ${method})` : '';
  return `the harness has no ${method}: ${NOT_RUN[feature]}${advice}`;
}

/**
 * Report-level warnings about what a harness leaves unchecked: a persistent
 * store whose harness has no `reopen` or `processes` passes without its
 * persistence or cross-process behaviour ever being tested.
 */
export function harnessWarnings(harness: ConformanceHarness, capabilities: StoreCapabilities): string[] {
  if (!capabilities.persistent) return [];
  return PERSISTENT_NEEDS.filter((feature) => !harness[feature]).map((feature) => missing(feature, capabilities));
}

/** Why `test` cannot run here, or undefined when it can. */
export function unmetRequirement(
  test: ConformanceTest,
  harness: ConformanceHarness,
  capabilities: StoreCapabilities,
): string | undefined {
  for (const need of test.requires ?? []) {
    if (need === 'reopen' || need === 'processes' || need === 'injectCorruptItem') {
      if (!harness[need]) return missing(need, capabilities);
    } else if (need.startsWith('not:')) {
      const capability = need.slice(4) as keyof StoreCapabilities;
      if (capabilities[capability] === true) return `the store declares ${capability}`;
    } else if (capabilities[need as keyof StoreCapabilities] !== true) {
      return `the store does not declare ${need}`;
    }
  }
  return undefined;
}
