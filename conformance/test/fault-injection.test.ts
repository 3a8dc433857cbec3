import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryStore, SessionErrorCode, isSessionError, type SessionErrorCode as Code } from '@sessionkit/core';
import { withFaults } from '../src/index.js';

const msg = (text: string) => ({ role: 'user', content: text });
const outcome = (call: Promise<unknown>) =>
  call.then(
    () => 'ok',
    (error: unknown) => (isSessionError(error) ? error.code : String(error)),
  );

describe('FaultInjectionStore waits', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('refuses a delay or hang timeout setTimeout cannot wait, instead of firing after 1 ms', () => {
    const store = withFaults(new MemoryStore());
    for (const ms of [2 ** 31, 3e9, Number.POSITIVE_INFINITY, Number.NaN, -1, '5' as unknown as number]) {
      expect(() => store.delay('getItems', ms), `delay ${ms}`).toThrow(expect.objectContaining({ code: SessionErrorCode.InvalidArgument }));
    }
    for (const timeoutMs of [2 ** 31, 3e9, Number.NaN, -1]) {
      expect(() => store.hang('getItems', { timeoutMs }), `timeoutMs ${timeoutMs}`).toThrow(expect.objectContaining({ code: SessionErrorCode.InvalidArgument }));
    }
    expect(store.rules()).toEqual([]);
    store.delay('getItems', 2 ** 31 - 1);
    store.hang('getItems', { timeoutMs: 2 ** 31 - 1 });
    expect(store.rules()).toHaveLength(2);
  });

  it('reads hang timeoutMs Infinity as no timeout: the call waits for release()', async () => {
    vi.useFakeTimers();
    const store = withFaults(new MemoryStore());
    store.hang('getItems', { timeoutMs: Number.POSITIVE_INFINITY });
    expect(store.rules()[0]).not.toHaveProperty('timeoutMs');
    let settled = false;
    const reading = store.getItems('s').finally(() => (settled = true));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(settled).toBe(false);
    expect(store.pendingHangs).toBe(1);
    expect(store.release()).toBe(1);
    await expect(reading).resolves.toEqual([]);
  });

  it('waits out the longest delay it accepts (2^31 - 1 ms), not 1 ms', async () => {
    vi.useFakeTimers();
    const store = withFaults(new MemoryStore());
    store.delay('getItems', 2 ** 31 - 1);
    let settled = false;
    const reading = store.getItems('s').finally(() => (settled = true));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(2 ** 31);
    await expect(reading).resolves.toEqual([]);
  });
});

describe('FaultInjectionStore fail', () => {
  it('accepts only SessionErrorCode values as code, and only before or after as when', async () => {
    const store = withFaults(new MemoryStore());
    expect(() => store.fail('getItems', { code: 'NOPE' as Code })).toThrow(expect.objectContaining({ code: SessionErrorCode.InvalidArgument }));
    expect(() => store.fail('getItems', { when: 'later' as 'after' })).toThrow(expect.objectContaining({ code: SessionErrorCode.InvalidArgument }));
    expect(() => withFaults(new MemoryStore(), { rules: [{ fail: 'getItems', code: 'NOPE' as Code }] })).toThrow(/code must be a SessionErrorCode/);
    expect(store.rules()).toEqual([]);
    await expect(store.getItems('s')).resolves.toEqual([]);
    for (const code of Object.values(SessionErrorCode)) {
      store.fail('getItems', { code, times: 1 });
      expect(await outcome(store.getItems('s'))).toBe(code);
    }
  });
});

describe('FaultInjectionStore arguments', () => {
  const invalid = expect.objectContaining({ code: SessionErrorCode.InvalidArgument });

  it('refuses a malformed target, options or plan with INVALID_ARGUMENT (not a TypeError), adding no rule', () => {
    const store = withFaults(new MemoryStore());
    expect(() => store.fail(5 as never)).toThrow(invalid);
    expect(() => store.fail({} as never)).toThrow(invalid);
    expect(() => store.fail([])).toThrow(/at least one operation/);
    expect(() => store.delay([], 10)).toThrow(invalid);
    expect(() => store.hang([])).toThrow(invalid);
    expect(() => store.fail('getItems', null as never)).toThrow(invalid);
    expect(() => store.delay('getItems', 10, null as never)).toThrow(invalid);
    expect(() => store.hang('getItems', null as never)).toThrow(invalid);
    expect(store.rules()).toEqual([]);
    expect(() => withFaults(new MemoryStore(), null as never)).toThrow(invalid);
    expect(() => withFaults(new MemoryStore(), { rules: {} as never })).toThrow(/rules must be an array/);
    expect(() => withFaults(new MemoryStore(), { rules: [null as never] })).toThrow(invalid);
    expect(() => withFaults(new MemoryStore(), { rules: [{ times: 1 } as never] })).toThrow(/needs fail, delay or hang/);
  });
});

describe('FaultInjectionStore heal(operations)', () => {
  it("heals those operations and no other: a '*' rule keeps failing the rest", async () => {
    const store = withFaults(new MemoryStore());
    store.fail('*');
    store.heal('addItems');
    expect(await outcome(store.addItems('s', [msg('a')]))).toBe('ok');
    expect(await outcome(store.getItems('s'))).toBe(SessionErrorCode.BackendUnavailable);
    expect(await outcome(store.popItem('s'))).toBe(SessionErrorCode.BackendUnavailable);
    expect(store.rules()).toHaveLength(1);
    expect(store.rules()[0]!.operations).not.toContain('addItems');
    store.heal('*');
    expect(store.rules()).toEqual([]);
    expect(await outcome(store.getItems('s'))).toBe('ok');
  });

  it('narrows a rule on a list of operations, removes one left with none, and releases only the healed calls', async () => {
    const store = withFaults(new MemoryStore());
    const listed = store.hang(['getItems', 'popItem']);
    store.fail('addItems');
    const reading = store.getItems('s');
    const popping = store.popItem('s');
    await new Promise((resolve) => setTimeout(resolve, 10));
    store.heal('getItems');
    await expect(reading).resolves.toEqual([]);
    expect(store.pendingHangs).toBe(1);
    expect(store.rules().map((rule) => [rule.id, rule.operations])).toEqual([
      [listed, ['popItem']],
      [listed + 1, ['addItems']],
    ]);
    store.heal(['popItem', 'addItems']);
    await expect(popping).resolves.toBeUndefined();
    expect(store.rules()).toEqual([]);
  });
});
