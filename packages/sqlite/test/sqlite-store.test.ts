import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { isSessionError, SessionErrorCode, type SessionInfo } from '@sessionkit/core';
import { SqliteStore } from '@sessionkit/sqlite';
import { tableNames } from '../src/schema.js';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { injectCorruptRow, tempDir } from './setup.js';

const temp = tempDir('store');
afterAll(() => temp.remove());

const open: SqliteStore[] = [];
afterEach(async () => {
  for (const store of open.splice(0)) await store.close();
});

function fileStore(options: Partial<ConstructorParameters<typeof SqliteStore>[0]> = {}, path = temp.file()) {
  const store = new SqliteStore({ path, ...options });
  open.push(store);
  return { store, path };
}

async function rejectsWith(promise: Promise<unknown>, code: string) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isSessionError(error), `expected a SessionError ${code}, got ${String(error)}`).toBe(true);
  expect((error as { code: string }).code).toBe(code);
  return error as Error & { code: string; cause?: unknown };
}

function throwsWith(fn: () => unknown, code: string) {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(isSessionError(caught, code as never), `expected ${code}, got ${String(caught)}`).toBe(true);
}

const msg = (n: number) => ({ role: 'user', content: `message ${n}` });
const count = (path: string, table: 'items' | 'sessions' | 'operations', prefix = 'sessionkit_') => {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare(`SELECT count(*) FROM ${tableNames(prefix)[table]}`).pluck().get() as number);
  } finally {
    db.close();
  }
};

describe('round trips', () => {
  it('stores items exactly and reads them back after reopening the file', async () => {
    const { store, path } = fileStore();
    const items = [
      { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'héllo 👋 \u0000 "quotes" \\ \n' }] },
      { nested: { deep: [1, 2.5, -3, 1e300, null, true, false, ''] }, bytes: new Uint8Array([0, 1, 255]) },
      'a plain string',
      42,
      null,
      { $sk: 'not a tag', ...JSON.parse('{"__proto__": {"polluted": true}}') },
    ];
    await store.addItems('s', items);
    await store.close();
    const reopened = fileStore({}, path).store;
    const read = await reopened.getItems('s');
    expect(read).toEqual(items);
    expect(read[1].bytes).toBeInstanceOf(Uint8Array);
    expect(Object.prototype.hasOwnProperty.call(read[5], '__proto__')).toBe(true);
  });

  it('declares persistence for a file and not for :memory:', () => {
    expect(fileStore().store.capabilities.persistent).toBe(true);
    const memory = new SqliteStore({ path: ':memory:' });
    open.push(memory);
    expect(memory.capabilities.persistent).toBe(false);
    expect(memory.capabilities).toMatchObject({ transactions: true, listSessions: true, sessionInfo: true, prune: true, ttl: true });
  });

  it('works on :memory: with every operation', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    open.push(store);
    await store.addItems('m', [msg(1), msg(2)]);
    expect(await store.popItem('m')).toEqual(msg(2));
    expect(await store.getItems('m')).toEqual([msg(1)]);
    expect((await store.getSessionInfo('m'))?.itemCount).toBe(1);
  });
});

describe('ordering and limit', () => {
  it('returns the newest `limit` items oldest first; undefined returns all; 0 returns []', async () => {
    const { store } = fileStore();
    for (let b = 0; b < 5; b++) await store.addItems('s', [msg(b * 3), msg(b * 3 + 1), msg(b * 3 + 2)]);
    const all = Array.from({ length: 15 }, (_, n) => msg(n));
    expect(await store.getItems('s')).toEqual(all);
    expect(await store.getItems('s', { limit: 1 })).toEqual([msg(14)]);
    expect(await store.getItems('s', { limit: 4 })).toEqual(all.slice(11));
    expect(await store.getItems('s', { limit: 100 })).toEqual(all);
    expect(await store.getItems('s', { limit: 0 })).toEqual([]);
    expect(await store.getItems('missing', { limit: 3 })).toEqual([]);
  });

  it('rejects negative, fractional and non-finite limits with INVALID_ARGUMENT', async () => {
    const { store } = fileStore();
    for (const limit of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      await rejectsWith(store.getItems('s', { limit }), SessionErrorCode.InvalidArgument);
    }
  });

  it('keeps order across pops and appends (the sequence never goes back)', async () => {
    const { store } = fileStore();
    await store.addItems('s', [msg(1), msg(2), msg(3)]);
    expect(await store.popItem('s')).toEqual(msg(3));
    await store.addItems('s', [msg(4)]);
    expect(await store.popItem('s')).toEqual(msg(4));
    expect(await store.popItem('s')).toEqual(msg(2));
    await store.addItems('s', [msg(5), msg(6)]);
    expect(await store.getItems('s')).toEqual([msg(1), msg(5), msg(6)]);
    expect(await store.getItems('s', { limit: 2 })).toEqual([msg(5), msg(6)]);
  });
});

describe('writes', () => {
  it('writes nothing when any item of a batch is invalid', async () => {
    const { store, path } = fileStore();
    await store.addItems('s', [msg(1)]);
    await rejectsWith(store.addItems('s', [msg(2), { bad: () => 1 }]), SessionErrorCode.InvalidItem);
    await rejectsWith(store.addItems('s', [msg(2), { n: Number.NaN }]), SessionErrorCode.InvalidItem);
    expect(await store.getItems('s')).toEqual([msg(1)]);
    expect(count(path, 'items')).toBe(1);
  });

  it('popItem returns undefined on an empty or unknown session', async () => {
    const { store } = fileStore();
    expect(await store.popItem('nobody')).toBeUndefined();
    await store.addItems('s', [msg(1)]);
    expect(await store.popItem('s')).toEqual(msg(1));
    expect(await store.popItem('s')).toBeUndefined();
  });

  it('reports corrupt rows as CORRUPT_DATA and never deletes them by a pop', async () => {
    const { store, path } = fileStore();
    await store.addItems('s', [msg(1)]);
    injectCorruptRow(path, 's');
    await rejectsWith(store.getItems('s'), SessionErrorCode.CorruptData);
    await rejectsWith(store.getItems('s', { limit: 1 }), SessionErrorCode.CorruptData);
    await rejectsWith(store.popItem('s'), SessionErrorCode.CorruptData);
    await rejectsWith(store.popItem('s'), SessionErrorCode.CorruptData);
    expect(count(path, 'items')).toBe(2);
    expect((await store.getSessionInfo('s'))?.itemCount).toBe(2);
    // A suffix comparison over a corrupt item is reported too, and changes nothing.
    await rejectsWith(
      store.applyHistoryTransaction('s', { operationId: 'op', transaction: { type: 'replace_suffix', expectedSuffix: [msg(9)], replacement: [] } }),
      SessionErrorCode.CorruptData,
    );
    expect(count(path, 'items')).toBe(2);
    // Clearing is how a caller deliberately removes it.
    await store.clearSession('s');
    expect(count(path, 'items')).toBe(0);
  });

  it('clearSession removes items, the session row and its operation log, and leaves other sessions alone', async () => {
    const { store, path } = fileStore();
    await store.addItems('a', [msg(1)]);
    await store.addItems('b', [msg(2)]);
    await store.applyHistoryTransaction('a', { operationId: 'op1', transaction: { type: 'append_items', items: [msg(3)] } });
    await store.clearSession('a');
    expect(await store.getItems('a')).toEqual([]);
    expect(await store.getItems('b')).toEqual([msg(2)]);
    expect(count(path, 'operations')).toBe(0);
    expect(count(path, 'sessions')).toBe(1);
    // The forgotten operation id applies again.
    await store.applyHistoryTransaction('a', { operationId: 'op1', transaction: { type: 'append_items', items: [msg(3)] } });
    expect(await store.getItems('a')).toEqual([msg(3)]);
  });
});

describe('history transactions', () => {
  const append = (operationId: string, items: unknown[]) => ({ operationId, transaction: { type: 'append_items' as const, items } });
  const replace = (operationId: string, expectedSuffix: unknown[], replacement: unknown[]) => ({
    operationId,
    transaction: { type: 'replace_suffix' as const, expectedSuffix, replacement },
  });

  it('appends and replaces a suffix (key order ignored), atomically', async () => {
    const { store } = fileStore();
    await store.applyHistoryTransaction('s', append('1', [msg(1), { a: 1, b: 2 }, msg(3)]));
    await store.applyHistoryTransaction('s', replace('2', [{ b: 2, a: 1 }, msg(3)], [{ summary: true }]));
    expect(await store.getItems('s')).toEqual([msg(1), { summary: true }]);
    await store.applyHistoryTransaction('s', replace('3', [msg(1), { summary: true }], []));
    expect(await store.getItems('s')).toEqual([]);
    expect(await store.getSessionInfo('s')).toBeUndefined();
  });

  it('a repeat is a no-op; the same id with another transaction is CONFLICT; a stale suffix is CONFLICT and changes nothing', async () => {
    const { store, path } = fileStore();
    await store.applyHistoryTransaction('s', append('op', [msg(1)]));
    await store.applyHistoryTransaction('s', append('op', [msg(1)]));
    expect(await store.getItems('s')).toEqual([msg(1)]);
    await rejectsWith(store.applyHistoryTransaction('s', append('op', [msg(2)])), SessionErrorCode.Conflict);
    await rejectsWith(store.applyHistoryTransaction('s', replace('r', [msg(7)], [msg(8)])), SessionErrorCode.Conflict);
    await rejectsWith(store.applyHistoryTransaction('s', replace('r2', [msg(0), msg(1)], [])), SessionErrorCode.Conflict);
    expect(await store.getItems('s')).toEqual([msg(1)]);
    // The failed operations were not logged: their ids are still free.
    expect(count(path, 'operations')).toBe(1);
    await store.applyHistoryTransaction('s', replace('r', [msg(1)], [msg(8)]));
    expect(await store.getItems('s')).toEqual([msg(8)]);
  });

  it('the operation log is durable: a repeat after reopening is still a no-op', async () => {
    const { store, path } = fileStore();
    await store.applyHistoryTransaction('s', append('op', [msg(1)]));
    await store.close();
    const again = fileStore({}, path).store;
    await again.applyHistoryTransaction('s', append('op', [msg(1)]));
    expect(await again.getItems('s')).toEqual([msg(1)]);
    await rejectsWith(again.applyHistoryTransaction('s', append('op', [msg(2)])), SessionErrorCode.Conflict);
  });

  it('keeps only the newest operationLogSize ids per session', async () => {
    const { store, path } = fileStore({ operationLogSize: 3 });
    for (let i = 1; i <= 5; i++) await store.applyHistoryTransaction('s', append(`op${i}`, [msg(i)]));
    await store.applyHistoryTransaction('t', append('op1', [msg(1)]));
    expect(count(path, 'operations')).toBe(4);
    // op1 was forgotten on 's' (it applies again), op3..op5 are remembered.
    await store.applyHistoryTransaction('s', append('op5', [msg(5)]));
    await store.applyHistoryTransaction('s', append('op1', [msg(1)]));
    expect(await store.getItems('s')).toEqual([msg(1), msg(2), msg(3), msg(4), msg(5), msg(1)]);
  });

  it('an empty replacement on an unknown session records the operation without creating a listed session', async () => {
    const { store } = fileStore();
    await store.applyHistoryTransaction('s', append('op', []));
    expect(await store.getSessionInfo('s')).toBeUndefined();
    await rejectsWith(store.applyHistoryTransaction('s', append('op', [msg(1)])), SessionErrorCode.Conflict);
  });
});

describe('replaceHistory', () => {
  const append = (operationId: string, items: unknown[]) => ({ operationId, transaction: { type: 'append_items' as const, items } });

  it('is declared, swaps the whole history and renumbers it from a fresh sequence', async () => {
    const { store, path } = fileStore();
    expect(store.capabilities.replaceHistory).toBe(true);
    await store.addItems('s', [msg(1), msg(2), msg(3)]);
    await store.addItems('other', [msg(9)]);
    await store.replaceHistory('s', [{ type: 'compaction', summary: 'x' }, msg(3)]);
    expect(await store.getItems('s')).toEqual([{ type: 'compaction', summary: 'x' }, msg(3)]);
    expect(await store.getItems('s', { limit: 1 })).toEqual([msg(3)]);
    expect(await store.getItems('other')).toEqual([msg(9)]);
    const db = new Database(path, { readonly: true });
    try {
      const seqs = db
        .prepare(`SELECT i.seq FROM ${tableNames('sessionkit_').items} i JOIN ${tableNames('sessionkit_').sessions} s USING (sid) WHERE s.session_id = 's' ORDER BY i.seq`)
        .pluck()
        .all();
      expect(seqs).toEqual([1, 2]);
    } finally {
      db.close();
    }
    await store.addItems('s', [msg(4)]);
    expect(await store.getItems('s')).toEqual([{ type: 'compaction', summary: 'x' }, msg(3), msg(4)]);
    expect((await store.getSessionInfo('s'))?.itemCount).toBe(3);
  });

  it('keeps createdAt and the operation log; an empty session starts a new createdAt', async () => {
    const { store } = fileStore();
    await store.applyHistoryTransaction('s', append('op', [msg(1)]));
    const created = (await store.getSessionInfo('s'))!.createdAt;
    await new Promise((resolve) => setTimeout(resolve, 5));
    await store.replaceHistory('s', [msg(2)]);
    const info = (await store.getSessionInfo('s'))!;
    expect(info.createdAt).toEqual(created);
    expect(info.updatedAt.getTime()).toBeGreaterThan(created.getTime());
    // The replayed operation is still recognised: a no-op, not a second append.
    await store.applyHistoryTransaction('s', append('op', [msg(1)]));
    expect(await store.getItems('s')).toEqual([msg(2)]);
    await rejectsWith(store.applyHistoryTransaction('s', append('op', [msg(3)])), SessionErrorCode.Conflict);

    // Empty items are allowed: the session reads as absent, its log stays.
    await store.replaceHistory('s', []);
    expect(await store.getItems('s')).toEqual([]);
    expect(await store.getSessionInfo('s')).toBeUndefined();
    await store.applyHistoryTransaction('s', append('op', [msg(1)]));
    expect(await store.getItems('s')).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await store.replaceHistory('s', [msg(5)]);
    expect((await store.getSessionInfo('s'))!.createdAt.getTime()).toBeGreaterThan(created.getTime());
  });

  it('on an unknown session creates it', async () => {
    const { store } = fileStore();
    await store.replaceHistory('new', [msg(1)]);
    expect(await store.getItems('new')).toEqual([msg(1)]);
  });

  it('a bad item at the end is refused before anything is written', async () => {
    const { store } = fileStore();
    await store.addItems('s', [msg(1), msg(2)]);
    await rejectsWith(store.replaceHistory('s', [msg(3), { bad: 1n }]), SessionErrorCode.InvalidItem);
    expect(await store.getItems('s')).toEqual([msg(1), msg(2)]);
  });

  it('a failure inside the transaction rolls the delete back', async () => {
    const { store, path } = fileStore();
    await store.addItems('s', [msg(1), msg(2)]);
    // A trigger makes the second insert fail after the delete ran, inside the same transaction.
    const db = new Database(path);
    db.exec(`CREATE TRIGGER fail_second BEFORE INSERT ON ${tableNames('sessionkit_').items} WHEN NEW.seq = 2
      BEGIN SELECT RAISE(ABORT, 'injected'); END`);
    db.close();
    await expect(store.replaceHistory('s', [msg(7), msg(8)])).rejects.toThrow();
    expect(await store.getItems('s')).toEqual([msg(1), msg(2)]);
    expect((await store.getSessionInfo('s'))?.itemCount).toBe(2);
  });

  it('a bound session exposes replaceHistoryWithCompaction', async () => {
    const { store } = fileStore();
    const session = store.session('s');
    await session.addItems([msg(1), msg(2)]);
    expect(typeof session.replaceHistoryWithCompaction).toBe('function');
    await session.replaceHistoryWithCompaction!([{ type: 'compaction', summary: 's' }]);
    expect(await session.getItems()).toEqual([{ type: 'compaction', summary: 's' }]);
  });

  it('is refused after close', async () => {
    const { store } = fileStore();
    await store.close();
    await rejectsWith(store.replaceHistory('s', [msg(1)]), SessionErrorCode.Closed);
  });
});

describe('session info, listing, ttl and prune', () => {
  it('getSessionInfo reports item count and created/updated times; empty sessions have none', async () => {
    const { store } = fileStore();
    const before = Date.now();
    await store.addItems('s', [msg(1), msg(2)]);
    const first = (await store.getSessionInfo('s'))!;
    expect(first.sessionId).toBe('s');
    expect(first.itemCount).toBe(2);
    expect(first.createdAt.getTime()).toBeGreaterThanOrEqual(before);
    expect(first.expiresAt).toBeUndefined();
    await new Promise((r) => setTimeout(r, 5));
    await store.addItems('s', [msg(3)]);
    const second = (await store.getSessionInfo('s'))!;
    expect(second.itemCount).toBe(3);
    expect(second.createdAt).toEqual(first.createdAt);
    expect(second.updatedAt.getTime()).toBeGreaterThan(first.updatedAt.getTime());
    await store.popItem('s');
    await store.popItem('s');
    await store.popItem('s');
    expect(await store.getSessionInfo('s')).toBeUndefined();
    // The first write after the session became empty starts a new createdAt.
    await new Promise((r) => setTimeout(r, 5));
    await store.addItems('s', [msg(4)]);
    expect((await store.getSessionInfo('s'))!.createdAt.getTime()).toBeGreaterThan(first.createdAt.getTime());
  });

  it('listSessions pages with a cursor, yields each non-empty session once, and tolerates writes meanwhile', async () => {
    const { store } = fileStore();
    const ids = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    for (const id of ids) await store.addItems(id, [msg(1)]);
    await store.addItems('empty', [msg(1)]);
    await store.popItem('empty');
    const seen: SessionInfo[] = [];
    for await (const info of store.listSessions({ pageSize: 2 })) {
      seen.push(info);
      // New sessions and deletions during the walk never repeat an id.
      if (seen.length === 1) {
        await store.addItems('0-before-cursor', [msg(1)]);
        await store.addItems('zz-after-cursor', [msg(1)]);
      }
    }
    const seenIds = seen.map((s) => s.sessionId);
    expect(new Set(seenIds).size).toBe(seenIds.length);
    for (const id of [...ids, 'zz-after-cursor']) expect(seenIds).toContain(id);
    expect(seenIds).not.toContain('empty');
    expect(seen.find((s) => s.sessionId === 'a')?.itemCount).toBe(1);
    await expect(async () => {
      for await (const _ of store.listSessions({ pageSize: 0 })) void _;
    }).rejects.toMatchObject({ code: SessionErrorCode.InvalidArgument });
  });

  it('with ttl, an expired session reads as empty before its rows are deleted, and the next write starts it afresh', async () => {
    const { store, path } = fileStore({ ttl: 150 });
    await store.addItems('s', [msg(1), msg(2)]);
    await store.applyHistoryTransaction('s', { operationId: 'op', transaction: { type: 'append_items', items: [msg(3)] } });
    const info = (await store.getSessionInfo('s'))!;
    expect(info.expiresAt!.getTime()).toBe(info.updatedAt.getTime() + 150);
    await new Promise((r) => setTimeout(r, 200));
    expect(await store.getItems('s')).toEqual([]);
    expect(await store.getItems('s', { limit: 1 })).toEqual([]);
    expect(await store.getSessionInfo('s')).toBeUndefined();
    const listed: string[] = [];
    for await (const i of store.listSessions()) listed.push(i.sessionId);
    expect(listed).toEqual([]);
    expect(await store.popItem('s')).toBeUndefined();
    // The pop (a write) deleted the expired rows.
    expect(count(path, 'items')).toBe(0);
    await store.addItems('t', [msg(1)]);
    await new Promise((r) => setTimeout(r, 200));
    expect(count(path, 'items')).toBe(1);
    await store.addItems('t', [msg(9)]);
    expect(await store.getItems('t')).toEqual([msg(9)]);
    // The expired session's operation log went with it.
    await store.applyHistoryTransaction('s', { operationId: 'op', transaction: { type: 'append_items', items: [msg(4)] } });
    expect(await store.getItems('s')).toEqual([msg(4)]);
  });

  it('a write keeps a session alive: ttl counts from the last write', async () => {
    // Generous margins: the second write comes well inside the ttl even on a loaded machine.
    const { store } = fileStore({ ttl: 1500 });
    await store.addItems('s', [msg(1)]);
    await new Promise((r) => setTimeout(r, 900));
    await store.addItems('s', [msg(2)]);
    await new Promise((r) => setTimeout(r, 900));
    expect(await store.getItems('s')).toEqual([msg(1), msg(2)]);
  });

  it('prune deletes sessions last written strictly before the cutoff and counts them', async () => {
    const { store, path } = fileStore();
    await store.addItems('old1', [msg(1)]);
    await store.addItems('old2', [msg(1), msg(2)]);
    await store.applyHistoryTransaction('old2', { operationId: 'x', transaction: { type: 'append_items', items: [] } });
    await new Promise((r) => setTimeout(r, 10));
    await store.addItems('new', [msg(1)]);
    const newInfo = (await store.getSessionInfo('new'))!;
    expect(await store.prune({ olderThan: newInfo.updatedAt })).toBe(2);
    expect(await store.getItems('old2')).toEqual([]);
    expect(await store.getItems('new')).toEqual([msg(1)]);
    expect(count(path, 'operations')).toBe(0);
    expect(await store.prune({ olderThan: new Date(0) })).toBe(0);
    await rejectsWith(store.prune({ olderThan: new Date(Number.NaN) }), SessionErrorCode.InvalidArgument);
  });

  it('prune with a ttl counts only live sessions and sweeps the rows of every expired one, whatever the cutoff', async () => {
    // Only Date is faked: the ttl clock is exact and nothing waits.
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(1_000_000);
      const { store, path } = fileStore({ ttl: 1000 });
      await store.addItems('expired', [msg(1), msg(2)]);
      await store.applyHistoryTransaction('expired', { operationId: 'op', transaction: { type: 'append_items', items: [] } });
      vi.setSystemTime(1_001_500);
      await store.addItems('live-old', [msg(3)]);
      vi.setSystemTime(1_001_600);
      await store.addItems('live-new', [msg(4)]);
      expect(await store.prune({ olderThan: new Date(1_001_600) })).toBe(1);
      expect(count(path, 'sessions')).toBe(1);
      expect(count(path, 'items')).toBe(1);
      expect(count(path, 'operations')).toBe(0);
      expect(await store.getItems('live-new')).toEqual([msg(4)]);
      // An expired session written after the cutoff is swept too, and not counted.
      vi.setSystemTime(1_005_000);
      expect(await store.prune({ olderThan: new Date(0) })).toBe(0);
      expect(count(path, 'sessions')).toBe(0);
      expect(count(path, 'items')).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('prune works through many sessions in chunks', async () => {
    const { store, path } = fileStore();
    for (let i = 0; i < 600; i++) await store.addItems(`s${i}`, [msg(i)]);
    expect(await store.prune({ olderThan: new Date(Date.now() + 1000) })).toBe(600);
    expect(count(path, 'sessions')).toBe(0);
    expect(count(path, 'items')).toBe(0);
  });
});

describe('caller-owned database', () => {
  it('is never closed by the store, keeps its pragmas, and still holds the data', async () => {
    const path = temp.file();
    const db = new Database(path);
    const before = db.pragma('busy_timeout', { simple: true });
    const journal = db.pragma('journal_mode', { simple: true });
    const store = new SqliteStore({ database: db, tablePrefix: 'app_sessions_' });
    await store.addItems('s', [msg(1)]);
    await store.close();
    await store[Symbol.asyncDispose]();
    expect(db.open).toBe(true);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(before);
    expect(db.pragma('journal_mode', { simple: true })).toBe(journal);
    expect(db.prepare(`SELECT count(*) FROM "app_sessions_items"`).pluck().get()).toBe(1);
    await rejectsWith(store.getItems('s'), SessionErrorCode.Closed);
    const second = new SqliteStore({ database: db, tablePrefix: 'app_sessions_', busyTimeout: 1234 });
    expect(db.pragma('busy_timeout', { simple: true })).toBe(1234);
    expect(await second.getItems('s')).toEqual([msg(1)]);
    // The caller closing its handle is reported as CLOSED, not as a backend failure.
    db.close();
    await rejectsWith(second.getItems('s'), SessionErrorCode.Closed);
    throwsWith(() => new SqliteStore({ database: db }), SessionErrorCode.Closed);
    await second.close();
  });
});

describe('caller-owned database settings', () => {
  it('works on a handle that returns BigInt integers by default', async () => {
    const db = new Database(temp.file());
    db.defaultSafeIntegers(true);
    const store = new SqliteStore({ database: db });
    await store.addItems('s', [msg(1), msg(2)]);
    expect(await store.popItem('s')).toEqual(msg(2));
    await store.applyHistoryTransaction('s', { operationId: 'o', transaction: { type: 'append_items', items: [msg(3)] } });
    const info = (await store.getSessionInfo('s'))!;
    expect(info.itemCount).toBe(1 + 1);
    expect(info.createdAt).toBeInstanceOf(Date);
    expect(await store.getItems('s', { limit: 5 })).toEqual([msg(1), msg(3)]);
    await store.close();
    // Reopening reads the schema version correctly through the same BigInt handle.
    const again = new SqliteStore({ database: db });
    expect(await again.getItems('s')).toEqual([msg(1), msg(3)]);
    await again.close();
    db.close();
  });

  it('runs inside a transaction the caller already opened on its handle (as a savepoint)', async () => {
    const db = new Database(temp.file());
    const store = new SqliteStore({ database: db });
    db.exec('BEGIN');
    await store.addItems('s', [msg(1)]);
    db.exec('ROLLBACK');
    expect(await store.getItems('s')).toEqual([]);
    await store.close();
    db.close();
  });
});

describe('options and identifiers', () => {
  it('validates tablePrefix as an identifier before opening anything', () => {
    for (const tablePrefix of ['', '1abc', 'a-b', 'a b', 'x"; DROP TABLE t; --', 'é', `a${'b'.repeat(63)}`, 'a.b']) {
      const path = temp.file();
      throwsWith(() => new SqliteStore({ path, tablePrefix }), SessionErrorCode.InvalidArgument);
      expect(existsSync(path)).toBe(false);
    }
    expect(() => new SqliteStore({ path: ':memory:', tablePrefix: `_${'b'.repeat(62)}` }).close()).not.toThrow();
  });

  it('rejects bad options with INVALID_ARGUMENT', () => {
    throwsWith(() => new SqliteStore({}), SessionErrorCode.InvalidArgument);
    throwsWith(() => new SqliteStore({ path: ':memory:', database: new Database(':memory:') }), SessionErrorCode.InvalidArgument);
    throwsWith(() => new SqliteStore({ path: '' }), SessionErrorCode.InvalidArgument);
    for (const ttl of [0, -1, 1.5]) throwsWith(() => new SqliteStore({ path: ':memory:', ttl }), SessionErrorCode.InvalidArgument);
    throwsWith(() => new SqliteStore({ path: ':memory:', busyTimeout: -1 }), SessionErrorCode.InvalidArgument);
    throwsWith(() => new SqliteStore({ path: ':memory:', maxBusyWait: Number.NaN }), SessionErrorCode.InvalidArgument);
    // The same values MemoryStore refuses (one shared check in core).
    for (const operationLogSize of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '10', null]) {
      throwsWith(() => new SqliteStore({ path: ':memory:', operationLogSize: operationLogSize as never }), SessionErrorCode.InvalidArgument);
    }
    throwsWith(() => new SqliteStore({ path: ':memory:', synchronous: 'off' as never }), SessionErrorCode.InvalidArgument);
  });

  it('two prefixes on one file are separate stores', async () => {
    const path = temp.file();
    const a = fileStore({ tablePrefix: 'a_' }, path).store;
    const b = fileStore({ tablePrefix: 'b_' }, path).store;
    await a.addItems('s', [msg(1)]);
    await b.addItems('s', [msg(2)]);
    expect(await a.getItems('s')).toEqual([msg(1)]);
    expect(await b.getItems('s')).toEqual([msg(2)]);
  });

  it('stores hostile session ids as data: SQL shapes, wildcards, NUL, long and unicode ids stay isolated', async () => {
    const { store, path } = fileStore();
    const ids = [
      "'; DROP TABLE sessionkit_items; --",
      '" OR 1=1 --',
      "x' OR '1'='1",
      'sessionkit_sessions',
      '%',
      '_',
      '*',
      '\\',
      'a\u0000b',
      'a',
      'A',
      ' a',
      '🙂'.repeat(256),
      'x'.repeat(512),
      '$where',
      '../../etc/passwd',
    ];
    for (const [n, id] of ids.entries()) await store.addItems(id, [msg(n)]);
    for (const [n, id] of ids.entries()) expect(await store.getItems(id)).toEqual([msg(n)]);
    expect(await store.getItems('a\u0000')).toEqual([]);
    expect(await store.getItems('ab')).toEqual([]);
    const listed: string[] = [];
    for await (const info of store.listSessions({ pageSize: 3 })) listed.push(info.sessionId);
    expect(listed.sort()).toEqual([...ids].sort());
    expect(count(path, 'items')).toBe(ids.length);
    await store.clearSession('%');
    expect(count(path, 'items')).toBe(ids.length - 1);
    await rejectsWith(store.getItems('x'.repeat(513)), SessionErrorCode.InvalidArgument);
    await rejectsWith(store.getItems(''), SessionErrorCode.InvalidArgument);
    await rejectsWith(store.getItems('\ud800'), SessionErrorCode.InvalidArgument);
  });
});

describe('close', () => {
  it('close() and Symbol.asyncDispose release the file; later calls fail with CLOSED', async () => {
    const path = temp.file();
    const store = new SqliteStore({ path });
    await store.addItems('s', [msg(1)]);
    expect(existsSync(`${path}-wal`)).toBe(true);
    await store[Symbol.asyncDispose]();
    // The last connection closing checkpoints and removes the WAL: the handle is really closed.
    expect(existsSync(`${path}-wal`)).toBe(false);
    expect(store.closed).toBe(true);
    await store.close();
    await rejectsWith(store.getItems('s'), SessionErrorCode.Closed);
    await rejectsWith(store.addItems('s', [msg(2)]), SessionErrorCode.Closed);
    await rejectsWith(store.popItem('s'), SessionErrorCode.Closed);
    await rejectsWith(store.prune({ olderThan: new Date() }), SessionErrorCode.Closed);
    expect(() => store.listSessions()).toThrow(expect.objectContaining({ code: SessionErrorCode.Closed }));
  });
});
