import Database from 'better-sqlite3';
import { isSessionError, SessionErrorCode } from '@sessionkit/core';
import { SqliteStore } from '@sessionkit/sqlite';
import { CURRENT_SCHEMA_VERSION, tableNames } from '../src/schema.js';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureSchema, MIGRATIONS, readSchemaVersion, type Migration } from '../src/schema.js';
import { tempDir } from './setup.js';

const temp = tempDir('schema');
afterAll(() => temp.remove());

// The version 1 layout exactly as release 1 writes it, frozen here: if the
// store's DDL ever changes, this file must still open (through a migration).
const V1 = `
  CREATE TABLE "sessionkit_schema" (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL, migrated_at INTEGER NOT NULL);
  CREATE TABLE "sessionkit_sessions" (
    sid INTEGER PRIMARY KEY, session_id TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
    item_count INTEGER NOT NULL DEFAULT 0, last_seq INTEGER NOT NULL DEFAULT 0, last_op INTEGER NOT NULL DEFAULT 0,
    epoch TEXT NOT NULL);
  CREATE UNIQUE INDEX "sessionkit_sessions_by_id" ON "sessionkit_sessions" (session_id);
  CREATE INDEX "sessionkit_sessions_by_updated" ON "sessionkit_sessions" (updated_at);
  CREATE TABLE "sessionkit_items" (sid INTEGER NOT NULL, seq INTEGER NOT NULL, item TEXT NOT NULL);
  CREATE UNIQUE INDEX "sessionkit_items_by_session" ON "sessionkit_items" (sid, seq);
  CREATE TABLE "sessionkit_operations" (
    sid INTEGER NOT NULL, op_seq INTEGER NOT NULL, operation_id TEXT NOT NULL, fingerprint TEXT NOT NULL,
    PRIMARY KEY (sid, operation_id)) WITHOUT ROWID;
  CREATE INDEX "sessionkit_operations_by_seq" ON "sessionkit_operations" (sid, op_seq);
  INSERT INTO "sessionkit_schema" VALUES (1, 1, 0);
  INSERT INTO "sessionkit_sessions" VALUES (1, 'user-1', 1000, 2000, 2, 7, 0, 'e7a1c3f0-0000-4000-8000-000000000001');
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

// The runner with a later release's steps, against a file this release wrote.
// Internal API: the store always runs MIGRATIONS.
describe('migrations', () => {
  const t = tableNames('sessionkit_');
  const v1File = () => {
    const path = temp.file();
    const raw = new Database(path);
    raw.exec(V1);
    raw.close();
    return path;
  };
  const items = (db: Database.Database) =>
    db.prepare(`SELECT sid, seq, item FROM ${t.items} ORDER BY sid, seq`).all();
  const columns = (db: Database.Database, table: string) =>
    (db.prepare(`SELECT name FROM pragma_table_info(?)`).pluck().all(table) as string[]);

  it('the published list ends at CURRENT_SCHEMA_VERSION, numbered from 1', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(Array.from({ length: CURRENT_SCHEMA_VERSION }, (_, i) => i + 1));
  });

  it('a version 1 file opened with a version 2 list is migrated in one transaction, keeps its data and records 2', async () => {
    const path = v1File();
    const db = new Database(path);
    const before = items(db);
    let inTransaction: boolean | undefined;
    const v2: Migration = {
      version: 2,
      up(d, names) {
        inTransaction = d.inTransaction;
        d.exec(`ALTER TABLE ${names.sessions} ADD COLUMN title TEXT`);
        d.exec(`UPDATE ${names.sessions} SET title = 'migrated'`);
      },
    };
    ensureSchema(db, t, [...MIGRATIONS, v2]);
    expect(inTransaction).toBe(true);
    expect(readSchemaVersion(db, t)).toBe(2);
    expect(items(db)).toEqual(before);
    expect(db.prepare(`SELECT session_id, title, item_count, last_seq FROM ${t.sessions}`).all()).toEqual([
      { session_id: 'user-1', title: 'migrated', item_count: 2, last_seq: 7 },
    ]);
    // Current now: opening again with the same list runs nothing.
    ensureSchema(db, t, [...MIGRATIONS, { version: 2, up: () => expect.unreachable('ran a step twice') }]);
    db.close();
    expect(version(path)).toBe(2);
    // This release (version 1) now refuses the file rather than writing a layout it does not know.
    expect(() => new SqliteStore({ path })).toThrow(expect.objectContaining({ code: SessionErrorCode.Unsupported }));
  });

  it('a failing step rolls every step back: the file stays at version 1 with its data', () => {
    const path = v1File();
    const db = new Database(path);
    const before = items(db);
    const v2: Migration = { version: 2, up: (d, names) => d.exec(`ALTER TABLE ${names.sessions} ADD COLUMN title TEXT`) };
    const v3: Migration = {
      version: 3,
      up(d, names) {
        d.exec(`DELETE FROM ${names.items}`);
        throw new Error('step 3 failed');
      },
    };
    expect(() => ensureSchema(db, t, [...MIGRATIONS, v2, v3])).toThrow('step 3 failed');
    expect(db.inTransaction).toBe(false);
    expect(readSchemaVersion(db, t)).toBe(1);
    expect(columns(db, 'sessionkit_sessions')).not.toContain('title');
    expect(items(db)).toEqual(before);
    db.close();
  });

  it('a store opens the rolled-back file as before', async () => {
    const path = v1File();
    const db = new Database(path);
    const failing: Migration = { version: 2, up: () => { throw new Error('no'); } };
    expect(() => ensureSchema(db, t, [...MIGRATIONS, failing])).toThrow('no');
    db.close();
    const store = new SqliteStore({ path });
    expect(await store.getItems('user-1')).toEqual([
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'hello' },
    ]);
    await store.close();
  });

  it('a list that skips or repeats a version is refused before touching the file', () => {
    const path = v1File();
    const db = new Database(path);
    expect(() => ensureSchema(db, t, [...MIGRATIONS, { version: 3, up: () => undefined }])).toThrow(/numbered/);
    expect(readSchemaVersion(db, t)).toBe(1);
    db.close();
  });
});

describe('a schema table without its version row', () => {
  it('beside the store tables is CORRUPT_DATA with a clear message, and nothing is changed', () => {
    const path = temp.file();
    const raw = new Database(path);
    raw.exec(V1);
    raw.exec('DELETE FROM "sessionkit_schema"');
    raw.close();
    let error: unknown;
    try {
      new SqliteStore({ path });
    } catch (e) {
      error = e;
    }
    expect(isSessionError(error, SessionErrorCode.CorruptData)).toBe(true);
    expect((error as Error).message).toMatch(/sessionkit_schema table has no version row/);
    const db = new Database(path, { readonly: true });
    expect(db.prepare('SELECT count(*) FROM "sessionkit_items"').pluck().get()).toBe(2);
    expect(db.prepare('SELECT count(*) FROM "sessionkit_schema"').pluck().get()).toBe(0);
    db.close();
  });

  it('with no other store table is a fresh file: the tables are created', async () => {
    const path = temp.file();
    const raw = new Database(path);
    raw.exec('CREATE TABLE "sessionkit_schema" (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL, migrated_at INTEGER NOT NULL)');
    raw.close();
    const store = new SqliteStore({ path });
    await store.addItems('s', [{ n: 1 }]);
    expect(await store.getItems('s')).toEqual([{ n: 1 }]);
    await store.close();
    expect(version(path)).toBe(CURRENT_SCHEMA_VERSION);
  });

  it('a version that is not a positive integer is CORRUPT_DATA', () => {
    for (const bad of ["'one'", '0', '1.5']) {
      const path = temp.file();
      const raw = new Database(path);
      raw.exec(V1);
      raw.exec(`UPDATE "sessionkit_schema" SET version = ${bad}`);
      raw.close();
      expect(() => new SqliteStore({ path }), bad).toThrow(expect.objectContaining({ code: SessionErrorCode.CorruptData }));
    }
  });
});
