import { createHash } from 'node:crypto';
import type { TableNames } from './schema.js';

/**
 * The tag keys core's codec writes for a tagged value (bytes, or an object using a tag key), as they
 * appear in the text: `decodeItem` walks an item holding one again after `JSON.parse` (a recursive walk:
 * deep enough, it throws where PostgreSQL's parser did not). `popOne` deletes only items holding neither,
 * whose decoding is `JSON.parse` alone. Other `$sk:` names (withEncryption's `"$sk:enc"` envelopes) do
 * not make core walk, so they do not keep an item from `popOne`. test/pop.test.ts checks both against core.
 */
export const TAG_KEYS = ['$sk:bytes"', '$sk:obj"'] as const;

/** The session row as reads return it (bigint columns arrive as strings from pg). */
export interface SessionRow {
  sid: string;
  session_id: Buffer;
  created_at: string;
  updated_at: string;
  item_count: number;
  last_seq: string;
  last_op: string;
  base_op: string;
}

/**
 * The SQL of every statement the store runs. Values are always bound
 * parameters ($n): session ids, items and operation ids are data, never SQL
 * text; only the validated, quoted table names are spliced in. The store
 * runs them as named (protocol-level) prepared statements — see
 * {@link namedStatements} — or, with `preparedStatements: false`, unnamed.
 *
 * Every write bumps `last_seq`, so a session row's `last_seq` is its version:
 * writes that read first (pop, transactions, replace, clear, prune) finish
 * with one statement conditioned on `last_seq` still being what they read
 * (checked by PostgreSQL on the newest row version while it holds the row
 * lock); when another writer got there first nothing is changed and the
 * store runs the operation again. Every write that is not an append (and
 * every new session, or new life of an expired one) also sets the row's
 * `epoch` to a fresh `newEpoch()` bound by the caller, in that same
 * statement: `readChanges` compares it. Reads by session id take a `liveAfter`
 * bound (`updated_at` must be greater), which is how expired sessions read as
 * empty before their rows are deleted.
 */
export function statementSql(t: TableNames, ttl: boolean) {
  // In a session that expired, rows at or below base_seq/base_op are dead:
  // the reviving append deletes them in the same statement.
  const deadRows = ttl
    ? `, dead_items AS (DELETE FROM ${t.items} WHERE sid = (SELECT sid FROM s) AND seq <= (SELECT base_seq FROM s))
       , dead_ops AS (DELETE FROM ${t.operations} WHERE sid = (SELECT sid FROM s) AND op_seq <= (SELECT base_op FROM s))`
    : '';
  // An append keeps the session's epoch; a session the ttl expired starts a new life, and with it the
  // new epoch the statement was given (the proposed row's). Without ttl no row is ever expired.
  const renewExpired = ttl ? `,
          epoch = CASE WHEN s.updated_at <= $3::bigint THEN excluded.epoch ELSE s.epoch END` : '';
  return {
    // $1 id, $2 now, $3 liveAfter, $4 batch length, $5 items, $6 a new epoch (used only by a new
    // session or a new life, see renewExpired). One statement:
    // the upsert takes the session row lock, so concurrent appends to one
    // session serialise on it and each gets a contiguous seq range.
    append: `WITH s AS (
        INSERT INTO ${t.sessions} AS s (session_id, created_at, updated_at, item_count, last_seq, epoch)
        VALUES ($1, $2::bigint, $2::bigint, $4::integer, $4::bigint, $6::text)
        ON CONFLICT (session_id) DO UPDATE SET
          created_at = CASE WHEN s.item_count = 0 OR s.updated_at <= $3::bigint THEN $2::bigint ELSE s.created_at END,
          item_count = CASE WHEN s.updated_at <= $3::bigint THEN 0 ELSE s.item_count END + $4::integer,
          base_seq = CASE WHEN s.updated_at <= $3::bigint THEN s.last_seq ELSE s.base_seq END,
          base_op = CASE WHEN s.updated_at <= $3::bigint THEN s.last_op ELSE s.base_op END,
          last_seq = s.last_seq + $4::bigint,
          updated_at = $2::bigint${renewExpired}
        RETURNING sid, last_seq, base_seq, base_op
      )${deadRows}
      INSERT INTO ${t.items} (sid, seq, item)
      SELECT s.sid, s.last_seq - $4::bigint + i.ord, i.item
      FROM s CROSS JOIN unnest($5::text[]) WITH ORDINALITY AS i(item, ord)`,
    // A conditional append (addItems with expectedLength), still one statement: $1–$5 as for append, $6
    // expectedLength, $7 a new epoch (a new session or life only, as for append). The session row is written
    // by `upd` or by `ups`, whose conditions on $6 exclude each other (PostgreSQL gates each on its one-time
    // filter before touching the table); the items go in after it. `upd`, $6 > 0: only a live session holding
    // exactly that many items (no row, an expired one, another count: nothing written). `ups`, $6 = 0:
    // append's upsert, whose existing row is written only if it holds nothing live. Either count check is made
    // on the row version the statement locked (UPDATE's re-check, ON CONFLICT's WHERE), not on its snapshot,
    // so of racers expecting one count exactly one writes. n = 0: nothing written (not the row, so not its
    // updated_at or version, and no item): CONFLICT. A separate statement so the plain append's plan and cost
    // stay as they were (folding this into append with a NULL $6 measured ~2.5% slower plain appends).
    appendIf: `WITH upd AS (
        UPDATE ${t.sessions} SET
          item_count = item_count + $4::integer,
          last_seq = last_seq + $4::bigint,
          updated_at = $2::bigint
        WHERE $6::bigint > 0 AND session_id = $1 AND updated_at > $3::bigint AND item_count = $6::bigint
        RETURNING sid, last_seq, base_seq, base_op
      ), ups AS (
        INSERT INTO ${t.sessions} AS s (session_id, created_at, updated_at, item_count, last_seq, epoch)
        SELECT $1, $2::bigint, $2::bigint, $4::integer, $4::bigint, $7::text WHERE $6::bigint = 0
        ON CONFLICT (session_id) DO UPDATE SET
          created_at = $2::bigint,
          item_count = $4::integer,
          base_seq = CASE WHEN s.updated_at <= $3::bigint THEN s.last_seq ELSE s.base_seq END,
          base_op = CASE WHEN s.updated_at <= $3::bigint THEN s.last_op ELSE s.base_op END,
          last_seq = s.last_seq + $4::bigint,
          updated_at = $2::bigint${renewExpired}
        WHERE s.item_count = 0 OR s.updated_at <= $3::bigint
        RETURNING sid, last_seq, base_seq, base_op
      ), s AS (
        SELECT * FROM upd UNION ALL SELECT * FROM ups
      )${deadRows}, ins AS (
        INSERT INTO ${t.items} (sid, seq, item)
        SELECT s.sid, s.last_seq - $4::bigint + i.ord, i.item
        FROM s CROSS JOIN unnest($5::text[]) WITH ORDINALITY AS i(item, ord)
      )
      SELECT count(*)::int AS n FROM s`,
    // The tail read: walks the (sid, seq) primary key backwards and stops after $3 rows.
    // $4/$5 are always the whole range (0, 2^63-1), so they filter nothing. They are
    // there for the plan cache: with only a LIMIT parameter, PostgreSQL's generic plan
    // assumes 10% of the session's rows and always looks dearer than a custom plan,
    // so the named statement would be re-planned on every call; a range with unknown
    // bounds makes the generic estimate short and the plan is reused.
    tail: `SELECT item FROM ${t.items}
      WHERE sid = (SELECT sid FROM ${t.sessions} WHERE session_id = $1 AND updated_at > $2::bigint)
        AND seq > $4::bigint AND seq <= $5::bigint
      ORDER BY seq DESC LIMIT $3`,
    // The full read, in primary-key order. $3/$4: the whole range again; without
    // them the estimate for one session is (rows ÷ sessions), which with a few long
    // sessions picks a sequential scan of every item and a sort.
    all: `SELECT item FROM ${t.items}
      WHERE sid = (SELECT sid FROM ${t.sessions} WHERE session_id = $1 AND updated_at > $2::bigint)
        AND seq > $3::bigint AND seq <= $4::bigint
      ORDER BY seq`,
    // pop in one statement: $1 id, $2 liveAfter, $3 now, $4 the session's new epoch. `t` is the live session's
    // version and its newest item; the session row is updated only if its version is still the one read (so of
    // two racing pops exactly one changes anything) and only if the item is one PostgreSQL can vouch for:
    // `item::json` parses it (an item PostgreSQL refuses fails the whole statement, nothing changed), and an
    // item holding one of core's tag keys is left for the two-step pop (see popItem). The item goes with the
    // row. n = 1: popped. n = 0 with plain: lost a race. n = 0 without plain: decode in JS, then popWrite.
    popOne: `WITH t AS (
        SELECT s.sid, s.last_seq, i.seq, i.item, ${TAG_KEYS.map((key) => `strpos(i.item, '${key}') = 0`).join(' AND ')} AS plain
        FROM ${t.sessions} s JOIN LATERAL (
          SELECT seq, item FROM ${t.items} WHERE sid = s.sid ORDER BY seq DESC LIMIT 1
        ) i ON true
        WHERE s.session_id = $1 AND s.updated_at > $2::bigint
      ), s AS (
        UPDATE ${t.sessions} SET item_count = item_count - 1, last_seq = last_seq + 1, updated_at = $3::bigint, epoch = $4::text
        WHERE sid = (SELECT sid FROM t) AND last_seq = (SELECT last_seq FROM t)
          AND (SELECT plain AND json_typeof(item::json) IS NOT NULL FROM t)
        RETURNING sid
      ), d AS (
        DELETE FROM ${t.items} WHERE sid = (SELECT sid FROM s) AND seq = (SELECT seq FROM t)
      )
      SELECT t.sid, t.last_seq, t.seq, t.item, t.plain, (SELECT count(*) FROM s)::int AS n FROM t`,
    // pop, two steps (a tagged item, or an item PostgreSQL refused): the live session's version and its newest item.
    popRead: `SELECT s.sid, s.last_seq, i.seq, i.item
      FROM ${t.sessions} s JOIN LATERAL (
        SELECT seq, item FROM ${t.items} WHERE sid = s.sid ORDER BY seq DESC LIMIT 1
      ) i ON true
      WHERE s.session_id = $1 AND s.updated_at > $2::bigint`,
    // A pop that lost a race takes the session's row lock first (its own
    // statement, so the read after it sees what the previous holder left).
    lockSession: `SELECT 1 FROM ${t.sessions} WHERE session_id = $1 FOR UPDATE`,
    // pop, second step: $1 sid, $2 version read, $3 seq of the item, $4 now, $5 the session's new epoch.
    popWrite: `WITH s AS (
        UPDATE ${t.sessions} SET item_count = item_count - 1, last_seq = last_seq + 1, updated_at = $4::bigint, epoch = $5::text
        WHERE sid = $1 AND last_seq = $2::bigint
        RETURNING sid
      ), d AS (
        DELETE FROM ${t.items} WHERE sid = (SELECT sid FROM s) AND seq = $3::bigint RETURNING 1
      )
      SELECT count(*)::int AS n FROM s`,
    // Transactions and replace, first step: the session row (live or not),
    // the operation id's entry, and the newest $3 items, in one round trip.
    txRead: `SELECT s.sid, s.created_at, s.updated_at, s.item_count, s.last_seq, s.last_op, s.base_op,
        (SELECT o.fingerprint FROM ${t.operations} o WHERE o.sid = s.sid AND o.operation_id = $2 AND o.op_seq > s.base_op) AS fingerprint,
        ARRAY(SELECT item FROM ${t.items} WHERE sid = s.sid ORDER BY seq DESC LIMIT $3) AS newest,
        (SELECT min(seq) FROM (SELECT seq FROM ${t.items} WHERE sid = s.sid ORDER BY seq DESC LIMIT $3) k) AS first_seq
      FROM ${t.sessions} s WHERE s.session_id = $1`,
    // Second step on an existing row, conditioned on its version:
    // $1 sid, $2 version, $3 now, $4 new created_at, $5 delete items with seq >= this,
    // $6 replacement items, $7 new item_count, $8 operation id (null: none),
    // $9 fingerprint, $10 new base_op (ops at or below are dropped, except $8), $11 keep ops newer than this,
    // $12 the session's new epoch, or null to keep it (a live session's append_items).
    txWrite: `WITH s AS (
        UPDATE ${t.sessions} SET
          created_at = $4::bigint, updated_at = $3::bigint, item_count = $7::integer, epoch = COALESCE($12::text, epoch),
          last_seq = last_seq + cardinality($6::text[]) + 1,
          last_op = last_op + CASE WHEN $8::bytea IS NULL THEN 0 ELSE 1 END,
          base_op = $10::bigint
        WHERE sid = $1 AND last_seq = $2::bigint
        RETURNING sid, last_op
      ), d AS (
        DELETE FROM ${t.items} WHERE sid = (SELECT sid FROM s) AND seq >= $5::bigint AND seq <= $2::bigint
      ), ins AS (
        INSERT INTO ${t.items} (sid, seq, item)
        SELECT s.sid, $2::bigint + i.ord, i.item FROM s CROSS JOIN unnest($6::text[]) WITH ORDINALITY AS i(item, ord)
      ), op AS (
        INSERT INTO ${t.operations} (sid, operation_id, op_seq, fingerprint)
        SELECT s.sid, $8::bytea, s.last_op, $9::text FROM s WHERE $8::bytea IS NOT NULL
        ON CONFLICT (sid, operation_id) DO UPDATE SET op_seq = excluded.op_seq, fingerprint = excluded.fingerprint
      ), trim AS (
        DELETE FROM ${t.operations} WHERE sid = (SELECT sid FROM s)
          AND (op_seq <= $11::bigint OR op_seq <= $10::bigint) AND operation_id IS DISTINCT FROM $8::bytea
      )
      SELECT count(*)::int AS n FROM s`,
    // Second step when no row existed: creates it; fails (0 rows) when another writer created it meanwhile.
    // $1 id, $2 now, $3 items, $4 operation id (null: none), $5 fingerprint, $6 the new session's epoch.
    txCreate: `WITH s AS (
        INSERT INTO ${t.sessions} (session_id, created_at, updated_at, item_count, last_seq, last_op, epoch)
        VALUES ($1, $2::bigint, $2::bigint, cardinality($3::text[]), cardinality($3::text[]) + 1,
          CASE WHEN $4::bytea IS NULL THEN 0 ELSE 1 END, $6::text)
        ON CONFLICT (session_id) DO NOTHING
        RETURNING sid
      ), ins AS (
        INSERT INTO ${t.items} (sid, seq, item)
        SELECT s.sid, i.ord, i.item FROM s CROSS JOIN unnest($3::text[]) WITH ORDINALITY AS i(item, ord)
      ), op AS (
        INSERT INTO ${t.operations} (sid, operation_id, op_seq, fingerprint)
        SELECT s.sid, $4::bytea, 1, $5::text FROM s WHERE $4::bytea IS NOT NULL
      )
      SELECT count(*)::int AS n FROM s`,
    // clear and prune: delete session rows whose version is still the one read, with their items and log.
    // $1 sids, $2 versions.
    deleteSessions: `WITH s AS (
        DELETE FROM ${t.sessions} WHERE (sid, last_seq) IN (SELECT * FROM unnest($1::bigint[], $2::bigint[]))
        RETURNING sid, item_count, updated_at
      ), i AS (
        DELETE FROM ${t.items} WHERE sid IN (SELECT sid FROM s)
      ), o AS (
        DELETE FROM ${t.operations} WHERE sid IN (SELECT sid FROM s)
      )
      SELECT item_count, updated_at FROM s`,
    findSession: `SELECT sid, last_seq FROM ${t.sessions} WHERE session_id = $1`,
    // readChanges, one statement (one snapshot): $1 id, $2 liveAfter, $3 the since epoch (null: none,
    // or one no stored epoch can equal), $4 the since length, $5/$6 the whole seq range (as for tail).
    // First row: the live session's epoch and count, and whether it is `since` plus appends (the same
    // epoch, no shorter); no live session, no rows at all. Then its newest (count - $4) items, or all
    // (count) when not, newest first: the backward primary-key walk stops after that many rows. The
    // header is its own row, not columns repeated on every item row (that made a whole read of 1,000
    // items ~1.4x slower than getItems' `all`; this way ~1.1x). A (non-parallel) Append gives the rows
    // in this order, but SQL does not promise it and the store relies on neither the header's place nor
    // the items' order (changes-rows.ts: the header is the row with an epoch, items are sorted by seq).
    // The session row is read once (`s` is referenced three times, so it is materialised).
    changes: `WITH s AS (
        SELECT sid, epoch, item_count, coalesce(epoch = $3::text AND item_count >= $4::bigint, false) AS appended
        FROM ${t.sessions} WHERE session_id = $1 AND updated_at > $2::bigint
      )
      SELECT epoch, item_count, appended, NULL::text AS item, NULL::bigint AS seq FROM s
      UNION ALL
      (SELECT NULL, NULL, NULL, item, seq FROM ${t.items}
        WHERE sid = (SELECT sid FROM s) AND seq > $5::bigint AND seq <= $6::bigint
        ORDER BY seq DESC
        LIMIT (SELECT CASE WHEN appended THEN item_count - $4::bigint ELSE item_count END FROM s))`,
    info: `SELECT session_id, created_at, updated_at, item_count FROM ${t.sessions}
      WHERE session_id = $1 AND item_count > 0 AND updated_at > $2::bigint`,
    // Keyset paging on the unique session_id index: each session at most once, whatever is written meanwhile.
    listPage: `SELECT session_id, created_at, updated_at, item_count FROM ${t.sessions}
      WHERE session_id > $1 AND item_count > 0 AND updated_at > $2::bigint
      ORDER BY session_id LIMIT $3`,
    // Sessions prune removes, a bounded batch at a time, through the updated_at index.
    staleSessions: `SELECT sid, last_seq FROM ${t.sessions} WHERE updated_at < $1::bigint ORDER BY updated_at LIMIT $2`,
  } as const;
}

export type Statements = ReturnType<typeof statementSql>;

/** A statement as the store sends it: `name` is the protocol-level prepared statement's name. */
export interface Statement {
  readonly name: string;
  readonly text: string;
}

/**
 * Names every statement for pg's `{ name, text, values }` form: the server
 * parses and plans it once per connection and then reuses the plan (the
 * CTE statements cost more to plan than to run). The name is derived from
 * the text, so stores with different schemas, prefixes or ttl sharing one
 * pool never reuse a name for another text (pg refuses that).
 */
export function namedStatements(sql: Statements): { readonly [K in keyof Statements]: Statement } {
  const out: Record<string, Statement> = {};
  for (const [key, text] of Object.entries(sql)) {
    const digest = createHash('sha256').update(text).digest('base64url').slice(0, 16);
    out[key] = { name: `sk_${key}_${digest}`, text };
  }
  return out as { readonly [K in keyof Statements]: Statement };
}
