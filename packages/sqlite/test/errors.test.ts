import Database from 'better-sqlite3';
import { isSessionError, SessionErrorCode } from '@sessionkit/core';
import { SqliteStore } from '@sessionkit/sqlite';
import { mapSqliteError } from '../src/map-error.js';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from './setup.js';

const temp = tempDir('errors');
afterAll(() => temp.remove());

const sqliteError = (code: string, message = 'boom') => Object.assign(new Error(message), { name: 'SqliteError', code });

describe('mapSqliteError', () => {
  it.each([
    ['SQLITE_BUSY', SessionErrorCode.BackendUnavailable],
    ['SQLITE_BUSY_SNAPSHOT', SessionErrorCode.BackendUnavailable],
    ['SQLITE_LOCKED', SessionErrorCode.BackendUnavailable],
    ['SQLITE_CANTOPEN', SessionErrorCode.BackendUnavailable],
    ['SQLITE_IOERR_SHORT_READ', SessionErrorCode.BackendUnavailable],
    ['SQLITE_FULL', SessionErrorCode.BackendUnavailable],
    ['SQLITE_CORRUPT', SessionErrorCode.CorruptData],
    ['SQLITE_NOTADB', SessionErrorCode.CorruptData],
    ['SQLITE_TOOBIG', SessionErrorCode.TooLarge],
    ['SQLITE_READONLY', SessionErrorCode.BackendError],
    ['SQLITE_CONSTRAINT_UNIQUE', SessionErrorCode.BackendError],
    ['SQLITE_ERROR', SessionErrorCode.BackendError],
  ])('%s becomes %s with the driver error as cause and no SQL in the message', (code, expected) => {
    const cause = sqliteError(code, `near "'; DROP TABLE secret-session-id": syntax error`);
    const mapped = mapSqliteError(cause);
    expect(mapped.code).toBe(expected);
    expect(mapped.cause).toBe(cause);
    expect(mapped.message).not.toMatch(/secret-session-id|DROP/);
  });

  it("a path whose directory does not exist is BACKEND_UNAVAILABLE, like SQLite's own CANTOPEN", () => {
    let error: unknown;
    try {
      new SqliteStore({ path: `${temp.file()}-missing-dir/x.db` });
    } catch (caught) {
      error = caught;
    }
    expect(isSessionError(error, SessionErrorCode.BackendUnavailable), String(error)).toBe(true);
    expect((error as Error).message).toMatch(/directory does not exist/);
  });

  it('a closed connection is CLOSED; a SessionError passes through unchanged', () => {
    expect(mapSqliteError(new TypeError('The database connection is not open')).code).toBe(SessionErrorCode.Closed);
    const original = mapSqliteError(sqliteError('SQLITE_FULL'));
    expect(mapSqliteError(original)).toBe(original);
  });
});

describe('a database locked past the bound', () => {
  it('fails with BACKEND_UNAVAILABLE (cause SQLITE_BUSY) after retrying, writes nothing, and recovers once the lock is gone', async () => {
    const path = temp.file();
    const store = new SqliteStore({ path, busyTimeout: 5, maxBusyWait: 300 });
    await store.addItems('s', [{ n: 1 }]);
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE');
    const started = Date.now();
    let error: unknown;
    try {
      await store.addItems('s', [{ n: 2 }]);
    } catch (e) {
      error = e;
    }
    const waited = Date.now() - started;
    other.exec('ROLLBACK');
    expect(isSessionError(error, SessionErrorCode.BackendUnavailable)).toBe(true);
    expect((error as { cause?: { code?: string } }).cause?.code).toMatch(/^SQLITE_BUSY/);
    expect((error as Error).message).not.toMatch(/database is locked/);
    // It retried for about maxBusyWait (it stops when the next backoff, at most 100 ms, would pass it), not once and not forever.
    expect(waited).toBeGreaterThanOrEqual(190);
    expect(waited).toBeLessThan(5000);
    expect(await store.getItems('s')).toEqual([{ n: 1 }]);
    await store.addItems('s', [{ n: 2 }]);
    expect(await store.getItems('s')).toEqual([{ n: 1 }, { n: 2 }]);
    other.close();
    await store.close();
  });

  it('a lock released while the store is retrying is waited out: the write lands', async () => {
    const path = temp.file();
    const store = new SqliteStore({ path, busyTimeout: 1 });
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE');
    // The store's retries yield to the event loop, so this timer can release the lock.
    setTimeout(() => other.exec('ROLLBACK'), 200);
    await store.addItems('s', [{ n: 1 }]);
    expect(await store.getItems('s')).toEqual([{ n: 1 }]);
    other.close();
    await store.close();
  });

  it('a call waiting out a lock on a handle you own stops with CLOSED when the store is closed: nothing lands after close()', async () => {
    const path = temp.file();
    new SqliteStore({ path }).close();
    const own = new Database(path);
    own.pragma('busy_timeout = 1');
    const store = new SqliteStore({ database: own, maxBusyWait: 3000 });
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE');
    const late = store.addItems('late', [{ n: 1 }]).then(
      () => undefined,
      (e: unknown) => e,
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    await store.close();
    other.exec('ROLLBACK');
    const error = await late;
    expect(isSessionError(error, SessionErrorCode.Closed), String(error)).toBe(true);
    expect(own.prepare(`SELECT count(*) AS n FROM sessionkit_items`).get()).toEqual({ n: 0 });
    other.close();
    own.close();
  });

  it('opening a file whose tables are being created elsewhere waits for the lock', () => {
    const path = temp.file();
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE; CREATE TABLE unrelated (x); COMMIT; BEGIN IMMEDIATE');
    const released = Date.now() + 100;
    // The constructor cannot await; with the lock held past maxBusyWait it reports BACKEND_UNAVAILABLE.
    expect(() => new SqliteStore({ path, busyTimeout: 5, maxBusyWait: 50 })).toThrow(
      expect.objectContaining({ code: SessionErrorCode.BackendUnavailable }),
    );
    other.exec('ROLLBACK');
    other.close();
    expect(Date.now()).toBeLessThan(released + 5000);
    const store = new SqliteStore({ path });
    expect(store.capabilities.persistent).toBe(true);
    return store.close();
  });
});
