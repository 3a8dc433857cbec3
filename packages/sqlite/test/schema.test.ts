import Database from 'better-sqlite3';
import { isSessionError, SessionErrorCode } from '@sessionkit/core';
import { CURRENT_SCHEMA_VERSION, SqliteStore } from '@sessionkit/sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from './setup.js';

const temp = tempDir('schema');
afterAll(() => temp.remove());

// The version 1 layout exactly as release 1 writes it, frozen here: if the
// store's DDL ever changes, this file must still open (through a migration).
const V1 = `
  CREATE TABLE "sessionkit_schema" (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL, migrated_at INTEGER NOT NULL);
  CREATE TABLE "sessionkit_sessions" (
    sid INTEGER PRIMARY KEY, session_id TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
    item_count INTEGER NOT NULL DEFAULT 0, last_seq INTEGER NOT NULL DEFAULT 0, last_op INTEGER NOT NULL DEFAULT 0);
  CREATE UNIQUE INDEX "sessionkit_sessions_by_id" ON "sessionkit_sessions" (session_id);
  CREATE INDEX "sessionkit_sessions_by_updated" ON "sessionkit_sessions" (updated_at);
  CREATE TABLE "sessionkit_items" (sid INTEGER NOT NULL, seq INTEGER NOT NULL, item TEXT NOT NULL);
  CREATE UNIQUE INDEX "sessionkit_items_by_session" ON "sessionkit_items" (sid, seq);
  CREATE TABLE "sessionkit_operations" (
    sid INTEGER NOT NULL, op_seq INTEGER NOT NULL, operation_id TEXT NOT NULL, fingerprint TEXT NOT NULL,
    PRIMARY KEY (sid, operation_id)) WITHOUT ROWID;
  CREATE INDEX "sessionkit_operations_by_seq" ON "sessionkit_operations" (sid, op_seq);
  INSERT INTO "sessionkit_schema" VALUES (1, 1, 0);
  INSERT INTO "sessionkit_sessions" VALUES (1, 'user-1', 1000, 2000, 2, 7, 0);
  INSERT INTO "sessionkit_items" VALUES (1, 6, '{"role":"user","content":"hi"}'), (1, 7, '{"role":"assistant","content":"hello"}');
`;

function version(path: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('SELECT version FROM "sessionkit_schema"').pluck().get() as number;
  } finally {
    db.close();
  }
}

describe('schema version', () => {
  it('a new file records the current version', async () => {
    const path = temp.file();
    await new SqliteStore({ path }).close();
    expect(CURRENT_SCHEMA_VERSION).toBe(1);
    expect(version(path)).toBe(CURRENT_SCHEMA_VERSION);
  });

  it('a file written by release 1 opens and its history reads and extends in order', async () => {
    const path = temp.file();
    const raw = new Database(path);
    raw.exec(V1);
    raw.close();
    const store = new SqliteStore({ path });
    expect(await store.getItems('user-1')).toEqual([
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'hello' },
    ]);
    await store.addItems('user-1', [{ role: 'user', content: 'again' }]);
    expect(await store.getItems('user-1', { limit: 2 })).toEqual([
      { role: 'assistant', content: 'hello' },
      { role: 'user', content: 'again' },
    ]);
    expect((await store.getSessionInfo('user-1'))?.createdAt.getTime()).toBe(1000);
    await store.close();
    expect(version(path)).toBe(1);
  });

  it('a file from a newer release is refused with UNSUPPORTED and left untouched', async () => {
    const path = temp.file();
    await new SqliteStore({ path }).close();
    const raw = new Database(path);
    raw.prepare('UPDATE "sessionkit_schema" SET version = ?').run(CURRENT_SCHEMA_VERSION + 1);
    raw.close();
    let error: unknown;
    try {
      new SqliteStore({ path });
    } catch (e) {
      error = e;
    }
    expect(isSessionError(error, SessionErrorCode.Unsupported)).toBe(true);
    expect(String((error as Error).message)).toMatch(/schema version 2/);
    expect(version(path)).toBe(CURRENT_SCHEMA_VERSION + 1);
  });

  it('the version is per prefix: another prefix on the same file is created beside it', async () => {
    const path = temp.file();
    const raw = new Database(path);
    raw.exec(V1);
    raw.close();
    const other = new SqliteStore({ path, tablePrefix: 'other_' });
    expect(await other.getItems('user-1')).toEqual([]);
    await other.close();
    const db = new Database(path, { readonly: true });
    expect(db.prepare('SELECT version FROM "other_schema"').pluck().get()).toBe(CURRENT_SCHEMA_VERSION);
    db.close();
  });

  it('a table of the same name that is not ours is reported, not reused', () => {
    const path = temp.file();
    const raw = new Database(path);
    raw.exec('CREATE TABLE "sessionkit_items" (whatever TEXT)');
    raw.close();
    expect(() => new SqliteStore({ path })).toThrow(expect.objectContaining({ code: SessionErrorCode.BackendError }));
  });

  it('a file that is not a database is CORRUPT_DATA', async () => {
    const path = temp.file();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(path, 'this is not a sqlite database, just some text that is long enough to have a header.'.repeat(20));
    expect(() => new SqliteStore({ path })).toThrow(expect.objectContaining({ code: SessionErrorCode.CorruptData }));
  });
});
