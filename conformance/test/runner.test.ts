import { describe, expect, it } from 'vitest';
import { MemoryStore } from '@sessionkit/core';
import { NO_CAPABILITIES } from '@sessionkit/core/adapter';
import { runTest } from '../src/runner.js';

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
    expect((failure as Error).message).toBe('runner.hangs did not finish within 50 ms');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(store.closed).toBe(true);
  });
});
