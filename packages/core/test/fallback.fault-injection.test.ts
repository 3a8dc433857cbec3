import { describe, expect, it } from 'vitest';
import { FaultInjectionStore, withFaults } from '@sessionkit/conformance';
import { MemoryStore, SessionErrorCode, isSessionError } from '@sessionkit/core';
import { msg } from './fallback-harness.js';

// The fault-injection store ships in @sessionkit/conformance; withFallback's tests depend on it, so it is proven here.

describe('FaultInjectionStore', () => {
  it('passes everything through, capabilities included, when no rule is set', async () => {
    const inner = new MemoryStore();
    const store = withFaults(inner);
    expect(store).toBeInstanceOf(FaultInjectionStore);
    expect(store.capabilities).toEqual(inner.capabilities);
    await store.addItems('s', [msg('a')]);
    expect(await store.getItems('s')).toEqual([msg('a')]);
    expect(store.stats().calls).toMatchObject({ addItems: 1, getItems: 1, popItem: 0 });
  });

  it('fails chosen operations with BACKEND_UNAVAILABLE by default, without touching the inner store', async () => {
    const inner = new MemoryStore();
    const store = withFaults(inner);
    store.fail('addItems');
    const error = await store.addItems('s', [msg('a')]).catch((e: unknown) => e);
    expect(isSessionError(error, SessionErrorCode.BackendUnavailable)).toBe(true);
    expect(await inner.getItems('s')).toEqual([]);
    expect(await store.getItems('s')).toEqual([]); // other operations unaffected
    store.heal('addItems');
    await store.addItems('s', [msg('a')]);
    expect(await inner.getItems('s')).toEqual([msg('a')]);
  });

  it('fails with a chosen code, for a number of calls, for one session', async () => {
    const store = withFaults(new MemoryStore());
    store.fail('getItems', { code: SessionErrorCode.CorruptData, times: 2, sessionId: 'x' });
    await expect(store.getItems('y')).resolves.toEqual([]);
    await expect(store.getItems('x')).rejects.toMatchObject({ code: SessionErrorCode.CorruptData });
    await expect(store.getItems('x')).rejects.toMatchObject({ code: SessionErrorCode.CorruptData });
    await expect(store.getItems('x')).resolves.toEqual([]);
    expect(store.rules()).toEqual([]);
    expect(store.stats().failed.getItems).toBe(2);
  });

  it("fails after the inner call with when: 'after' (the write lands, the caller sees an error)", async () => {
    const inner = new MemoryStore();
    const store = withFaults(inner, { rules: [{ fail: 'addItems', when: 'after', times: 1 }] });
    await expect(store.addItems('s', [msg('a')])).rejects.toMatchObject({ code: SessionErrorCode.BackendUnavailable });
    expect(await inner.getItems('s')).toEqual([msg('a')]);
  });

  it('fails with a probability drawn from a seeded RNG: the same seed fails the same calls', async () => {
    const run = async (seed: number) => {
      const store = withFaults(new MemoryStore(), { seed, rules: [{ fail: '*', probability: 0.3 }] });
      const outcome: boolean[] = [];
      for (let i = 0; i < 40; i++) outcome.push(await store.getItems('s').then(() => true, () => false));
      return outcome;
    };
    const a = await run(123);
    expect(await run(123)).toEqual(a);
    expect(await run(124)).not.toEqual(a);
    const failures = a.filter((ok) => !ok).length;
    expect(failures).toBeGreaterThan(3);
    expect(failures).toBeLessThan(25);
  });

  it('delays chosen operations', async () => {
    const store = withFaults(new MemoryStore());
    store.delay('addItems', 60, { times: 1 });
    const started = performance.now();
    await store.addItems('s', [msg('a')]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
    expect(store.stats().delayed.addItems).toBe(1);
  });

  it('hangs chosen operations until released, then performs them', async () => {
    const inner = new MemoryStore();
    const store = withFaults(inner);
    store.hang('addItems');
    let settled = false;
    const pending = store.addItems('s', [msg('a')]).then(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(settled).toBe(false);
    expect(store.pendingHangs).toBe(1);
    expect(await inner.getItems('s')).toEqual([]);
    expect(store.release('addItems')).toBe(1);
    await pending;
    expect(await inner.getItems('s')).toEqual([msg('a')]);
  });

  it('gives up a hang after timeoutMs with BACKEND_UNAVAILABLE, and close() fails hung calls', async () => {
    const inner = new MemoryStore();
    const store = withFaults(inner);
    store.hang('popItem', { timeoutMs: 30, times: 1 });
    await inner.addItems('s', [msg('a')]);
    await expect(store.popItem('s')).rejects.toMatchObject({ code: SessionErrorCode.BackendUnavailable });
    expect(await inner.getItems('s')).toEqual([msg('a')]);
    store.hang('getItems');
    const hung = store.getItems('s');
    await store.close();
    await expect(hung).rejects.toMatchObject({ code: SessionErrorCode.Closed });
  });

  it('faults listSessions when iteration starts, and heals rules by id', async () => {
    const store = withFaults(new MemoryStore());
    await store.addItems('s', [msg('a')]);
    const id = store.fail('listSessions');
    const iterate = async () => {
      const ids: string[] = [];
      for await (const info of store.listSessions()) ids.push(info.sessionId);
      return ids;
    };
    await expect(iterate()).rejects.toMatchObject({ code: SessionErrorCode.BackendUnavailable });
    store.heal(id);
    expect(await iterate()).toEqual(['s']);
  });

  it('only rules that take effect use their times: rules after the deciding fail wait for a later call', async () => {
    const store = withFaults(new MemoryStore());
    store.fail('getItems', { times: 1, code: SessionErrorCode.CorruptData });
    store.fail('getItems', { times: 1 });
    store.delay('getItems', 1, { times: 1 });
    await expect(store.getItems('s')).rejects.toMatchObject({ code: SessionErrorCode.CorruptData });
    expect(store.stats().delayed.getItems).toBe(0);
    await expect(store.getItems('s')).rejects.toMatchObject({ code: SessionErrorCode.BackendUnavailable });
    expect(store.stats().delayed.getItems).toBe(0);
    await expect(store.getItems('s')).resolves.toEqual([]);
    expect(store.stats().delayed.getItems).toBe(1);
    expect(store.rules()).toEqual([]);
  });

  it('heal(id) releases the calls that rule hung, and only those', async () => {
    const inner = new MemoryStore();
    const store = withFaults(inner);
    const getHang = store.hang('getItems');
    store.hang('addItems');
    const adding = store.addItems('s', [msg('a')]);
    const reading = store.getItems('t');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(store.pendingHangs).toBe(2);
    store.heal(getHang);
    await expect(reading).resolves.toEqual([]);
    expect(store.pendingHangs).toBe(1);
    expect(await inner.getItems('s')).toEqual([]);
    store.heal('addItems');
    await adding;
    expect(await inner.getItems('s')).toEqual([msg('a')]);
  });

  it('refuses malformed rules', () => {
    const store = withFaults(new MemoryStore());
    expect(() => store.fail('nope' as any)).toThrow(/unknown fault operation/);
    expect(() => store.fail('*', { times: 0 })).toThrow(/times/);
    expect(() => store.fail('*', { probability: 2 })).toThrow(/probability/);
    expect(() => store.delay('*', -1)).toThrow(/ms/);
  });
});
