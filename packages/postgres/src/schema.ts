import type { Pool, PoolClient } from 'pg';
import { SessionError, SessionErrorCode } from '@sessionkit/core';
import { retryOnConflict } from '@sessionkit/core/adapter';

/**
 * The schema version this release writes, kept in `<prefix>schema_version`.
 * Older databases run the missing {@link MIGRATIONS}; a newer one is refused
 * with UNSUPPORTED (an old release must not write a layout it does not know).
 */
export const CURRENT_SCHEMA_VERSION = 1;

/** Quoted, schema-qualified names of the store's tables and indexes. */
export interface TableNames {
  readonly schema: string;
  readonly version: string;
  readonly sessions: string;
  readonly items: string;
  readonly operations: string;
  /** Bare index names (indexes live in their table's schema). */
  readonly sessionsByUpdated: string;
  readonly operationsBySeq: string;
}

/**
 * Names for a validated schema and prefix. Both are checked against their
 * patterns before they get here, so nothing from outside reaches SQL text
 * unchecked; quoting keeps case and shields reserved words.
 */
export function tableNames(schema: string, prefix: string): TableNames {
  const q = (name: string) => `"${schema}"."${prefix}${name}"`;
  return {
    schema: `"${schema}"`,
    version: q('schema_version'),
    sessions: q('sessions'),
    items: q('items'),
    operations: q('operations'),
    sessionsByUpdated: `"${prefix}sessions_by_updated"`,
    operationsBySeq: `"${prefix}operations_by_seq"`,
  };
}

/** One step of the schema: brings a database from `version - 1` to `version`. */
export interface Migration {
  readonly version: number;
  /** Statements run in order inside the migration transaction. */
  statements(t: TableNames): string[];
}

/**
 * Every schema step, in order. Version 1 creates the layout from nothing.
 * Later releases append steps, never edit a published one.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    statements: (t) => [
      // One row per session. session_id is bytea (UTF-8 of the id): PostgreSQL
      // text cannot hold U+0000, which is a valid session id. sid is the compact
      // key item rows refer to. item_count and last_seq move with every write so
      // counts and appends never scan; seq is never reused within a sid.
      // base_seq / base_op: items and operations at or below them belong to a
      // life of the session that expired (deleted in the statement that revives it).
      // epoch (readChanges): core's newEpoch(), sent by the writer; set when the row is
      // created or a life starts, renewed by every write that is not an append. No
      // default: a statement that forgets it fails instead of writing a shared value.
      `CREATE TABLE IF NOT EXISTS ${t.sessions} (
        sid bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        session_id bytea NOT NULL UNIQUE,
        created_at bigint NOT NULL,
        updated_at bigint NOT NULL,
        item_count integer NOT NULL DEFAULT 0,
        last_seq bigint NOT NULL DEFAULT 0,
        last_op bigint NOT NULL DEFAULT 0,
        base_seq bigint NOT NULL DEFAULT 0,
        base_op bigint NOT NULL DEFAULT 0,
        epoch text NOT NULL
      )`,
      `CREATE INDEX IF NOT EXISTS ${t.sessionsByUpdated} ON ${t.sessions} (updated_at)`,
      // Items as text: the codec's exact JSON (jsonb would reorder keys and normalise numbers).
      `CREATE TABLE IF NOT EXISTS ${t.items} (
        sid bigint NOT NULL,
        seq bigint NOT NULL,
        item text NOT NULL,
        PRIMARY KEY (sid, seq)
      )`,
      `CREATE TABLE IF NOT EXISTS ${t.operations} (
        sid bigint NOT NULL,
        operation_id bytea NOT NULL,
        op_seq bigint NOT NULL,
        fingerprint text NOT NULL,
        PRIMARY KEY (sid, operation_id)
      )`,
      `CREATE INDEX IF NOT EXISTS ${t.operationsBySeq} ON ${t.operations} (sid, op_seq)`,
    ],
  },
];

function refuseNewer(version: number, current: number): SessionError {
  return new SessionError(
    SessionErrorCode.Unsupported,
    `postgres schema has version ${version}; this release of @sessionkit/postgres understands up to ${current}. Upgrade the package.`,
  );
}

// 42P07 duplicate table, 42710 duplicate object, 23505 unique violation (on
// pg_type / pg_namespace when two sessions run CREATE ... IF NOT EXISTS at
// the same instant), 42P06 duplicate schema: the other creator won; run again.
const CREATE_RACE = ['42P07', '42710', '23505', '42P06', '40001', '40P01'];

function isCreateRace(error: unknown): boolean {
  return CREATE_RACE.includes((error as { code?: string } | null)?.code ?? '');
}

async function versionOf(client: PoolClient, t: TableNames): Promise<number | undefined> {
  const exists = await client.query<{ r: string | null }>(`SELECT to_regclass($1) AS r`, [t.version]);
  if (exists.rows[0]?.r == null) return undefined;
  const row = await client.query<{ version: number }>(`SELECT version FROM ${t.version} WHERE id = 1`);
  return row.rows[0]?.version;
}

/**
 * Creates or migrates the store's tables. A database already at the current
 * version costs one connection and two reads. Otherwise, in one transaction:
 * the schema and version table are created IF NOT EXISTS, the version row is
 * locked FOR UPDATE (a row lock, released at commit: no advisory lock, so
 * PgBouncer in transaction mode is fine), the missing steps run, the version
 * is written. Two processes starting on an empty database at once: one
 * creates, the other waits on the row lock (or loses the catalog race,
 * rolls back and runs again) and finds the work done.
 */
export async function ensureSchema(pool: Pool, t: TableNames, migrations: readonly Migration[] = MIGRATIONS): Promise<void> {
  const current = migrations.length;
  const client = await pool.connect();
  try {
    const seen = await versionOf(client, t);
    if (seen === current) return;
    if (seen !== undefined && seen > current) throw refuseNewer(seen, current);
    await retryOnConflict(
      async () => {
        try {
          await client.query('BEGIN');
          await client.query(`CREATE SCHEMA IF NOT EXISTS ${t.schema}`);
          await client.query(`CREATE TABLE IF NOT EXISTS ${t.version} (
            id integer PRIMARY KEY CHECK (id = 1),
            version integer NOT NULL,
            migrated_at bigint NOT NULL
          )`);
          await client.query(`INSERT INTO ${t.version} (id, version, migrated_at) VALUES (1, 0, $1) ON CONFLICT (id) DO NOTHING`, [
            Date.now(),
          ]);
          const locked = await client.query<{ version: number }>(`SELECT version FROM ${t.version} WHERE id = 1 FOR UPDATE`);
          const version = locked.rows[0]!.version;
          if (version > current) throw refuseNewer(version, current);
          for (const migration of migrations) {
            if (migration.version > version) for (const sql of migration.statements(t)) await client.query(sql);
          }
          if (version < current) {
            await client.query(`UPDATE ${t.version} SET version = $1, migrated_at = $2 WHERE id = 1`, [current, Date.now()]);
          }
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw error;
        }
      },
      { isConflict: isCreateRace, operation: 'schema migration' },
    );
  } finally {
    client.release();
  }
}
