import type { Database } from 'better-sqlite3';
import { SessionError, SessionErrorCode } from '@sessionkit/core';

/**
 * The schema version this release writes. A file carries its version in the
 * `<prefix>schema` table; opening a file with an older version runs the
 * missing {@link MIGRATIONS}, a newer one is refused with UNSUPPORTED (an old
 * release must not write a layout it does not know).
 */
export const CURRENT_SCHEMA_VERSION = 1;

/** The quoted names of the store's tables and indexes for one prefix. */
export interface TableNames {
  readonly schema: string;
  readonly sessions: string;
  readonly items: string;
  readonly operations: string;
  readonly sessionsById: string;
  readonly sessionsByUpdated: string;
  readonly itemsBySession: string;
  readonly operationsBySeq: string;
}

/**
 * Table and index names for a validated prefix, double-quoted for SQL. The
 * prefix is checked against TABLE_PREFIX_PATTERN before it gets here, so
 * nothing from outside is ever spliced into SQL unchecked.
 */
export function tableNames(prefix: string): TableNames {
  const q = (name: string) => `"${prefix}${name}"`;
  return {
    schema: q('schema'),
    sessions: q('sessions'),
    items: q('items'),
    operations: q('operations'),
    sessionsById: q('sessions_by_id'),
    sessionsByUpdated: q('sessions_by_updated'),
    itemsBySession: q('items_by_session'),
    operationsBySeq: q('operations_by_seq'),
  };
}

/** One step of the schema: brings a file from `version - 1` to `version`. */
export interface Migration {
  readonly version: number;
  up(db: Database, t: TableNames): void;
}

/**
 * Every schema step, in order. Version 1 creates the layout from nothing.
 * A later release appends steps (never edits a published one), so a file
 * written by any release can be brought forward.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    up(db, t) {
      // One row per session. `sid` is the compact key item rows refer to;
      // item_count, last_seq and last_op are kept in step with the items and
      // operations so counts, appends and log trimming never scan. `epoch`
      // (readChanges) is set when the row is inserted and renewed by every
      // write that is not an append; no default, so a row never lacks one.
      db.exec(`
        CREATE TABLE ${t.sessions} (
          sid INTEGER PRIMARY KEY,
          session_id TEXT NOT NULL,
          created_at INTEGER NOT NULL,
          updated_at INTEGER NOT NULL,
          item_count INTEGER NOT NULL DEFAULT 0,
          last_seq INTEGER NOT NULL DEFAULT 0,
          last_op INTEGER NOT NULL DEFAULT 0,
          epoch TEXT NOT NULL
        );
        CREATE UNIQUE INDEX ${t.sessionsById} ON ${t.sessions} (session_id);
        CREATE INDEX ${t.sessionsByUpdated} ON ${t.sessions} (updated_at);
        CREATE TABLE ${t.items} (
          sid INTEGER NOT NULL,
          seq INTEGER NOT NULL,
          item TEXT NOT NULL
        );
        CREATE UNIQUE INDEX ${t.itemsBySession} ON ${t.items} (sid, seq);
        CREATE TABLE ${t.operations} (
          sid INTEGER NOT NULL,
          op_seq INTEGER NOT NULL,
          operation_id TEXT NOT NULL,
          fingerprint TEXT NOT NULL,
          PRIMARY KEY (sid, operation_id)
        ) WITHOUT ROWID;
        CREATE INDEX ${t.operationsBySeq} ON ${t.operations} (sid, op_seq);
      `);
    },
  },
];

function unquote(name: string): string {
  return name.slice(1, -1);
}

function tableExists(db: Database, quoted: string): boolean {
  return db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(unquote(quoted)) !== undefined;
}

function corruptSchema(t: TableNames, what: string): SessionError {
  return new SessionError(
    SessionErrorCode.CorruptData,
    `sqlite file's ${unquote(t.schema)} table ${what}, so the layout of the store's tables is unknown; ` +
      'it was not written by @sessionkit/sqlite or was edited by hand. Restore the file or use another tablePrefix.',
  );
}

/**
 * The file's schema version for this prefix: 0 when the store's tables do not
 * exist yet. A schema table without its version row counts as fresh only when
 * none of the store's other tables exist (nothing to lose by creating them);
 * beside existing tables it is CORRUPT_DATA, as is a version that is not a
 * positive integer: guessing would run DDL over data of an unknown layout.
 */
export function readSchemaVersion(db: Database, t: TableNames): number {
  if (!tableExists(db, t.schema)) return 0;
  const row = db.prepare(`SELECT version FROM ${t.schema} WHERE id = 1`).safeIntegers(false).get() as
    | { version: unknown }
    | undefined;
  if (row === undefined) {
    if (![t.sessions, t.items, t.operations].some((name) => tableExists(db, name))) return 0;
    throw corruptSchema(t, 'has no version row beside existing tables');
  }
  if (typeof row.version !== 'number' || !Number.isSafeInteger(row.version) || row.version < 1) {
    throw corruptSchema(t, 'holds a version that is not a positive integer');
  }
  return row.version;
}

function refuseNewer(version: number, current: number): SessionError {
  return new SessionError(
    SessionErrorCode.Unsupported,
    `sqlite file has schema version ${version}; this release of @sessionkit/sqlite understands up to ${current}. Upgrade the package.`,
  );
}

/** The version a migration list brings a file to; checks the steps are 1, 2, 3, … in order. */
function latestVersion(migrations: readonly Migration[]): number {
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new Error(`schema migrations must be numbered 1, 2, 3, …: step ${index + 1} says ${migration.version}`);
    }
  });
  return migrations.length;
}

/**
 * Creates or migrates the store's tables. A file already at the current
 * version costs one read and no write lock; otherwise every missing step and
 * the new version run in one IMMEDIATE transaction: processes opening a file
 * at once migrate it exactly once, and a failing step leaves the file as it
 * was. `migrations` is for tests (a later release's steps run against a file
 * of this one); the store always passes {@link MIGRATIONS}.
 */
export function ensureSchema(db: Database, t: TableNames, migrations: readonly Migration[] = MIGRATIONS): void {
  const current = latestVersion(migrations);
  const seen = readSchemaVersion(db, t);
  if (seen === current) return;
  if (seen > current) throw refuseNewer(seen, current);
  db.transaction(() => {
    // Re-read under the write lock: another process may have migrated meanwhile.
    const version = readSchemaVersion(db, t);
    if (version > current) throw refuseNewer(version, current);
    if (version === current) return;
    db.exec(`CREATE TABLE IF NOT EXISTS ${t.schema} (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      version INTEGER NOT NULL,
      migrated_at INTEGER NOT NULL
    )`);
    for (const migration of migrations) {
      if (migration.version > version) migration.up(db, t);
    }
    db.prepare(
      `INSERT INTO ${t.schema} (id, version, migrated_at) VALUES (1, ?, ?)
       ON CONFLICT (id) DO UPDATE SET version = excluded.version, migrated_at = excluded.migrated_at`,
    ).run(current, Date.now());
  }).immediate();
}
