import { describe, expect, it } from 'vitest';
import { isSessionError, MemoryStore, SessionErrorCode } from '@sessionkit/core';

function optionError(options: object): unknown {
  try {
    new MemoryStore(options);
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('MemoryStore options', () => {
  it('refuses an operationLogSize that is not a positive integer, as every adapter does', () => {
    for (const operationLogSize of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '10', null]) {
      const error = optionError({ operationLogSize });
      expect(isSessionError(error, SessionErrorCode.InvalidArgument), String(operationLogSize)).toBe(true);
      expect((error as Error).message).toMatch(/operationLogSize must be a positive integer/);
    }
  });

  it('listSessions takes null options as none (from JavaScript) and refuses a bad pageSize with INVALID_ARGUMENT', async () => {
    const store = new MemoryStore();
    await store.addItems('s', [{ n: 1 }]);
    const ids: string[] = [];
    for await (const info of store.listSessions(null as never)) ids.push(info.sessionId);
    expect(ids).toEqual(['s']);
    for (const pageSize of [0, 1.5, '10']) {
      let error: unknown;
      try {
        store.listSessions({ pageSize: pageSize as never });
      } catch (caught) {
        error = caught;
      }
      expect(isSessionError(error, SessionErrorCode.InvalidArgument), String(pageSize)).toBe(true);
    }
  });

  it('keeps the newest operationLogSize ids: a repeat inside the window is a no-op, one beyond it applies again', async () => {
    const store = new MemoryStore({ operationLogSize: 2 });
    const append = (operationId: string, n: number) =>
      store.applyHistoryTransaction('s', { operationId, transaction: { type: 'append_items', items: [{ n }] } });
    await append('a', 1);
    await append('b', 2);
    await append('b', 2);
    expect(await store.getItems('s')).toEqual([{ n: 1 }, { n: 2 }]);
    await append('c', 3); // 'a' leaves the log
    await append('a', 1);
    expect(await store.getItems('s')).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }, { n: 1 }]);
    expect(new MemoryStore().capabilities.transactions).toBe(true);
  });
});
