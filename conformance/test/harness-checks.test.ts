import { describe, expect, it } from 'vitest';
import { brokenStoreHarness, runConformance, type ConformanceHarness } from '../src/index.js';
import { selectTests } from '../src/runner.js';
import { HarnessError } from '../src/setup.js';

describe('a harness the run cannot start with', () => {
  it('is refused up front, before any store is opened, with a HarnessError saying what is wrong', async () => {
    let created = 0;
    const counting = (extra: Partial<ConformanceHarness>): ConformanceHarness => {
      const inner = brokenStoreHarness();
      return { ...inner, create: (options) => (created++, inner.create(options)), ...extra };
    };
    for (const [extra, message] of [
      [{ scale: 0 }, /^harness\.scale must be a positive number .*got 0$/],
      [{ scale: Number.NaN }, /got NaN$/],
      [{ scale: '1' as unknown as number }, /got "1"$/],
      [{ waivers: { 'no.such-test': 'why' } }, /^waiver for unknown test id "no\.such-test"/],
      [{ waivers: { 'basic.clear': '' } }, /^waiver for "basic\.clear" needs a written reason$/],
      [{ cleanup: 'yes' as unknown as () => Promise<void> }, /^harness\.cleanup must be a function/],
    ] as const) {
      const error = await runConformance('x', counting(extra), { only: ['basic.clear'] }).catch((e: unknown) => e);
      expect(error, JSON.stringify(extra)).toBeInstanceOf(HarnessError);
      expect((error as Error).message).toMatch(message);
    }
    expect(created).toBe(0);
  });

  it('is a HarnessError carrying the cause when create() throws, and teardown still runs', async () => {
    let tornDown = false;
    const cause = new Error('cannot connect to my backend');
    const error = await runConformance('x', {
      create: () => {
        throw cause;
      },
      teardown: async () => {
        tornDown = true;
      },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HarnessError);
    expect((error as Error).message).toMatch(/^create\(\) threw while the kit opened a store/);
    expect((error as Error).cause).toBe(cause);
    expect(tornDown).toBe(true);
  });

  it("refuses a store whose capabilities are not booleans when asked to (the CLI does), and only warns otherwise", async () => {
    const inner = brokenStoreHarness();
    const harness: ConformanceHarness = {
      async create(options) {
        const store = await inner.create(options);
        return Object.defineProperty(store, 'capabilities', { value: { ...store.capabilities, persistent: 1 } });
      },
    };
    const error = await runConformance('x', harness, { only: ['basic.clear'], invalidManifest: 'refuse' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HarnessError);
    expect((error as Error).message).toBe("the store's capabilities must each be true or false (or an optional one left out): persistent is 1 (a number)");
    const report = await runConformance('x', harness, { only: ['basic.capabilities'] });
    expect(report.results[0]?.status).toBe('failed');
    expect(report.warnings[0]).toMatch(/declares persistent as 1 \(a number\)/);
  });
});

describe('a selection of tests', () => {
  it('is refused when an entry matches no test id, naming each such entry', async () => {
    expect(() => selectTests(['basic.clear', 'basci.', 'tx.idempotnt'])).toThrow(new RangeError('only: no test id is or starts with "basci.", "tx.idempotnt"'));
    expect(selectTests(['basic.clear', 'tx.']).length).toBeGreaterThan(2);
    await expect(runConformance('x', brokenStoreHarness(), { only: ['basci.'] })).rejects.toThrow(RangeError);
  });
});
