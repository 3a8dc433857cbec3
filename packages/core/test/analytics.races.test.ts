import { describe, expect, it } from 'vitest';
import { MemoryStore, withAnalytics, type SessionStore } from '@sessionkit/core';

type Hold = 'answer' | 'commit';

/**
 * The store below, where the named operations are held at a gate each, until
 * `release(op)` (or `release()` for all): `'answer'` commits at once but
 * answers late (a slow network ack, ordinary for any remote backend);
 * `'commit'` waits before it even reaches the store. Deterministic: no timers
 * decide the interleaving. Counts getItems calls.
 */
function gated(inner: MemoryStore, holds: Record<string, Hold>) {
  const gates = new Map<string, { open: Promise<void>; release: () => void }>();
  for (const op of Object.keys(holds)) {
    let release!: () => void;
    const open = new Promise<void>((resolve) => (release = resolve));
    gates.set(op, { open, release });
  }
  const release = (op?: string) => {
    for (const [name, gate] of gates) if (op === undefined || op === name) gate.release();
  };
  const calls = { getItems: 0 };
  const store = new Proxy(inner, {
    get(target, prop) {
      const value = Reflect.get(target, prop) as unknown;
      if (typeof value !== 'function') return value;
      const bound = (value as (...args: unknown[]) => unknown).bind(target);
      return async (...args: unknown[]) => {
        if (prop === 'getItems') calls.getItems++;
        const gate = typeof prop === 'string' ? gates.get(prop) : undefined;
        if (!gate) return bound(...args);
        if (holds[prop as string] === 'commit') await gate.open;
        const result = await bound(...args);
        if (holds[prop as string] === 'answer') await gate.open;
        return result;
      };
    },
  }) as unknown as SessionStore;
  return { store, release, calls };
}

/** Lets every pending microtask and I/O-free continuation run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

const strip = <T extends { firstActivity?: Date; lastActivity?: Date }>(f: T) => ({ ...f, firstActivity: undefined, lastActivity: undefined });

/** Cached figures equal a fresh recount of the store, and the store holds `items`. */
async function expectExact(store: ReturnType<ReturnType<typeof withAnalytics>>, inner: MemoryStore, items: number) {
  expect((await inner.getItems('s')).length).toBe(items);
  const cached = await store.getAnalytics('s');
  expect(cached.items).toBe(items);
  expect(strip(cached)).toEqual(strip(await withAnalytics()(inner).getAnalytics('s')));
}

describe('withAnalytics: resets and recounts racing other writes', () => {
  it('clearSession that commits first but answers after an append: figures follow the store', async () => {
    const inner = new MemoryStore();
    const { store: below, release } = gated(inner, { clearSession: 'answer' });
    const store = withAnalytics()(below);
    await store.addItems('s', [{ role: 'user', content: 'old' }]);
    await store.getAnalytics('s'); // figures cached
    const clear = store.clearSession('s');
    await settle(); // the clear has committed
    await store.addItems('s', [{ role: 'user', content: 'new' }]); // starts and ends while the clear is in flight
    // Meanwhile the figures are of a state the store had (not the old history plus the new item).
    expect((await store.getAnalytics('s')).items).toBe((await inner.getItems('s')).length);
    release();
    await clear;
    await expectExact(store, inner, 1);
  });

  it('clearSession that commits after an append but answers first: figures follow the store', async () => {
    const inner = new MemoryStore();
    const { store: below, release } = gated(inner, { addItems: 'answer' });
    const store = withAnalytics()(below);
    await inner.addItems('s', [{ role: 'user', content: 'old' }]);
    await store.getAnalytics('s');
    const add = store.addItems('s', [{ role: 'user', content: 'new' }]);
    await settle(); // the append has committed, its answer is held
    await store.clearSession('s'); // commits after the append, answers while it is still in flight
    release();
    await add;
    await expectExact(store, inner, 0);
  });

  it('replaceHistory racing an append that starts and ends during it: figures keep the appended item', async () => {
    const inner = new MemoryStore();
    const { store: below, release } = gated(inner, { replaceHistory: 'answer' });
    const store = withAnalytics()(below);
    await store.addItems('s', [{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }]);
    await store.getAnalytics('s');
    const replace = store.replaceHistory('s', [{ role: 'system', content: 'summary' }]);
    await settle();
    await store.addItems('s', [{ role: 'user', content: 'new' }]);
    release();
    await replace;
    await expectExact(store, inner, 2);
    expect((await store.getAnalytics('s')).byRole).toEqual({ system: 1, user: 1 });
  });

  it('getAnalytics after a write resolved never joins a recount that started before it', async () => {
    const inner = new MemoryStore();
    await inner.addItems('s', [{ role: 'user', content: 'a' }]);
    const { store: below, release } = gated(inner, { getItems: 'answer' });
    const store = withAnalytics()(below);
    const first = store.getAnalytics('s'); // recount reads 1 item, its answer is held
    await settle();
    await store.addItems('s', [{ role: 'user', content: 'b' }]); // acknowledged
    const after = store.getAnalytics('s'); // asked after the write resolved
    await settle();
    release();
    expect((await after).items).toBe(2);
    expect((await first).items).toBe(1); // its caller asked before the write: either state is fine
    await expectExact(store, inner, 2); // the outdated recount was not cached
  });

  it('nor one that began while that write was still in flight', async () => {
    const inner = new MemoryStore();
    await inner.addItems('s', [{ role: 'user', content: 'a' }]);
    const { store: below, release } = gated(inner, { addItems: 'commit', getItems: 'answer' });
    const store = withAnalytics()(below);
    const add = store.addItems('s', [{ role: 'user', content: 'b' }]); // sent, not yet committed
    await settle();
    const first = store.getAnalytics('s'); // recount reads 1 item, answer held
    await settle();
    release('addItems');
    await add; // committed and acknowledged while the recount runs
    const after = store.getAnalytics('s');
    await settle();
    release('getItems');
    expect((await after).items).toBe(2);
    expect((await first).items).toBe(1);
    await expectExact(store, inner, 2);
  });

  it('a recount that a write started or ended during is not cached', async () => {
    const inner = new MemoryStore();
    await inner.addItems('s', [{ role: 'user', content: 'a' }]);
    const { store: below, release } = gated(inner, { getItems: 'answer' });
    const store = withAnalytics()(below);
    const first = store.getAnalytics('s'); // reads 1 item, answer held
    await settle();
    await store.addItems('s', [{ role: 'user', content: 'b' }]); // no figures cached yet: nothing to update
    release();
    expect((await first).items).toBe(1);
    await expectExact(store, inner, 2);
  });

  it('a recount asked for again with no write since is shared, not repeated', async () => {
    const inner = new MemoryStore();
    await inner.addItems('s', [{ role: 'user', content: 'a' }]);
    const { store: below, release, calls } = gated(inner, { getItems: 'answer' });
    const store = withAnalytics()(below);
    const one = store.getAnalytics('s');
    const two = store.getAnalytics('s');
    await settle();
    release();
    expect(await one).toEqual(await two);
    expect(calls.getItems).toBe(1);
  });

  it('a clear or replacement with nothing racing it keeps the figures without a recount', async () => {
    const inner = new MemoryStore();
    const { store: below, calls } = gated(inner, {});
    const store = withAnalytics()(below);
    await store.addItems('s', [{ role: 'user', content: 'a' }]);
    await store.getAnalytics('s');
    await store.replaceHistory('s', [{ role: 'system', content: 'summary' }, { role: 'user', content: 'b' }]);
    expect(await store.getAnalytics('s')).toMatchObject({ items: 2, turns: 1, byRole: { system: 1, user: 1 } });
    await store.clearSession('s');
    expect(await store.getAnalytics('s')).toMatchObject({ items: 0, turns: 0 });
    await store.addItems('s', [{ role: 'user', content: 'c' }]);
    expect((await store.getAnalytics('s')).items).toBe(1);
    expect(calls.getItems).toBe(1);
  });
});
