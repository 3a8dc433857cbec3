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
      // operations so counts, appends and log trimming never scan.
      db.exec(`
        CREATE TABLE ${t.sessions} (
          sid INTEGER PRIMARY KEY,
          session_id TEXT NOT NULL,
          created_at INTEGER NOT NULL,
          updated_at INTEGER NOT NULL,
          item_count INTEGER NOT NULL DEFAULT 0,
          last_seq INTEGER NOT NULL DEFAULT 0,
          last_op INTEGER NOT NULL DEFAULT 0
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

/** The file's schema version for this prefix: 0 when the store's tables do not exist yet. */
export function readSchemaVersion(db: Database, t: TableNames): number {
  const exists = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(unquote(t.schema));
  if (!exists) return 0;
  const version = db.prepare(`SELECT version FROM ${t.schema} WHERE id = 1`).pluck().safeIntegers(false).get();
  return typeof version === 'number' ? version : 0;
}

function refuseNewer(version: number): SessionError {
  return new SessionError(
    SessionErrorCode.Unsupported,
    `sqlite file has schema version ${version}; this release of @sessionkit/sqlite understands up to ${CURRENT_SCHEMA_VERSION}. Upgrade the package.`,
  );
}

/**
 * Creates or migrates the store's tables. A file already at the current
 * version costs one read and no write lock; otherwise the steps run in one
 * IMMEDIATE transaction, so processes opening a new file at once create it
 * exactly once.
 */
export function ensureSchema(db: Database, t: TableNames): void {
  const seen = readSchemaVersion(db, t);
  if (seen === CURRENT_SCHEMA_VERSION) return;
  if (seen > CURRENT_SCHEMA_VERSION) throw refuseNewer(seen);
  db.transaction(() => {
    // Re-read under the write lock: another process may have migrated meanwhile.
    const version = readSchemaVersion(db, t);
    if (version > CURRENT_SCHEMA_VERSION) throw refuseNewer(version);
    if (version === CURRENT_SCHEMA_VERSION) return;
    db.exec(`CREATE TABLE IF NOT EXISTS ${t.schema} (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      version INTEGER NOT NULL,
      migrated_at INTEGER NOT NULL
    )`);
    for (const migration of MIGRATIONS) {
      if (migration.version > version) migration.up(db, t);
    }
    db.prepare(
      `INSERT INTO ${t.schema} (id, version, migrated_at) VALUES (1, ?, ?)
       ON CONFLICT (id) DO UPDATE SET version = excluded.version, migrated_at = excluded.migrated_at`,
    ).run(CURRENT_SCHEMA_VERSION, Date.now());
  }).immediate();
}
