import { SessionError, SessionErrorCode } from '@sessionkit/core';
import { usage } from './errors.js';

/** One session read from a Python Agents SDK store, items as Python wrote them. */
export interface PythonSession {
  readonly sessionId: string;
  readonly items: unknown[];
  /** Positions (0-based) whose stored text is not valid JSON; reported, not imported. */
  readonly corrupt: number[];
  readonly createdAt?: string;
  readonly updatedAt?: string;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

function parse(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

/**
 * `SQLiteSession` (src/agents/memory/sqlite_session.py): table
 * `agent_sessions(session_id TEXT PRIMARY KEY, created_at, updated_at)` and
 * `agent_messages(id INTEGER PRIMARY KEY AUTOINCREMENT, session_id, message_data TEXT, created_at)`;
 * each item is `json.dumps(item)`, ordered by `id`.
 */
export async function* readPythonSqlite(
  path: string,
  tables: { sessionsTable?: string; messagesTable?: string } = {},
): AsyncIterable<PythonSession> {
  const sessionsTable = tables.sessionsTable ?? 'agent_sessions';
  const messagesTable = tables.messagesTable ?? 'agent_messages';
  // Table names come from the user and go into SQL text: identifiers only.
  for (const name of [sessionsTable, messagesTable]) if (!IDENT.test(name)) throw usage(`table name "${name}" is not a plain SQL identifier`);
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const sessions = db
      .prepare(
        `SELECT session_id AS id, created_at AS c, updated_at AS u FROM ${sessionsTable}
         UNION SELECT DISTINCT session_id, NULL, NULL FROM ${messagesTable} WHERE session_id NOT IN (SELECT session_id FROM ${sessionsTable})
         ORDER BY 1`,
      )
      .all() as { id: string; c: string | null; u: string | null }[];
    const rows = db.prepare(`SELECT message_data AS m FROM ${messagesTable} WHERE session_id = ? ORDER BY id ASC`);
    for (const session of sessions) {
      const items: unknown[] = [];
      const corrupt: number[] = [];
      (rows.all(session.id) as { m: string }[]).forEach((row, position) => {
        const parsed = parse(row.m);
        if (parsed.ok) items.push(parsed.value);
        else corrupt.push(position);
      });
      if (items.length === 0 && corrupt.length === 0) continue;
      yield {
        sessionId: session.id,
        items,
        corrupt,
        ...(session.c ? { createdAt: session.c } : {}),
        ...(session.u ? { updatedAt: session.u } : {}),
      };
    }
  } catch (error) {
    if (error instanceof SessionError) throw error;
    throw new SessionError(SessionErrorCode.BackendError, `cannot read the Python SQLiteSession tables (${(error as Error).message})`, { cause: error });
  } finally {
    db.close();
  }
}

/**
 * `RedisSession` (src/agents/extensions/memory/redis_session.py): a hash
 * `{key_prefix}:{session_id}` (fields session_id, created_at, updated_at —
 * Unix seconds as text), a list `{key_prefix}:{session_id}:messages` of
 * `json.dumps(item, separators=(",", ":"))`, and a counter `…:counter`.
 * Default key prefix `agents:session`. Sessions are found by SCAN on
 * `{prefix}:*:messages`.
 */
export async function* readPythonRedis(url: string, keyPrefix = 'agents:session'): AsyncIterable<PythonSession> {
  const { Redis } = await import('ioredis');
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    throw new SessionError(SessionErrorCode.BackendUnavailable, 'cannot reach the Redis server', { cause: error });
  }
  try {
    const suffix = ':messages';
    const ids: string[] = [];
    let cursor = '0';
    const pattern = `${keyPrefix.replace(/[*?[\]\\]/g, '\\$&')}:*${suffix}`;
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) ids.push(key.slice(keyPrefix.length + 1, key.length - suffix.length));
    } while (cursor !== '0');
    ids.sort();
    for (const sessionId of ids) {
      const base = `${keyPrefix}:${sessionId}`;
      const [raw, meta] = await Promise.all([client.lrange(`${base}${suffix}`, 0, -1), client.hgetall(base)]);
      const items: unknown[] = [];
      const corrupt: number[] = [];
      raw.forEach((text, position) => {
        const parsed = parse(text);
        if (parsed.ok) items.push(parsed.value);
        else corrupt.push(position);
      });
      if (items.length === 0 && corrupt.length === 0) continue;
      const seconds = (v: string | undefined) => (v && /^\d+$/.test(v) ? new Date(Number(v) * 1000).toISOString() : undefined);
      const createdAt = seconds(meta.created_at);
      const updatedAt = seconds(meta.updated_at);
      yield { sessionId, items, corrupt, ...(createdAt ? { createdAt } : {}), ...(updatedAt ? { updatedAt } : {}) };
    }
  } finally {
    client.disconnect();
  }
}
