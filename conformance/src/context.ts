import type { SessionStore, StoreCapabilities } from '@sessionkit/core';
import type { ProcessJob, TestContext } from './conformance-test.js';
import type { ConformanceHarness, CreateOptions } from './harness.js';
import { runProcessJobs } from './processes.js';
import { DEFAULT_TIMEOUT_MS, HarnessError, settleWithin } from './setup.js';

/** The harness's scale (default 1); throws unless it is a positive, finite number (runConformance checks it up front). */
export function harnessScale(harness: ConformanceHarness): number {
  const scale = harness.scale ?? 1;
  if (typeof scale !== 'number' || !(scale > 0) || !Number.isFinite(scale)) {
    throw new HarnessError(`harness.scale must be a positive number (1 = default, < 1 for slow backends), got ${typeof scale === 'string' ? JSON.stringify(scale) : String(scale)}`);
  }
  return scale;
}

/** A TestContext that remembers every store it hands out, so `dispose()` closes and cleans them all. */
export class ManagedContext implements TestContext {
  readonly #stores: SessionStore[] = [];
  readonly #created: SessionStore[] = [];
  readonly scale: number;

  constructor(
    readonly harness: ConformanceHarness,
    readonly capabilities: StoreCapabilities,
  ) {
    this.scale = harnessScale(harness);
  }

  n(base: number): number {
    return Math.max(1, Math.round(base * this.scale));
  }

  async create(options?: CreateOptions): Promise<SessionStore> {
    const store = await this.harness.create(options);
    this.#stores.push(store);
    this.#created.push(store);
    return store;
  }

  async reopen(store: SessionStore): Promise<SessionStore> {
    if (!this.harness.reopen) throw new Error('the harness has no reopen');
    const again = await this.harness.reopen(store);
    this.#stores.push(again);
    return again;
  }

  async injectCorruptItem(store: SessionStore, sessionId: string): Promise<void> {
    if (!this.harness.injectCorruptItem) throw new Error('the harness has no injectCorruptItem');
    await this.harness.injectCorruptItem(store, sessionId);
  }

  runProcesses(store: SessionStore, jobs: readonly ProcessJob[]): Promise<unknown[]> {
    if (!this.harness.processes) throw new Error('the harness has no processes');
    return runProcessJobs(this.harness.processes, store, jobs);
  }

  /**
   * Closes every handle (errors ignored: a test may have closed it already),
   * then lets the harness clean up. Each close() and cleanup() has `timeoutMs`;
   * one that never settles fails with `<label>: … did not settle within N ms`,
   * and then cleanup is skipped (the harness is promised closed stores).
   */
  async dispose(timeoutMs = DEFAULT_TIMEOUT_MS, label = 'the test'): Promise<void> {
    let hung: Error | undefined;
    for (const store of this.#stores.splice(0)) {
      const closing = Promise.resolve().then(() => store.close());
      // Closing twice, or a store the test broke on purpose, may fail; only a close that never settles matters here.
      const settled = closing.then(() => true, () => true);
      try {
        await settleWithin(timeoutMs, `${label}: a store's close() after the test`, () => settled);
      } catch (error) {
        hung ??= error as Error;
      }
    }
    if (hung) {
      this.#created.length = 0;
      throw hung;
    }
    for (const store of this.#created.splice(0)) {
      await settleWithin(timeoutMs, `${label}: the harness's cleanup() after the test`, () => this.harness.cleanup?.(store));
    }
  }
}
