import { describe, expect, it } from 'vitest';
import { MemoryStore, SessionErrorCode, withEncryption } from '@sessionkit/core';

const keys = { k1: new Uint8Array(32).fill(7) };

describe('withEncryption memory: remembered plaintexts and session lengths', () => {
  it('a remembered plaintext is used only for the exact stored envelope: tampering still fails', async () => {
    const inner = new MemoryStore();
    const store = withEncryption({ keys, primary: 'k1' })(inner);
    await store.addItems('s', [{ content: 'a' }, { content: 'b' }]);
    expect(await store.getItems('s')).toEqual([{ content: 'a' }, { content: 'b' }]);
    const [a, b] = (await inner.getItems('s')) as Record<string, string>[];
    const c = Buffer.from(b!.c!, 'base64');
    c[0] = c[0]! ^ 1;
    for (const changed of [
      { ...b, c: c.toString('base64') },
      { ...b, n: Buffer.alloc(24, 5).toString('base64') },
      { ...b, extra: 1 },
      { ...b, '$sk:enc': 2 },
    ]) {
      await inner.clearSession('s');
      await inner.addItems('s', [a, changed]);
      await expect(store.getItems('s')).rejects.toMatchObject({ code: SessionErrorCode.DecryptionFailed });
    }
    // Swapped positions and another session: not the same authenticated input either.
    await inner.clearSession('s');
    await inner.addItems('s', [b, a]);
    await expect(store.getItems('s')).rejects.toMatchObject({ code: SessionErrorCode.DecryptionFailed });
    await inner.addItems('t', [a, b]);
    await expect(store.getItems('t')).rejects.toMatchObject({ code: SessionErrorCode.DecryptionFailed });
  });

  it('an append on a stale remembered length (another process wrote) conflicts, reads, and lands at the right positions', async () => {
    const inner = new MemoryStore();
    const first = withEncryption({ keys, primary: 'k1' })(inner);
    const second = withEncryption({ keys, primary: 'k1' })(inner);
    await first.addItems('s', [{ content: '1' }]);
    await second.addItems('s', [{ content: '2' }, { content: '3' }]);
    await first.addItems('s', [{ content: '4' }]);
    await second.popItem('s');
    await first.addItems('s', [{ content: '5' }]);
    const expected = [{ content: '1' }, { content: '2' }, { content: '3' }, { content: '5' }];
    expect(await first.getItems('s')).toEqual(expected);
    expect(await second.getItems('s')).toEqual(expected);
    expect((await inner.getItems('s')).map((e) => (e as { p: number }).p)).toEqual([0, 1, 2, 3]);
    await second.clearSession('s');
    await first.addItems('s', [{ content: 'again' }]);
    expect(await second.getItems('s')).toEqual([{ content: 'again' }]);
  });

  it('returns fresh items on every read, with or without the cache; refuses a bad cache size', async () => {
    for (const plaintextCacheBytes of [undefined, 0, 1]) {
      const store = withEncryption({ keys, primary: 'k1', ...(plaintextCacheBytes === undefined ? {} : { plaintextCacheBytes }) })(new MemoryStore());
      await store.addItems('s', [{ content: 'x', list: [1] }]);
      const [first] = (await store.getItems('s')) as { content: string; list: number[] }[];
      first!.list.push(2);
      first!.content = 'changed by the caller';
      expect(await store.getItems('s')).toEqual([{ content: 'x', list: [1] }]);
    }
    for (const bad of [-1, 1.5, '1', Number.NaN]) {
      expect(() => withEncryption({ keys, primary: 'k1', plaintextCacheBytes: bad as number })(new MemoryStore())).toThrow(
        expect.objectContaining({ code: SessionErrorCode.InvalidArgument }),
      );
    }
  });
});
