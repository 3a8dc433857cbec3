/**
 * PostgresStore with its default options behind a real PgBouncer in
 * transaction pooling mode (two server connections shared by every client):
 * the whole conformance suite, and the prepared-statement handling seen from
 * the pool. PgBouncer before 1.21 (Debian 12 ships 1.18) does not track
 * protocol-level prepared statements: the store must notice the first refusal
 * and go on unnamed, with nothing run twice and no error reaching the caller.
 */
import { describeConformance } from '@sessionkit/conformance';
import { PostgresStore } from '@sessionkit/postgres';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { postgresHarness } from './harness.js';
import { pgbouncerUnavailableReason, pgbouncerVersion, startPgbouncer, type Bouncer } from './pgbouncer.js';
import { postgresTarget, skipLine, uniqueSchema } from './server.js';

const target = await postgresTarget();
const bouncerReason = 'skip' in target ? target.skip : pgbouncerUnavailableReason();
let bouncer: Bouncer | undefined;
let startError: string | undefined;
if (!bouncerReason && !('skip' in target)) {
  try {
    // 1.21+ tracks named statements when asked to; older ones cannot (the store must fall back).
    bouncer = await startPgbouncer(target.url, pgbouncerVersion() >= 1.21 ? { max_prepared_statements: '100' } : {});
  } catch (error) {
    startError = (error as Error).message;
  }
}

if (!bouncer) {
  console.warn(skipLine('postgres behind PgBouncer', bouncerReason ?? startError ?? 'PgBouncer did not start'));
  describe.skip('PostgresStore behind PgBouncer', () => it('needs PostgreSQL and PgBouncer', () => {}));
  if (!('skip' in target)) afterAll(() => target.stop(), 60_000);
} else {
  const url = bouncer.url;
  const tracks = bouncer.version >= 1.21; // started with max_prepared_statements = 100
  afterAll(async () => {
    await bouncer!.stop();
    if (!('skip' in target)) await target.stop();
  }, 60_000);

  describe(`PostgresStore behind PgBouncer ${bouncer.version} (transaction mode, 2 server connections), default options`, () => {
    it(
      tracks
        ? 'keeps named statements (PgBouncer tracks them)'
        : 'a refused named statement switches the store to unnamed ones; nothing fails, nothing runs twice',
      async () => {
        // A pool of our own, so every query the store sends (and how it ended) can be seen.
        const pool = new pg.Pool({ connectionString: url, max: 8 });
        const sent: { named: boolean; code?: string }[] = [];
        const query = pool.query.bind(pool) as (config: pg.QueryConfig) => Promise<pg.QueryResult>;
        (pool as unknown as { query: typeof query }).query = async (config: pg.QueryConfig) => {
          const entry: { named: boolean; code?: string } = { named: typeof config === 'object' && config.name !== undefined };
          sent.push(entry);
          try {
            return await query(config);
          } catch (error) {
            entry.code = (error as { code?: string }).code;
            throw error;
          }
        };
        const store = new PostgresStore({ pool, schema: uniqueSchema('bouncer') });
        try {
          // Eight writers at once, then reads, racing pops and a transaction: the pool's eight clients
          // take turns on two server connections.
          await Promise.all(
            Array.from({ length: 8 }, async (_, w) => {
              for (let b = 0; b < 5; b++) await store.addItems('s', [{ w, b, k: 0 }, { w, b, k: 1 }]);
            }),
          );
          const all = await store.getItems('s');
          expect(all).toHaveLength(80);
          for (let w = 0; w < 8; w++) {
            const mine = all.filter((item) => item.w === w).map((item) => `${item.b}.${item.k}`);
            expect(mine).toEqual(['0.0', '0.1', '1.0', '1.1', '2.0', '2.1', '3.0', '3.1', '4.0', '4.1']);
          }
          expect(await store.getItems('s', { limit: 3 })).toEqual(all.slice(-3));
          const popped = await Promise.all(Array.from({ length: 16 }, () => store.popItem('s')));
          expect(new Set(popped.map((item) => JSON.stringify(item))).size).toBe(16);
          expect(await store.getItems('s')).toEqual(all.slice(0, 64));
          const tx = { type: 'replace_suffix' as const, expectedSuffix: all.slice(62, 64), replacement: [{ done: true }] };
          // The repeat is recognised by its operation id: applied once.
          await store.applyHistoryTransaction('s', { operationId: 'op1', transaction: tx });
          await store.applyHistoryTransaction('s', { operationId: 'op1', transaction: tx });
          expect(await store.getItems('s', { limit: 2 })).toEqual([all[61], { done: true }]);
          expect((await store.getSessionInfo('s'))?.itemCount).toBe(63);
          await store.clearSession('s');
          expect(await store.getItems('s')).toEqual([]);
        } finally {
          await store.close();
          await pool.end();
        }
        const refusals = sent.filter((entry) => entry.code === '26000' || entry.code === '42P05');
        const otherErrors = sent.filter((entry) => entry.code !== undefined && !refusals.includes(entry));
        expect(otherErrors).toEqual([]);
        if (tracks) {
          expect(refusals).toEqual([]);
          expect(sent.every((entry) => entry.named)).toBe(true);
        } else {
          // The store started named, met a refusal, and from then on sent unnamed statements (queries
          // already on their way when the first refusal came back may still be named).
          expect(sent[0]!.named).toBe(true);
          expect(refusals.length).toBeGreaterThan(0);
          expect(sent.slice(-30).some((entry) => entry.named)).toBe(false);
        }
      },
      60_000,
    );
  });

  describeConformance(`PostgresStore behind PgBouncer ${bouncer.version} (transaction mode)`, postgresHarness(url));
}
