import type { Database, Statement } from 'better-sqlite3';
import type { TableNames } from './schema.js';

/** A row of the sessions table as the store reads it. */
export interface SessionRow {
  sid: number;
  session_id: string;
  created_at: number;
  updated_at: number;
  item_count: number;
  last_seq: number;
  last_op: number;
}

export interface ItemRow {
  seq: number;
  item: string;
}

/**
 * Every statement the store runs, prepared once per store. Values are always
 * bound parameters: session ids, items and operation ids are data, never SQL.
 * Reads by session id take a `liveAfter` bound (updated_at must be greater),
 * which is how expired sessions read as empty before they are deleted.
 */
export function prepareStatements(db: Database, t: TableNames): Statements {
  return {
    findSession: db.prepare<[string], SessionRow>(`SELECT * FROM ${t.sessions} WHERE session_id = ?`),
    insertSession: db.prepare<[string, number, number]>(
      `INSERT INTO ${t.sessions} (session_id, created_at, updated_at) VALUES (?, ?, ?)`,
    ),
    updateSession: db.prepare<[number, number, number, number, number, number]>(
      `UPDATE ${t.sessions} SET created_at = ?, updated_at = ?, item_count = ?, last_seq = ?, last_op = ? WHERE sid = ?`,
    ),
    deleteSession: db.prepare<[number]>(`DELETE FROM ${t.sessions} WHERE sid = ?`),

    insertItem: db.prepare<[number, number, string]>(`INSERT INTO ${t.items} (sid, seq, item) VALUES (?, ?, ?)`),
    // The tail read: walks the (sid, seq) index backwards and stops after `limit` rows.
    tail: db
      .prepare<[string, number, number], string>(
        `SELECT item FROM ${t.items}
         WHERE sid = (SELECT sid FROM ${t.sessions} WHERE session_id = ? AND updated_at > ?)
         ORDER BY seq DESC LIMIT ?`,
      )
      .pluck(),
    all: db
      .prepare<[string, number], string>(
        `SELECT item FROM ${t.items}
         WHERE sid = (SELECT sid FROM ${t.sessions} WHERE session_id = ? AND updated_at > ?)
         ORDER BY seq ASC`,
      )
      .pluck(),
    newest: db.prepare<[number, number], ItemRow>(
      `SELECT seq, item FROM ${t.items} WHERE sid = ? ORDER BY seq DESC LIMIT ?`,
    ),
    deleteItemsFrom: db.prepare<[number, number]>(`DELETE FROM ${t.items} WHERE sid = ? AND seq >= ?`),
    deleteItems: db.prepare<[number]>(`DELETE FROM ${t.items} WHERE sid = ?`),

    findOperation: db
      .prepare<[number, string], string>(`SELECT fingerprint FROM ${t.operations} WHERE sid = ? AND operation_id = ?`)
      .pluck(),
    insertOperation: db.prepare<[number, number, string, string]>(
      `INSERT INTO ${t.operations} (sid, op_seq, operation_id, fingerprint) VALUES (?, ?, ?, ?)`,
    ),
    trimOperations: db.prepare<[number, number]>(`DELETE FROM ${t.operations} WHERE sid = ? AND op_seq <= ?`),
    deleteOperations: db.prepare<[number]>(`DELETE FROM ${t.operations} WHERE sid = ?`),

    info: db.prepare<[string, number], SessionRow>(
      `SELECT * FROM ${t.sessions} WHERE session_id = ? AND item_count > 0 AND updated_at > ?`,
    ),
    // Keyset paging on the unique session_id index: each session at most once, whatever is written meanwhile.
    listPage: db.prepare<[string, number, number], SessionRow>(
      `SELECT * FROM ${t.sessions} WHERE session_id > ? AND item_count > 0 AND updated_at > ?
       ORDER BY session_id LIMIT ?`,
    ),
    staleSessions: db.prepare<[number, number], SessionRow>(
      `SELECT * FROM ${t.sessions} WHERE updated_at < ? LIMIT ?`,
    ),
  };
}

export interface Statements {
  findSession: Statement<[string], SessionRow>;
  insertSession: Statement<[string, number, number]>;
  updateSession: Statement<[number, number, number, number, number, number]>;
  deleteSession: Statement<[number]>;
  insertItem: Statement<[number, number, string]>;
  tail: Statement<[string, number, number], string>;
  all: Statement<[string, number], string>;
  newest: Statement<[number, number], ItemRow>;
  deleteItemsFrom: Statement<[number, number]>;
  deleteItems: Statement<[number]>;
  findOperation: Statement<[number, string], string>;
  insertOperation: Statement<[number, number, string, string]>;
  trimOperations: Statement<[number, number]>;
  deleteOperations: Statement<[number]>;
  info: Statement<[string, number], SessionRow>;
  listPage: Statement<[string, number, number], SessionRow>;
  staleSessions: Statement<[number, number], SessionRow>;
}
