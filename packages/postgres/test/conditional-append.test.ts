/**
 * addItems with expectedLength on a real PostgreSQL: the count check is made on the session row version
 * the append locked (racers held behind a lock all see one count; exactly one writes), a mismatch leaves
 * the session row as it was (not even rewritten: same xmin), and ttl-expired sessions count as empty.
 */
import { PostgresStore } from '@sessionkit/postgres';
import { SessionErrorCode } from '@sessionkit/core';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { tableNames } from '../src/schema.js';
import { statementSql } from '../src/statements.js';
import { testResources } from './resources.js';
import { postgresTarget, skipLine, uniqueSchema } from './server.js';

const target = await postgresTarget();
if ('skip' in target) {
  console.warn(skipLine('postgres conditional append tests', target.skip));
  describe.skip('PostgresStore conditional append', () => it('needs PostgreSQL', () => {}));
} else {
  const opened = testResources(target);
  // One connection per store: racers on separate stores are separate backends.
  const open = (schema: string, ttl?: number) => opened.store(schema, { max: 1, ...(ttl ? { ttl } : {}) });
  const connect = () => opened.client();

  const id = (s: string) => Buffer.from(s, 'utf8');
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  /** The session row as stored, with its tuple identity: a rewrite with equal values still changes xmin. */
  const sessionRow = async (client: pg.Client, schema: string, sessionId: string) => {
    const t = tableNames(schema, 'sessionkit_');
    const { rows } = await client.query(
      `SELECT xmin::text AS xmin, ctid::text AS ctid, created_at, updated_at, item_count, last_seq, base_seq, base_op,
         (SELECT count(*)::int FROM ${t.items} i WHERE i.sid = s.sid) AS item_rows
       FROM ${t.sessions} s WHERE session_id = $1`,
      [id(sessionId)],
    );
    return rows[0] as Record<string, unknown> | undefined;
  };

  /** Waits until `n` backends wait for a lock (this file's server runs one test at a time). */
  const waitForWaiters = async (client: pg.Client, n: number) => {
    for (let i = 0; i < 500; i++) {
      const { rows } = await client.query(`SELECT count(DISTINCT pid)::int AS n FROM pg_locks WHERE NOT granted`);
      if (rows[0].n >= n) return;
      await sleep(10);
    }
    throw new Error(`fewer than ${n} appends waited for the lock`);
  };

  const settle = async (racers: Promise<void>[] | Promise<PromiseSettledResult<void>[]>) => {
    const outcomes = await (Array.isArray(racers) ? Promise.allSettled(racers) : racers);
    const winners = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [i] : []));
    for (const o of outcomes) {
      if (o.status === 'rejected') expect((o.reason as { code?: unknown }).code).toBe(SessionErrorCode.Conflict);
    }
    return winners;
  };

  const RACERS = 8;

  describe('PostgresStore conditional append', () => {
    it('declares conditionalAppend', () => {
      expect(open(uniqueSchema('cap')).capabilities.conditionalAppend).toBe(true);
    });

    it('racers held behind the session row lock, all expecting the count they saw: exactly one appends', async () => {
      const schema = uniqueSchema('race');
      const racers = Array.from({ length: RACERS }, () => open(schema));
      await racers[0]!.addItems('s', [{ n: 'a' }, { n: 'b' }]);
      await Promise.all(racers.map((s) => s.ready()));
      const blocker = await connect();
      const t = tableNames(schema, 'sessionkit_');
      for (let round = 0; round < 3; round++) {
        const count = 2 + round;
        await blocker.query('BEGIN');
        await blocker.query(`SELECT 1 FROM ${t.sessions} WHERE session_id = $1 FOR UPDATE`, [id('s')]);
        // Every racer's statement starts (and takes its snapshot) while the row is locked: each saw `count`.
        const pending = Promise.allSettled(racers.map((s, r) => s.addItems('s', [{ n: `r${round}.${r}` }], { expectedLength: count })));
        try {
          await waitForWaiters(blocker, RACERS);
        } finally {
          await blocker.query('COMMIT');
        }
        const winners = await settle(pending);
        expect(winners).toHaveLength(1);
        const items = (await racers[0]!.getItems('s')) as { n: string }[];
        expect(items).toHaveLength(count + 1);
        expect(items[count]).toEqual({ n: `r${round}.${winners[0]}` });
      }
      expect(await sessionRow(blocker, schema, 's')).toMatchObject({ item_count: 5, last_seq: '5', item_rows: 5 });
    });

    for (const end of ['ROLLBACK', 'COMMIT'] as const) {
      it(`racers expecting 0 on a session another transaction is creating (${end}): exactly one appends`, async () => {
        const schema = uniqueSchema('race0');
        const racers = Array.from({ length: RACERS }, () => open(schema));
        await Promise.all(racers.map((s) => s.ready()));
        const blocker = await connect();
        const t = tableNames(schema, 'sessionkit_');
        await blocker.query('BEGIN');
        // An empty session row, not committed yet: the racers' inserts wait for it to commit or roll back.
        await blocker.query(`INSERT INTO ${t.sessions} (session_id, created_at, updated_at, epoch) VALUES ($1, $2, $2, 'blocker')`, [id('s'), Date.now()]);
        const pending = Promise.allSettled(racers.map((s, r) => s.addItems('s', [{ r }, { r }], { expectedLength: 0 })));
        try {
          await waitForWaiters(blocker, RACERS);
        } finally {
          await blocker.query(end);
        }
        const winners = await settle(pending);
        expect(winners).toHaveLength(1);
        const w = winners[0]!;
        expect(await racers[0]!.getItems('s')).toEqual([{ r: w }, { r: w }]);
        expect(await sessionRow(blocker, schema, 's')).toMatchObject({ item_count: 2, last_seq: '2', item_rows: 2 });
      });
    }

    it('unblocked racers on fresh sessions, many times: exactly one per session', async () => {
      const schema = uniqueSchema('race1');
      const racers = Array.from({ length: RACERS }, () => open(schema));
      for (let k = 0; k < 20; k++) {
        const sessionId = `s${k}`;
        // Even k: a new session (expect 0); odd k: an existing one holding one item.
        if (k % 2) await racers[0]!.addItems(sessionId, [{ first: true }]);
        const winners = await settle(racers.map((s, r) => s.addItems(sessionId, [{ r }], { expectedLength: k % 2 })));
        expect(winners, sessionId).toHaveLength(1);
        expect(await racers[0]!.getItems(sessionId)).toHaveLength((k % 2) + 1);
      }
    });

    it('a mismatched append leaves the session row untouched: updatedAt, version, the tuple itself', async () => {
      const schema = uniqueSchema('same');
      const store = open(schema);
      const client = await connect();
      await store.addItems('s', [{ n: 1 }, { n: 2 }]);
      const before = await sessionRow(client, schema, 's');
      const info = await store.getSessionInfo('s');
      await sleep(5); // a write now would carry a later updated_at
      // Past PostgreSQL's integer too: any safe integer the contract accepts is a count that does not match.
      for (const expectedLength of [0, 1, 3, 1000, 2 ** 31, Number.MAX_SAFE_INTEGER]) {
        await expect(store.addItems('s', [{ n: 'x' }], { expectedLength })).rejects.toMatchObject({ code: SessionErrorCode.Conflict });
      }
      expect(await sessionRow(client, schema, 's')).toEqual(before);
      expect(await store.getSessionInfo('s')).toEqual(info);
      expect(await store.getItems('s')).toEqual([{ n: 1 }, { n: 2 }]);
      // An unknown session expecting items gets no row at all.
      await expect(store.addItems('none', [{ n: 'x' }], { expectedLength: 1 })).rejects.toMatchObject({ code: SessionErrorCode.Conflict });
      await expect(store.addItems('none', [{ n: 'x' }], { expectedLength: 2 ** 31 })).rejects.toMatchObject({ code: SessionErrorCode.Conflict });
      expect(await sessionRow(client, schema, 'none')).toBeUndefined();
      // The matching length appends and moves updatedAt.
      await store.addItems('s', [{ n: 3 }], { expectedLength: 2 });
      const after = await sessionRow(client, schema, 's');
      expect(after).toMatchObject({ item_count: 3, last_seq: '3', created_at: before!.created_at, item_rows: 3 });
      expect(Number(after!.updated_at)).toBeGreaterThan(Number(before!.updated_at));
    });

    it('with ttl an expired session holds 0 items: expecting its old count conflicts and leaves it expired; 0 revives it', async () => {
      const schema = uniqueSchema('ttl');
      const store = open(schema, 300);
      const client = await connect();
      await store.addItems('s', [{ n: 1 }, { n: 2 }]);
      await sleep(450);
      const expired = await sessionRow(client, schema, 's');
      await expect(store.addItems('s', [{ n: 3 }], { expectedLength: 2 })).rejects.toMatchObject({ code: SessionErrorCode.Conflict });
      expect(await sessionRow(client, schema, 's')).toEqual(expired);
      expect(await store.getItems('s')).toEqual([]);
      await store.addItems('s', [{ n: 3 }], { expectedLength: 0 });
      expect(await store.getItems('s')).toEqual([{ n: 3 }]);
      // The reviving append deleted the expired life's item rows in the same statement.
      expect(await sessionRow(client, schema, 's')).toMatchObject({ item_count: 1, item_rows: 1 });
      await store.addItems('s', [{ n: 4 }], { expectedLength: 1 });
      expect(await store.getItems('s')).toEqual([{ n: 3 }, { n: 4 }]);
    });

    for (const ttl of [false, true]) {
      it(`appendIf's generic plan runs only the branch $6 picks, through the session_id index${ttl ? ' (ttl)' : ''}`, async () => {
        const schema = uniqueSchema('plan');
        const store = open(schema, ttl ? 60_000 : undefined);
        await store.addItems('s', [{ n: 1 }]);
        const client = await connect();
        const t = tableNames(schema, 'sessionkit_');
        const sql = statementSql(t, ttl);
        await client.query('BEGIN');
        try {
          await client.query('SET LOCAL plan_cache_mode = force_generic_plan');
          await client.query(`PREPARE plan_append_if AS ${sql.appendIf}`);
          const now = Date.now();
          // EXPLAIN EXECUTE takes no bind parameters: literals.
          const literals = [
            `'\\x${id('s').toString('hex')}'::bytea`,
            now,
            ttl ? now - 60_000 : Number.MIN_SAFE_INTEGER,
            1,
            `ARRAY[${client.escapeLiteral('{"n":2}')}]`,
          ].join(', ');
          const explain = async (expected: number) =>
            (
              await client.query(
                `EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) EXECUTE plan_append_if(${literals}, ${expected}, 'new-epoch')`,
              )
            ).rows
              .map((r: Record<string, string>) => r['QUERY PLAN'])
              .join('\n');
          // 0 on a session holding 1: the upsert's arbiter finds the row, its WHERE refuses; the UPDATE never scans.
          const zero = await explain(0);
          expect(zero).not.toMatch(/Seq Scan/);
          expect(zero).toMatch(/One-Time Filter: \(\$6 > 0\)\s*->\s*Index Scan using \S+ on \S+ \(never executed\)/);
          expect(zero).toMatch(/Conflicting Tuples: 1/);
          // 1: the UPDATE through the session_id index; the upsert produces no row to insert.
          const one = await explain(1);
          expect(one).not.toMatch(/Seq Scan/);
          expect(one).toMatch(/Index Scan using \S*session_id_key on \S+ \(actual rows=1/);
          expect(one).toMatch(/Result \(actual rows=0 loops=1\)\s*One-Time Filter: \(\$6 = 0\)/);
        } finally {
          await client.query('ROLLBACK');
        }
      });
    }

    it('conditional appends settle on a reused (generic) plan; a plain append keeps its own statement', async () => {
      const pool = opened.pool();
      const store = new PostgresStore({ pool, schema: uniqueSchema('generic') });
      for (let i = 0; i < 12; i++) {
        await store.addItems(`s${i % 3}`, [{ i }], { expectedLength: Math.floor(i / 3) });
        await store.addItems('plain', [{ i }]);
      }
      const { rows } = await pool.query<{ name: string; generic_plans: string }>('SELECT name, generic_plans FROM pg_prepared_statements');
      const plans = Object.fromEntries(rows.map((r) => [r.name.split('_')[1], Number(r.generic_plans)]));
      expect(plans['appendIf']).toBeGreaterThanOrEqual(6);
      expect(plans['append']).toBeGreaterThanOrEqual(6);
      await store.close();
    });
  });
}
