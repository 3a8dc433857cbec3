import { describe, expect, it } from 'vitest';
import {
  MemoryStore,
  SessionError,
  SessionErrorCode,
  withCache,
  type GetItemsOptions,
  type SessionStore,
} from '@sessionkit/core';

const item = (n: number) => ({ role: n % 2 ? 'assistant' : 'user', content: `message ${n}` });
const items = (from: number, count: number) => Array.from({ length: count }, (_, i) => item(from + i));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A MemoryStore that counts the reads reaching it and can hold a write until released. */
function counted(inner: SessionStore = new MemoryStore()) {
  const reads: (number | undefined)[] = [];
  let gate: Promise<void> | undefined;
  let failNextWrite = false;
  const store: SessionStore = {
    capabilities: inner.capabilities,
    getItems: (s, o?: GetItemsOptions) => {
      reads.push(o?.limit);
      return inner.getItems(s, o);
    },
    addItems: async (s, i) => {
      await gate;
      if (failNextWrite) {
        failNextWrite = false;
        throw new SessionError(SessionErrorCode.BackendUnavailable, 'injected');
      }
      return inner.addItems(s, i);
    },
    popItem: (s) => inner.popItem(s),
    clearSession: (s) => inner.clearSession(s),
    applyHistoryTransaction: (s, a) => inner.applyHistoryTransaction!(s, a),
    replaceHistory: async (s, i) => {
      await gate;
      if (failNextWrite) {
        failNextWrite = false;
        throw new SessionError(SessionErrorCode.BackendUnavailable, 'injected');
      }
      return inner.replaceHistory!(s, i);
    },
    getSessionInfo: (s) => inner.getSessionInfo!(s),
    listSessions: (o) => inner.listSessions!(o),
    prune: (o) => inner.prune!(o),
    close: () => inner.close(),
  };
  return {
    store,
    reads,
    hold() {
      let release!: () => void;
      gate = new Promise((resolve) => (release = resolve));
      return () => {
        gate = undefined;
        release();
      };
    },
    failNextWrite: () => (failNextWrite = true),
  };
}

describe('withCache', () => {
  it('answers repeated full reads from the cache and keeps it exact through appends', async () => {
    const backend = counted();
    const store = withCache()(backend.store);
    await store.addItems('s', items(0, 5));
    expect(await store.getItems('s')).toEqual(items(0, 5));
    expect(await store.getItems('s')).toEqual(items(0, 5));
    expect(await store.getItems('s', { limit: 2 })).toEqual(items(3, 2));
    await store.addItems('s', items(5, 3));
    expect(await store.getItems('s')).toEqual(items(0, 8));
    expect(await store.getItems('s', { limit: 100 })).toEqual(items(0, 8));
    expect(backend.reads).toEqual([undefined]);
    expect(store.stats()).toMatchObject({ hits: 4, misses: 1, sessions: 1 });
    expect(store.stats().hitRate).toBeCloseTo(0.8);
  });

  it('a cached tail serves only limits it covers; a longer limit reads the store', async () => {
    const backend = counted();
    const store = withCache()(backend.store);
    await store.addItems('s', items(0, 10));
    expect(await store.getItems('s', { limit: 4 })).toEqual(items(6, 4));
    expect(await store.getItems('s', { limit: 3 })).toEqual(items(7, 3));
    expect(await store.getItems('s', { limit: 4 })).toEqual(items(6, 4));
    expect(backend.reads).toEqual([4]);
    expect(await store.getItems('s', { limit: 6 })).toEqual(items(4, 6));
    expect(await store.getItems('s')).toEqual(items(0, 10));
    expect(backend.reads).toEqual([4, 6, undefined]);
    // A limit beyond the history length proves the read was the whole history.
    await store.addItems('short', items(0, 2));
    expect(await store.getItems('short', { limit: 50 })).toEqual(items(0, 2));
    expect(await store.getItems('short')).toEqual(items(0, 2));
    expect(backend.reads).toEqual([4, 6, undefined, 50]);
  });

  it('pop and transactions invalidate; clear leaves a known-empty entry', async () => {
    const backend = counted();
    const store = withCache()(backend.store);
    await store.addItems('s', items(0, 3));
    await store.getItems('s');
    expect(await store.popItem('s')).toEqual(item(2));
    expect(await store.getItems('s')).toEqual(items(0, 2));
    await store.applyHistoryTransaction('s', {
      operationId: 'op',
      transaction: { type: 'replace_suffix', expectedSuffix: [item(1)], replacement: [item(9)] },
    });
    expect(await store.getItems('s')).toEqual([item(0), item(9)]);
    await store.clearSession('s');
    expect(await store.getItems('s')).toEqual([]);
    expect(backend.reads).toEqual([undefined, undefined, undefined]);
    await store.addItems('s', [item(5)]);
    expect(await store.getItems('s')).toEqual([item(5)]);
    expect(backend.reads).toHaveLength(3);
  });

  it('replaceHistory writes through: the entry becomes the new history (empty included), reads stay exact without the store', async () => {
    const backend = counted();
    const store = withCache()(backend.store);
    expect(store.capabilities.replaceHistory).toBe(true);
    expect(typeof store.session('s').replaceHistoryWithCompaction).toBe('function');
    await store.addItems('s', items(0, 5));
    await store.getItems('s');
    await store.replaceHistory('s', [item(9), item(10)]);
    expect(await store.getItems('s')).toEqual([item(9), item(10)]);
    expect(await store.getItems('s', { limit: 1 })).toEqual([item(10)]);
    // A session not cached before is known whole after its replacement.
    await store.replaceHistory('fresh', [item(1)]);
    expect(await store.getItems('fresh')).toEqual([item(1)]);
    await store.replaceHistory('s', []);
    expect(await store.getItems('s')).toEqual([]);
    expect(backend.reads).toEqual([undefined]);
    await store.addItems('s', [item(3)]);
    expect(await store.getItems('s')).toEqual([item(3)]);
    expect(await backend.store.getItems('s')).toEqual([item(3)]);
    // A refused replacement (a bad item at the end) changes nothing, in the store or the cache.
    await expect(store.replaceHistory('s', [item(4), { bad: 1n } as never])).rejects.toMatchObject({ code: SessionErrorCode.InvalidItem });
    expect(await store.getItems('s')).toEqual([item(3)]);
  });

  it('a failed or overlapped replacement drops the entry', async () => {
    const backend = counted();
    const store = withCache()(backend.store);
    await store.addItems('s', items(0, 2));
    await store.getItems('s');
    backend.failNextWrite();
    await expect(store.replaceHistory('s', [item(9)])).rejects.toMatchObject({ code: SessionErrorCode.BackendUnavailable });
    expect(await store.getItems('s')).toEqual(items(0, 2));
    expect(backend.reads).toEqual([undefined, undefined]);
    const release = backend.hold();
    const replacing = store.replaceHistory('s', [item(9)]);
    const appending = store.addItems('s', [item(10)]);
    release();
    await Promise.all([replacing, appending]);
    expect(await store.getItems('s')).toEqual(await backend.store.getItems('s'));
    expect(backend.reads.length).toBe(4);
  });

  it('a failed write drops the entry (its outcome may be unknown)', async () => {
    const backend = counted();
    const store = withCache()(backend.store);
    await store.addItems('s', items(0, 2));
    await store.getItems('s');
    backend.failNextWrite();
    await expect(store.addItems('s', [item(2)])).rejects.toMatchObject({ code: SessionErrorCode.BackendUnavailable });
    expect(await store.getItems('s')).toEqual(items(0, 2));
    expect(backend.reads).toEqual([undefined, undefined]);
  });

  it('a read overlapping a write does not fill the cache with what it read', async () => {
    const backend = counted();
    const store = withCache()(backend.store);
    await store.addItems('s', items(0, 2));
    const release = backend.hold();
    const write = store.addItems('s', [item(2)]);
    expect(await store.getItems('s')).toEqual(items(0, 2));
    release();
    await write;
    expect(await store.getItems('s')).toEqual(items(0, 3));
    expect(backend.reads).toEqual([undefined, undefined]);
  });

  it('two overlapping writes drop the entry instead of guessing their order', async () => {
    const backend = counted();
    const store = withCache()(backend.store);
    await store.addItems('s', items(0, 1));
    await store.getItems('s');
    const release = backend.hold();
    const writes = [store.addItems('s', [item(1)]), store.addItems('s', [item(2)])];
    release();
    await Promise.all(writes);
    const history = await store.getItems('s');
    expect(history).toHaveLength(3);
    expect(backend.reads).toHaveLength(2);
  });

  it('returns fresh copies: mutating a result does not change the cache', async () => {
    const store = withCache()(new MemoryStore());
    await store.addItems('s', [{ content: 'a', nested: { n: 1 } }]);
    const first = await store.getItems('s');
    (first[0] as { nested: { n: number } }).nested.n = 99;
    first.push({ content: 'junk' });
    expect(await store.getItems('s')).toEqual([{ content: 'a', nested: { n: 1 } }]);
  });

  it('is bounded by sessions and by bytes, and keeps only a tail of a history larger than maxSessionBytes', async () => {
    const backend = counted();
    const big = { content: 'x'.repeat(1000) };
    const store = withCache({ maxSessions: 3, maxBytes: 20_000, maxSessionBytes: 5_000 })(backend.store);
    for (let s = 0; s < 5; s++) {
      await store.addItems(`s${s}`, [item(s)]);
      await store.getItems(`s${s}`);
    }
    expect(store.stats()).toMatchObject({ sessions: 3, evictions: 2 });
    await store.addItems('big', Array.from({ length: 10 }, () => big));
    expect(await store.getItems('big')).toHaveLength(10);
    expect(store.stats().bytes).toBeLessThanOrEqual(20_000);
    const before = backend.reads.length;
    // ~2 KB per item: only the newest two fit in 5 000 bytes.
    expect(await store.getItems('big', { limit: 2 })).toEqual([big, big]);
    expect(backend.reads.length).toBe(before);
    expect(await store.getItems('big', { limit: 3 })).toHaveLength(3);
    expect(await store.getItems('big')).toHaveLength(10);
    expect(backend.reads.length).toBe(before + 2);
  });

  it('holds a 10,000-item conversation whole with the default budget: every turn reads from the cache', async () => {
    const backend = counted();
    const store = withCache()(backend.store);
    const turnItem = (n: number) => ({ type: 'message', role: 'user', content: [{ type: 'output_text', text: `turn ${n} `.padEnd(300, 'x') }] });
    for (let i = 0; i < 10_000; i += 500) await store.addItems('long', Array.from({ length: 500 }, (_, k) => turnItem(i + k)));
    await store.getItems('long');
    const before = backend.reads.length;
    for (let turn = 0; turn < 3; turn++) {
      const history = await store.getItems('long');
      expect(history).toHaveLength(10_000 + turn * 3);
      await store.addItems('long', [turnItem(-1), turnItem(-2), turnItem(-3)]);
    }
    expect(backend.reads.length).toBe(before);
    expect(store.stats()).toMatchObject({ hits: 3, misses: 1 });
  });

  it('a history over its budget keeps the tail it has: full reads go to the store, tail reads stay hits', async () => {
    const backend = counted();
    const store = withCache({ maxSessionBytes: 4_000 })(backend.store);
    await store.addItems('s', items(0, 100));
    expect(await store.getItems('s')).toEqual(items(0, 100));
    const tail = store.stats().bytes;
    expect(tail).toBeGreaterThan(0);
    expect(tail).toBeLessThanOrEqual(4_000 + 128);
    expect(await store.getItems('s')).toEqual(items(0, 100)); // a miss: only a tail is cached
    expect(store.stats().bytes).toBe(tail);
    const reads = backend.reads.length;
    expect(await store.getItems('s', { limit: 5 })).toEqual(items(95, 5));
    expect(backend.reads.length).toBe(reads);
  });

  it('ttl bounds how long an entry is trusted (other processes may write)', async () => {
    const shared = new MemoryStore();
    const here = withCache({ ttl: 150 })(shared);
    await here.addItems('s', [item(0)]);
    expect(await here.getItems('s')).toEqual([item(0)]);
    await shared.addItems('s', [item(1)]); // another process's write
    expect(await here.getItems('s')).toEqual([item(0)]);
    await sleep(200);
    expect(await here.getItems('s')).toEqual(items(0, 2));
  });

  it('never serves a session the store has expired by its own ttl', async () => {
    const store = withCache()(new MemoryStore({ ttl: 150 }));
    await store.addItems('s', [item(0)]);
    expect(await store.getItems('s')).toEqual([item(0)]);
    await sleep(90);
    await store.addItems('s', [item(1)]);
    expect(await store.getItems('s')).toEqual(items(0, 2));
    await sleep(90);
    expect(await store.getItems('s')).toEqual(items(0, 2));
    await sleep(120);
    expect(await store.getItems('s')).toEqual([]);
  });

  it('prune and invalidate() drop entries', async () => {
    const backend = counted();
    const store = withCache()(backend.store);
    await store.addItems('s', [item(0)]);
    await store.getItems('s');
    expect(await store.prune({ olderThan: new Date(Date.now() + 1000) })).toBe(1);
    expect(await store.getItems('s')).toEqual([]);
    store.invalidate();
    expect(store.stats().sessions).toBe(0);
  });

  it('validates arguments and options before answering from the cache', async () => {
    const store = withCache()(new MemoryStore());
    await store.addItems('s', [item(0)]);
    await store.getItems('s');
    for (const limit of [-1, 1.5, Number.NaN, Infinity]) {
      await expect(store.getItems('s', { limit })).rejects.toMatchObject({ code: SessionErrorCode.InvalidArgument });
    }
    await expect(store.getItems('', {})).rejects.toMatchObject({ code: SessionErrorCode.InvalidArgument });
    expect(await store.getItems('s', { limit: 0 })).toEqual([]);
    for (const options of [{ maxSessions: 0 }, { maxBytes: -1 }, { ttl: 1.5 }, { maxBytes: 10, maxSessionBytes: 20 }]) {
      expect(() => withCache(options)(new MemoryStore())).toThrow(expect.objectContaining({ code: SessionErrorCode.InvalidArgument }));
    }
    await store.close();
    await expect(store.getItems('s')).rejects.toMatchObject({ code: SessionErrorCode.Closed });
  });

  it('matches the store it caches over a random workload (exact limit semantics)', async () => {
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const plain = new MemoryStore();
    const cached = withCache({ maxSessions: 3, maxBytes: 5500, maxSessionBytes: 2000 })(new MemoryStore());
    let next = 0;
    for (let step = 0; step < 3000; step++) {
      const s = `s${random(5)}`;
      const op = random(10);
      if (op < 4) {
        const limit = random(4) === 0 ? undefined : random(12);
        expect(await cached.getItems(s, { limit }), `step ${step}`).toEqual(await plain.getItems(s, { limit }));
      } else if (op < 7) {
        const batch = items(next, 1 + random(3));
        next += batch.length;
        await Promise.all([plain.addItems(s, batch), cached.addItems(s, batch)]);
      } else if (op < 8) {
        expect(await cached.popItem(s)).toEqual(await plain.popItem(s));
      } else if (op < 9) {
        const tail = await plain.getItems(s, { limit: 2 });
        const args = { operationId: `op-${step}`, transaction: { type: 'replace_suffix' as const, expectedSuffix: tail, replacement: [item(next++)] } };
        await plain.applyHistoryTransaction(s, args);
        await cached.applyHistoryTransaction(s, args);
      } else if (random(4) === 0) {
        await Promise.all([plain.clearSession(s), cached.clearSession(s)]);
      }
    }
    // Both paths were exercised: answers from the cache and reads through to the store.
    expect(cached.stats().hits).toBeGreaterThan(20);
    expect(cached.stats().misses).toBeGreaterThan(20);
  });
});
