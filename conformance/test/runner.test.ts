import { describe, expect, it } from 'vitest';
import { MemoryStore } from '@sessionkit/core';
import { NO_CAPABILITIES } from '@sessionkit/core/adapter';
import { runConformance, runTest } from '../src/runner.js';
import { HarnessError } from '../src/setup.js';

describe('runTest', () => {
  it('fails a test that outlives its timeout at the deadline, and still disposes of its stores', async () => {
    const store = new MemoryStore();
    const started = Date.now();
    const failure = await runTest(
      {
        id: 'runner.hangs',
        level: 'MUST',
        title: 'never finishes',
        timeout: 50,
        run: async (ctx) => {
          await ctx.create();
          await new Promise(() => {});
        },
      },
      { create: () => store },
      NO_CAPABILITIES,
    ).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toBe('runner.hangs did not settle within 50 ms');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(store.closed).toBe(true);
  });

  it('fails a passing test whose store never closes, at the limit, naming the test', async () => {
    const store = new MemoryStore();
    const hangingClose = Object.assign(Object.create(store) as MemoryStore, { close: () => new Promise<void>(() => {}) });
    let cleaned = false;
    const failure = await runTest(
      { id: 'runner.close-hangs', level: 'MUST', title: 'passes', run: async (ctx) => void (await ctx.create()) },
      { create: () => hangingClose, cleanup: async () => void (cleaned = true) },
      NO_CAPABILITIES,
      { timeoutMs: 50 },
    ).catch((error: unknown) => error);
    expect((failure as Error).message).toBe("runner.close-hangs: a store's close() after the test did not settle within 50 ms");
    // cleanup() is promised closed stores: skipped.
    expect(cleaned).toBe(false);
  });
  it('says so when a test that hung leaves a store that never closes either (the time both took)', async () => {
    const hangingClose = Object.assign(Object.create(new MemoryStore()) as MemoryStore, { close: () => new Promise<void>(() => {}) });
    const failure = await runTest(
      { id: 'runner.both-hang', level: 'MUST', title: 'hangs', run: async (ctx) => void (await ctx.create(), await new Promise(() => {})) },
      { create: () => hangingClose },
      NO_CAPABILITIES,
      { timeoutMs: 30 },
    ).catch((error: unknown) => error);
    expect((failure as Error).message).toBe("runner.both-hang did not settle within 30 ms; then a store's close() after the test did not settle within 30 ms");
  });
});

describe('runConformance with a harness that never settles', () => {
  it('rejects with a HarnessError naming the call, create() or teardown(), and runs no test', async () => {
    const results: unknown[] = [];
    const created = runConformance('x', { create: () => new Promise<never>(() => {}) }, { timeoutMs: 50, onResult: (r) => results.push(r) });
    await expect(created).rejects.toThrow(/^create\(\) did not settle within 50 ms, while the kit opened a store/);
    await expect(created).rejects.toBeInstanceOf(HarnessError);
    expect(results).toEqual([]);
    const teardown = runConformance('x', { create: () => new MemoryStore(), teardown: () => new Promise<never>(() => {}) }, { timeoutMs: 50, only: ['basic.clear'] });
    await expect(teardown).rejects.toThrow('teardown() did not settle within 50 ms after the run');
  });

  it('refuses a time limit setTimeout cannot keep', async () => {
    for (const timeoutMs of [0, -1, 1.5, Number.POSITIVE_INFINITY, 2 ** 31]) {
      await expect(runConformance('x', { create: () => new MemoryStore() }, { timeoutMs })).rejects.toThrow(RangeError);
    }
  });
});
