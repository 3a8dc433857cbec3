import { describe, expect, it } from 'vitest';
import {
  MemoryStore,
  SessionErrorCode,
  withCache,
  type CacheOptions,
  type GetItemsOptions,
} from '@sessionkit/core';
import { ForwardingStore } from '@sessionkit/core/adapter';

const item = (n: number) => ({ role: n % 2 ? 'assistant' : 'user', content: `message ${n}` });
const items = (from: number, count: number) => Array.from({ length: count }, (_, i) => item(from + i));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Counts the history reads reaching the store (session-info reads are not counted). Overriding getItems hides
 * readChanges, so these caches revalidate through getSessionInfo (cache.changes.test.ts covers readChanges). */
class CountingStore extends ForwardingStore {
  reads = 0;
  override getItems(sessionId: string, options?: GetItemsOptions) {
    this.reads++;
    return super.getItems(sessionId, options);
  }
}

// Two caches over one store stand for two processes, each with its own cache.
function twoProcesses(revalidate: CacheOptions['revalidate'] = { clockToleranceMs: 0 }) {
  const shared = new MemoryStore();
  const counting = new CountingStore(shared);
  return { shared, counting, here: withCache({ revalidate })(counting), there: withCache({ revalidate })(shared) };
}

describe('withCache revalidate (several processes, exact reads)', () => {
  it('answers a repeated read from the cache after one session-info check, without reading the history', async () => {
    const { here, counting } = twoProcesses();
    await here.addItems('s', items(0, 3));
    await sleep(5); // the entry is trusted only if read after the last write's millisecond
    expect(await here.getItems('s')).toEqual(items(0, 3));
    const reads = counting.reads;
    expect(await here.getItems('s')).toEqual(items(0, 3));
    expect(await here.getItems('s', { limit: 1 })).toEqual([item(2)]);
    expect(counting.reads).toBe(reads);
    expect(here.stats()).toMatchObject({ hits: 2, misses: 1, revalidationFailures: 0 });
  });

  it('sees another process’s append, pop and clear at once', async () => {
    const { here, there } = twoProcesses();
    await there.addItems('s', items(0, 2));
    await sleep(5);
    expect(await here.getItems('s')).toEqual(items(0, 2));
    await sleep(5);
    await there.addItems('s', [item(2)]);
    expect(await here.getItems('s')).toEqual(items(0, 3));
    await sleep(5);
    expect(await here.getItems('s')).toEqual(items(0, 3)); // filled again
    expect(await there.popItem('s')).toEqual(item(2));
    expect(await here.getItems('s')).toEqual(items(0, 2));
    await sleep(5);
    expect(await here.getItems('s')).toEqual(items(0, 2));
    await there.clearSession('s');
    expect(await here.getItems('s')).toEqual([]);
    expect(here.stats().revalidationFailures).toBeGreaterThanOrEqual(3);
  });

  it('sees a change that keeps the item count (a replace_suffix elsewhere) through updatedAt', async () => {
    const { here, there } = twoProcesses();
    await there.addItems('s', items(0, 2));
    await sleep(5);
    expect(await here.getItems('s')).toEqual(items(0, 2));
    await sleep(5);
    await there.applyHistoryTransaction('s', {
      operationId: 'swap',
      transaction: { type: 'replace_suffix', expectedSuffix: [item(1)], replacement: [item(9)] },
    });
    expect(await here.getItems('s')).toEqual([item(0), item(9)]);
  });

  it('does not trust what it read within clockToleranceMs of the last write', async () => {
    const { here, counting } = twoProcesses(true); // default tolerance: 1000 ms
    await here.addItems('s', items(0, 2));
    await here.getItems('s');
    await here.getItems('s');
    expect(counting.reads).toBe(2);
    expect(here.stats()).toMatchObject({ hits: 0, misses: 2 });
  });

  it('its own writes keep reads exact: appends drop the entry, a clear leaves a known-empty one', async () => {
    const { here, there } = twoProcesses();
    await here.addItems('s', items(0, 2));
    await sleep(5);
    await here.getItems('s');
    await here.addItems('s', [item(2)]);
    expect(await here.getItems('s')).toEqual(items(0, 3));
    await here.clearSession('s');
    expect(await here.getItems('s')).toEqual([]);
    await there.addItems('s', [item(7)]);
    expect(await here.getItems('s')).toEqual([item(7)]);
  });

  it('replaceHistory: another process’s replacement is seen at once; its own drops the entry (an empty one leaves a known-empty entry)', async () => {
    const { here, there, counting } = twoProcesses();
    await there.addItems('s', items(0, 2));
    await sleep(5);
    expect(await here.getItems('s')).toEqual(items(0, 2));
    await sleep(5);
    // Same item count, different items: updatedAt tells.
    await there.replaceHistory('s', [item(8), item(9)]);
    expect(await here.getItems('s')).toEqual([item(8), item(9)]);
    await sleep(5);
    await here.replaceHistory('s', [item(5)]);
    const reads = counting.reads;
    expect(await here.getItems('s')).toEqual([item(5)]);
    expect(counting.reads).toBe(reads + 1); // its version is the store's to tell: read again
    await here.replaceHistory('s', []);
    expect(await here.getItems('s')).toEqual([]);
    expect(counting.reads).toBe(reads + 1);
    await there.addItems('s', [item(7)]);
    expect(await here.getItems('s')).toEqual([item(7)]);
  });

  it('needs a store with readChanges or session info, and a valid tolerance', () => {
    const noInfo = new ForwardingStore(new MemoryStore(), ['sessionInfo', 'readChanges']);
    expect(() => withCache({ revalidate: true })(new ForwardingStore(new MemoryStore(), ['readChanges']))).not.toThrow();
    expect(() => withCache({ revalidate: true })(new ForwardingStore(new MemoryStore(), ['sessionInfo']))).not.toThrow();
    expect(() => withCache({ revalidate: true })(noInfo)).toThrow(expect.objectContaining({ code: SessionErrorCode.Unsupported }));
    expect(() => withCache({ revalidate: { clockToleranceMs: -1 } })(new MemoryStore())).toThrow(
      expect.objectContaining({ code: SessionErrorCode.InvalidArgument }),
    );
    expect(() => withCache({ revalidate: 'yes' as never })(new MemoryStore())).toThrow(
      expect.objectContaining({ code: SessionErrorCode.InvalidArgument }),
    );
  });
});
