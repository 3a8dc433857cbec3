/**
 * The raw baselines the benchmarks compare the stores with: what an app would
 * write with the driver alone, doing the same work. One definition, used by
 * per-turn.ts and sqlite.ts, so every figure quotes the same baseline.
 */
import { randomUUID } from 'node:crypto';
import { SqliteStore } from '@sessionkit/sqlite';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { tableNames } from '../packages/sqlite/src/schema.js';
import { JSON_CHECK } from '../packages/redis/src/scripts.js';

/** What one side of a comparison can do: the same five operations, store or raw. */
export interface Side {
  getAll(id: string): Promise<unknown[]> | unknown[];
  append(id: string, items: unknown[]): Promise<unknown> | unknown;
  tail(id: string, limit: number): Promise<unknown[]> | unknown[];
  pop(id: string): Promise<unknown> | unknown;
  clear(id: string): Promise<unknown> | unknown;
  close(): Promise<void> | void;
}

/**
 * better-sqlite3 on the store's own tables and indexes (the store creates the
 * schema), driven by hand-written prepared statements: per append one
 * IMMEDIATE transaction that finds (or creates) the session row, inserts the
 * items with JSON.stringify and updates the row; reads run the store's own
 * query (by session id, the expiry bound included: with no ttl the store binds
 * the smallest safe integer, and so does this) with JSON.parse; a pop reads
 * the newest row, deletes it and updates the row, with a new epoch (what lets
 * readers tell a pop from appends, as the store's does), in one transaction.
 * A created row gets an epoch too (the column has no default).
 */
export function rawSqlite(path: string, synchronous: 'FULL' | 'NORMAL' = 'NORMAL'): Side {
  new SqliteStore({ path }).close();
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  const t = tableNames('sessionkit_');
  const live = Number.MIN_SAFE_INTEGER;
  const find = db.prepare(`SELECT sid, item_count, last_seq FROM ${t.sessions} WHERE session_id = ?`);
  const create = db.prepare(`INSERT INTO ${t.sessions} (session_id, created_at, updated_at, epoch) VALUES (?, ?, ?, ?)`);
  const insert = db.prepare(`INSERT INTO ${t.items} (sid, seq, item) VALUES (?, ?, ?)`);
  const update = db.prepare(`UPDATE ${t.sessions} SET updated_at = ?, item_count = ?, last_seq = ? WHERE sid = ?`);
  const session = `SELECT sid FROM ${t.sessions} WHERE session_id = ? AND updated_at > ?`;
  const all = db.prepare(`SELECT item FROM ${t.items} WHERE sid = (${session}) ORDER BY seq`).pluck();
  const tail = db.prepare(`SELECT item FROM ${t.items} WHERE sid = (${session}) ORDER BY seq DESC LIMIT ?`).pluck();
  const newest = db.prepare(`SELECT seq, item FROM ${t.items} WHERE sid = ? ORDER BY seq DESC LIMIT 1`);
  const remove = db.prepare(`DELETE FROM ${t.items} WHERE sid = ? AND seq = ?`);
  const clearItems = db.prepare(`DELETE FROM ${t.items} WHERE sid = (SELECT sid FROM ${t.sessions} WHERE session_id = ?)`);
  const clearSession = db.prepare(`DELETE FROM ${t.sessions} WHERE session_id = ?`);
  const count = db.prepare(`UPDATE ${t.sessions} SET updated_at = ?, item_count = item_count - 1, epoch = ? WHERE sid = ?`);
  const append = db.transaction((id: string, items: unknown[]) => {
    const now = Date.now();
    let row = find.get(id) as { sid: number; item_count: number; last_seq: number } | undefined;
    if (!row) row = { sid: Number(create.run(id, now, now, randomUUID()).lastInsertRowid), item_count: 0, last_seq: 0 };
    let seq = row.last_seq;
    for (const x of items) insert.run(row.sid, ++seq, JSON.stringify(x));
    update.run(now, row.item_count + items.length, seq, row.sid);
  });
  const pop = db.transaction((id: string) => {
    const row = find.get(id) as { sid: number } | undefined;
    if (!row) return undefined;
    const last = newest.get(row.sid) as { seq: number; item: string } | undefined;
    if (!last) return undefined;
    remove.run(row.sid, last.seq);
    count.run(Date.now(), randomUUID(), row.sid);
    // Inside the transaction: text that does not parse throws and rolls the delete back.
    return JSON.parse(last.item);
  });
  const clear = db.transaction((id: string) => {
    clearItems.run(id);
    clearSession.run(id);
  });
  return {
    getAll: (id) => (all.all(id, live) as string[]).map((x) => JSON.parse(x)),
    append: (id, items) => append.immediate(id, items),
    tail: (id, limit) => (tail.all(id, live, limit) as string[]).reverse().map((x) => JSON.parse(x)),
    pop: (id) => pop.immediate(id),
    clear: (id) => clear.immediate(id),
    close: () => void db.close(),
  };
}

/**
 * One ioredis list per session: RPUSH / LRANGE / RPOP and JSON. With
 * `checkedPop`, a pop is instead what an app must send to keep the contract's
 * rule that a pop never deletes an item that does not decode: one script that
 * reads the newest item, runs the same JSON check as RedisStore's pop and only
 * then removes it (no session metadata, no expiry). With `sessionMeta` as
 * well, that script also records the session's updated-at in a hash beside
 * the list, and a new epoch made by the client (`randomUUID()`, sent as an
 * argument), in one HSET, as RedisStore's pop does for getSessionInfo,
 * prune and readChanges: the store's pop, work for work, minus the store.
 * With `scriptedAppend`, an append is instead one script that reads the
 * list's length, pushes the items and records updated-at (and, on a session
 * that had none, created-at and a new epoch from the client) in the same
 * hash, as RedisStore's append does for getSessionInfo, prune, readChanges
 * and `expectedLength` (no expiry): the store's append, work for work.
 */
export function rawRedis(url: string, options: { checkedPop?: boolean; sessionMeta?: boolean; scriptedAppend?: boolean } = {}): Side {
  const redis = new Redis(url);
  const meta = options.checkedPop === true && options.sessionMeta === true;
  const scripted = options.scriptedAppend === true;
  const prefix = scripted ? 'bench:raw-scripted:' : meta ? 'bench:raw-checked-meta:' : options.checkedPop ? 'bench:raw-checked:' : 'bench:raw:';
  const key = (id: string) => `${prefix}{${id}}:items`;
  const metaKey = (id: string) => `${prefix}{${id}}:meta`;
  const popChecked = `${JSON_CHECK}
local item = redis.call('LINDEX', KEYS[1], -1)
if not item then return nil end
if not parses(item) then return redis.error_reply('the newest item is not JSON') end
redis.call('RPOP', KEYS[1])${meta ? "\nredis.call('HSET', KEYS[2], 'u', ARGV[1], 'e', ARGV[2])" : ''}
return item`;
  let sha: string | undefined;
  const loaded = options.checkedPop ? (redis.script('LOAD', popChecked) as Promise<string>).then((value) => (sha = value)) : undefined;
  const appendScript = `
local length = redis.call('LLEN', KEYS[1])
redis.call('RPUSH', KEYS[1], unpack(ARGV, 3))
if length == 0 then
  redis.call('HSET', KEYS[2], 'c', ARGV[1], 'u', ARGV[1], 'e', ARGV[2])
else
  redis.call('HSET', KEYS[2], 'u', ARGV[1])
end
return length + #ARGV - 2`;
  let appendSha: string | undefined;
  const appendLoaded = scripted ? (redis.script('LOAD', appendScript) as Promise<string>).then((value) => (appendSha = value)) : undefined;
  return {
    getAll: async (id) => (await redis.lrange(key(id), 0, -1)).map((x) => JSON.parse(x)),
    append: async (id, items) =>
      scripted
        ? redis.evalsha(appendSha ?? (await appendLoaded!), 2, key(id), metaKey(id), String(Date.now()), randomUUID(), ...items.map((x) => JSON.stringify(x)))
        : redis.rpush(key(id), ...items.map((x) => JSON.stringify(x))),
    tail: async (id, limit) => (await redis.lrange(key(id), -limit, -1)).map((x) => JSON.parse(x)),
    pop: async (id) => {
      const x = !options.checkedPop
        ? await redis.rpop(key(id))
        : meta
          ? ((await redis.evalsha(sha ?? (await loaded!), 2, key(id), metaKey(id), String(Date.now()), randomUUID())) as string | null)
          : ((await redis.evalsha(sha ?? (await loaded!), 1, key(id))) as string | null);
      return x === null ? undefined : JSON.parse(x);
    },
    clear: (id) => (meta || scripted ? redis.del(key(id), metaKey(id)) : redis.del(key(id))),
    close: async () => void (await redis.quit()),
  };
}
