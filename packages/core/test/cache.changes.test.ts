import { describe, expect, it } from 'vitest';
import {
  MemoryStore,
  SessionErrorCode,
  withCache,
  withEncryption,
  type CallOptions,
  type SessionStore,
} from '@sessionkit/core';
import { ForwardingStore, type HistoryChanges, type HistoryVersion, type StoreOperation } from '@sessionkit/core/adapter';

const item = (n: number) => ({ role: n % 2 ? 'assistant' : 'user', content: `message ${n}` });
const items = (from: number, count: number) => Array.from({ length: count }, (_, i) => item(from + i));
const key = new Uint8Array(32).fill(7);

/** Counts what reaches the store: history reads, and items fetched through readChanges. */
class Counting extends ForwardingStore {
  readonly calls = new Map<string, number>();
  fetched = 0;
  protected override async around<R>(operation: StoreOperation, sessionId: string | undefined, call: () => Promise<R>): Promise<R> {
    this.calls.set(operation, (this.calls.get(operation) ?? 0) + 1);
    const result = await call();
    if (operation === 'readChanges') this.fetched += (result as HistoryChanges).items.length;
    return result;
  }
  count(operation: string): number {
    return this.calls.get(operation) ?? 0;
  }
}

// Two caches over one store stand for two processes, each with its own cache.
function twoProcesses(base: SessionStore = new MemoryStore(), options: Parameters<typeof withCache>[0] = {}) {
  const counting = new Counting(base);
  return { counting, here: withCache({ revalidate: true, ...options })(counting), there: withCache({ revalidate: true, ...options })(base) };
}

describe('withCache revalidate through readChanges', () => {
  it('two reads at once after an append each add the appended items once, whoever appended them', async () => {
    for (const ownAppend of [true, false]) {
      const { here, there } = twoProcesses();
      await here.addItems('s', items(0, 1));
      await here.getItems('s');
      await (ownAppend ? here : there).addItems('s', items(1, 1));
      const [first, second] = await Promise.all([here.getItems('s'), here.getItems('s')]);
      expect(first, `own append: ${ownAppend}`).toEqual(items(0, 2));
      expect(second, `own append: ${ownAppend}`).toEqual(items(0, 2));
      expect(await here.getItems('s')).toEqual(items(0, 2));
      expect(await here.getItems('s', { limit: 2 })).toEqual(items(0, 2));
    }
  });

  it('fetches only what was appended since its version, from its own writes and from other processes', async () => {
    const { here, there, counting } = twoProcesses();
    await there.addItems('s', items(0, 100));
    expect(await here.getItems('s')).toEqual(items(0, 100));
    expect(counting.fetched).toBe(100);
    await there.addItems('s', items(100, 3));
    await here.addItems('s', items(103, 2));
    expect(await here.getItems('s')).toEqual(items(0, 105));
    expect(counting.fetched).toBe(105); // the 5 new items only
    expect(await here.getItems('s', { limit: 2 })).toEqual(items(103, 2));
    expect(counting.fetched).toBe(105);
    expect(counting.count('getItems')).toBe(0);
    expect(here.stats()).toMatchObject({ hits: 2, misses: 1, revalidationFailures: 0 });
  });

  it('needs no clock tolerance: a read right after a write is exact and served from the entry', async () => {
    const { here, counting } = twoProcesses();
    await here.addItems('s', items(0, 2));
    expect(await here.getItems('s')).toEqual(items(0, 2));
    expect(await here.getItems('s')).toEqual(items(0, 2));
    expect(counting.fetched).toBe(2);
    expect(here.stats()).toMatchObject({ hits: 1, misses: 1 });
  });

  it('reads the whole history again after a pop, clear or rewrite elsewhere, even at the same length', async () => {
    const { here, there } = twoProcesses();
    await there.addItems('s', items(0, 3));
    expect(await here.getItems('s')).toEqual(items(0, 3));
    await there.popItem('s');
    await there.addItems('s', [item(9)]);
    expect(await here.getItems('s')).toEqual([item(0), item(1), item(9)]);
    await there.applyHistoryTransaction('s', {
      operationId: 'swap',
      transaction: { type: 'replace_suffix', expectedSuffix: [item(9)], replacement: [item(8)] },
    });
    expect(await here.getItems('s')).toEqual([item(0), item(1), item(8)]);
    await there.replaceHistory('s', items(20, 3));
    expect(await here.getItems('s')).toEqual(items(20, 3));
    await there.clearSession('s');
    expect(await here.getItems('s')).toEqual([]);
    await there.addItems('s', [item(30)]);
    expect(await here.getItems('s')).toEqual([item(30)]);
    expect(here.stats().revalidationFailures).toBe(5);
  });

  it('its own pops, rewrites and clears are seen by its next read', async () => {
    const { here } = twoProcesses();
    await here.addItems('s', items(0, 3));
    await here.getItems('s');
    expect(await here.popItem('s')).toEqual(item(2));
    expect(await here.getItems('s')).toEqual(items(0, 2));
    await here.replaceHistory('s', [item(5)]);
    expect(await here.getItems('s')).toEqual([item(5)]);
    await here.clearSession('s');
    expect(await here.getItems('s')).toEqual([]);
  });

  it('hands out copies: a caller changing what it got changes nothing cached', async () => {
    const { here } = twoProcesses();
    await here.addItems('s', items(0, 2));
    const first = await here.getItems('s');
    (first[0] as { content: string }).content = 'changed';
    await here.addItems('s', [item(2)]);
    const second = await here.getItems('s');
    (second[2] as { content: string }).content = 'changed too';
    expect(await here.getItems('s')).toEqual(items(0, 3));
  });

  it('a session over its byte budget: tail reads from the entry, full reads whole from the store', async () => {
    const { here, counting } = twoProcesses(new MemoryStore(), { maxSessionBytes: 600 });
    await here.addItems('s', items(0, 20));
    expect(await here.getItems('s')).toEqual(items(0, 20));
    await here.addItems('s', [item(20)]);
    expect(await here.getItems('s', { limit: 2 })).toEqual(items(19, 2));
    const fetched = counting.fetched;
    expect(await here.getItems('s')).toEqual(items(0, 21));
    expect(counting.fetched).toBe(fetched + 21);
    expect(await here.getItems('s', { limit: 100 })).toEqual(items(0, 21));
  });

  it('a tail read of a session it does not hold reads only the tail', async () => {
    const { here, there, counting } = twoProcesses();
    await there.addItems('s', items(0, 50));
    expect(await here.getItems('s', { limit: 3 })).toEqual(items(47, 3));
    expect(counting.count('readChanges')).toBe(0);
    expect(counting.count('getItems')).toBe(1);
  });

  it('through withEncryption: appended envelopes are opened where they were sealed, and moved ones fail', async () => {
    const shared = new MemoryStore();
    const encrypted = (store: SessionStore) => withEncryption({ keys: { k: key }, primary: 'k' })(store);
    const { here, there, counting } = twoProcesses(encrypted(shared));
    expect(here.capabilities.readChanges).not.toBe(true); // the cache answers reads itself
    await there.addItems('s', items(0, 4));
    expect(await here.getItems('s')).toEqual(items(0, 4));
    await there.addItems('s', items(4, 2));
    expect(await here.getItems('s')).toEqual(items(0, 6));
    expect(counting.fetched).toBe(6);

    // A backend that answers "appended" with items that skip one: the positions sealed in tell.
    class SkipsOne extends ForwardingStore {
      override async readChanges(sessionId: string, since?: HistoryVersion, options?: CallOptions) {
        const changes = await super.readChanges(sessionId, since, options);
        return changes.whole ? changes : { ...changes, items: changes.items.slice(1) };
      }
    }
    const lying = encrypted(new SkipsOne(shared));
    const { version } = await lying.readChanges!('s');
    await there.addItems('s', items(6, 2));
    await expect(lying.readChanges!('s', version)).rejects.toMatchObject({ code: SessionErrorCode.DecryptionFailed });
  });
});
