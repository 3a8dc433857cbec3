import { describe, expect, it } from 'vitest';
import { MemoryStore, SessionErrorCode, isSessionError } from '@sessionkit/core';

describe('MemoryStore smoke', () => {
  it('appends, reads the tail, pops and clears', async () => {
    const store = new MemoryStore();
    await store.addItems('a', [{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(await store.getItems('a', { limit: 2 })).toEqual([{ n: 2 }, { n: 3 }]);
    expect(await store.popItem('a')).toEqual({ n: 3 });
    expect(await store.getItems('a')).toEqual([{ n: 1 }, { n: 2 }]);
    await store.clearSession('a');
    expect(await store.getItems('a')).toEqual([]);
  });

  it('rejects an invalid batch before writing any of it', async () => {
    const store = new MemoryStore();
    await expect(store.addItems('a', [{ ok: 1 }, { bad: () => 1 }])).rejects.toMatchObject({
      code: SessionErrorCode.InvalidItem,
    });
    expect(await store.getItems('a')).toEqual([]);
  });

  it('round-trips bytes and tag-shaped keys', async () => {
    const store = new MemoryStore();
    const item = { data: new Uint8Array([0, 1, 255]), trap: { '$sk:bytes': 'AAEC' }, o: { '$sk:obj': { x: 1 } } };
    await store.addItems('a', [item]);
    expect(await store.getItems('a')).toEqual([item]);
  });

  it('throws CLOSED after close', async () => {
    const store = new MemoryStore();
    await store.close();
    const error = await store.getItems('a').catch((e: unknown) => e);
    expect(isSessionError(error, SessionErrorCode.Closed)).toBe(true);
  });
});
