import { describe, expect, it } from 'vitest';
import { Deadlines, withDeadline } from '@sessionkit/core/adapter';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const never = () => new Promise<never>(() => {});
const timedOut = () => new Error('timed out');

describe('Deadlines (one timer for all of an owner’s calls)', () => {
  it('passes results and errors through, and forgets settled calls', async () => {
    const deadlines = new Deadlines(1_000, { onTimeout: timedOut, signal: false });
    expect(await deadlines.run(async () => 7)).toBe(7);
    const failure = new Error('boom');
    await expect(deadlines.run(() => Promise.reject(failure))).rejects.toBe(failure);
    await expect(
      deadlines.run(() => {
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(deadlines.pending).toBe(0);
  });

  it('rejects a call that outlives the deadline, and ignores its late result', async () => {
    const deadlines = new Deadlines(50, { onTimeout: timedOut, signal: false });
    let finish!: (value: string) => void;
    const started = performance.now();
    const call = deadlines.run(() => new Promise<string>((resolve) => (finish = resolve)));
    await expect(call).rejects.toThrow('timed out');
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
    expect(deadlines.pending).toBe(0);
    finish('late');
    await sleep(5);
    expect(deadlines.pending).toBe(0);
  });

  it('times out each hung call at its own deadline while fast calls around it succeed', async () => {
    const deadlines = new Deadlines(80, { onTimeout: timedOut, signal: false });
    const outcomes: string[] = [];
    const track = (name: string, promise: Promise<unknown>) =>
      promise.then(
        () => outcomes.push(`${name} ok`),
        () => outcomes.push(`${name} timeout`),
      );
    const first = track('first', deadlines.run(never));
    for (let i = 0; i < 5; i++) await deadlines.run(async () => i);
    await sleep(40);
    // Started 40 ms after the first: the timer armed for the first must be re-armed for it.
    const second = track('second', deadlines.run(never));
    const started = performance.now();
    await first;
    expect(outcomes).toEqual(['first timeout']);
    expect(await deadlines.run(async () => 'fast')).toBe('fast');
    await second;
    expect(performance.now() - started).toBeGreaterThanOrEqual(60);
    expect(outcomes).toEqual(['first timeout', 'second timeout']);
    expect(deadlines.pending).toBe(0);
  });

  it('a long run of calls settling out of order leaves nothing behind', async () => {
    const deadlines = new Deadlines(5_000, { onTimeout: timedOut, signal: false });
    const calls = Array.from({ length: 3_000 }, (_, i) => deadlines.run(() => sleep(i % 7).then(() => i)));
    expect(deadlines.pending).toBe(3_000);
    const results = await Promise.all(calls);
    expect(results[2_999]).toBe(2_999);
    expect(deadlines.pending).toBe(0);
  });

  it('aborts the signal of a call at its deadline, and reports its late settle once', async () => {
    let late = 0;
    const deadlines = new Deadlines(30, { onTimeout: timedOut, onLateSettle: () => late++ });
    let seen: AbortSignal | undefined;
    let finish!: () => void;
    const call = deadlines.run((signal) => {
      seen = signal;
      return new Promise<void>((resolve) => (finish = resolve));
    });
    expect(seen?.aborted).toBe(false);
    await expect(call).rejects.toThrow('timed out');
    expect(seen?.aborted).toBe(true);
    expect(late).toBe(0);
    finish();
    await sleep(5);
    expect(late).toBe(1);
    // A call that settles in time aborts nothing and is not late.
    let kept: AbortSignal | undefined;
    await deadlines.run(async (signal) => void (kept = signal));
    await sleep(40);
    expect(kept?.aborted).toBe(false);
    expect(late).toBe(1);
  });

  it('signal: false passes no signal', async () => {
    const deadlines = new Deadlines(1_000, { onTimeout: timedOut, signal: false });
    expect(await deadlines.run(async (signal) => signal)).toBeUndefined();
  });
});

describe('withDeadline (one call, its own budget)', () => {
  it('0 means no deadline and no signal', async () => {
    expect(await withDeadline(0, async (signal) => signal, { onTimeout: timedOut })).toBeUndefined();
  });

  it('rejects at the deadline with onTimeout()', async () => {
    await expect(withDeadline(20, never, { onTimeout: timedOut })).rejects.toThrow('timed out');
    expect(await withDeadline(1_000, async () => 'in time', { onTimeout: timedOut })).toBe('in time');
  });
});
