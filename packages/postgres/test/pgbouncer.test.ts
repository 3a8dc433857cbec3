/**
 * PostgresStore with its default options behind a real PgBouncer in
 * transaction pooling mode (two server connections shared by every client):
 * the whole conformance suite, and the prepared-statement handling seen from
 * the pool. It runs behind each PgBouncer found (pgbouncer.ts): Debian 12's
 * 1.18, which does not track protocol-level prepared statements, so the store
 * must notice the first refusal and go on unnamed, with nothing run twice and
 * no error reaching the caller; and 1.24.1, which tracks them by default, so
 * the store keeps them named. On 1.21+ the other setting of
 * `max_prepared_statements` is checked too, so both paths run on any of them.
 */
import { describeConformance } from '@sessionkit/conformance';
import { PostgresStore } from '@sessionkit/postgres';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { postgresHarness } from './harness.js';
import { pgbouncerBinaries, pgbouncerHint, pgbouncerUnavailableReason, pgbouncerVersion, startPgbouncer, type Bouncer } from './pgbouncer.js';
import { postgresTarget, skipLine, uniqueSchema } from './server.js';

interface Run {
  readonly bouncer: Bouncer;
  /** How PgBouncer was configured, for test names. */
  readonly setting: string;
  /** Whether this PgBouncer tracks named statements (so the store must keep them named). */
  readonly tracks: boolean;
  /** The whole conformance suite runs behind each PgBouncer's own defaults; the other setting gets the pool-side check. */
  readonly conformance: boolean;
}

const target = await postgresTarget();
const runs: Run[] = [];
/** What cannot run here, and the loud line that says so. */
const skips: { what: string; line: string }[] = [];
if ('skip' in target) skips.push({ what: 'postgres behind PgBouncer', line: skipLine('postgres behind PgBouncer', target.skip) });
else {
  const versions = new Set<number>();
  const unavailable: string[] = [];
  for (const bin of pgbouncerBinaries) {
    const reason = pgbouncerUnavailableReason(bin);
    if (reason) {
      unavailable.push(reason);
      continue;
    }
    const version = pgbouncerVersion(bin);
    // The same release twice proves nothing more.
    if (versions.has(version)) continue;
    versions.add(version);
    // PgBouncer's own defaults (1.24+ track named statements, earlier releases do not); 1.21+ can also be set
    // the other way, which runs the other path of the store on the same binary.
    const configs = [{ settings: {} as Record<string, string>, setting: 'its default settings', tracks: version >= 1.24, conformance: true }];
    if (version >= 1.24) configs.push({ settings: { max_prepared_statements: '0' }, setting: 'max_prepared_statements = 0', tracks: false, conformance: false });
    else if (version >= 1.21) configs.push({ settings: { max_prepared_statements: '100' }, setting: 'max_prepared_statements = 100', tracks: true, conformance: false });
    for (const { settings, ...config } of configs) {
      try {
        runs.push({ bouncer: await startPgbouncer(bin, target.url, settings), ...config });
      } catch (error) {
        unavailable.push(`PgBouncer ${version} at ${bin} (${config.setting}) did not start: ${(error as Error).message}`);
      }
    }
  }
  const skip = (what: string, reason: string) => skips.push({ what, line: `!!! SKIPPED ${what}: ${reason}. Enable: ${pgbouncerHint}.` });
  if (runs.length === 0) skip('postgres behind PgBouncer', unavailable.join('; ') || 'PGBOUNCER_BINS lists no binary');
  else if (!runs.some((run) => run.tracks)) {
    skip('postgres behind a PgBouncer that tracks named statements (1.21+)', [`only PgBouncer ${[...versions].join(', ')} here`, ...unavailable].join('; '));
  }
}

for (const { what, line } of skips) {
  console.warn(line);
  describe.skip(what, () => it('needs PostgreSQL and that PgBouncer', () => {}));
}
if (!('skip' in target)) {
  afterAll(async () => {
    for (const run of runs) await run.bouncer.stop();
    await target.stop();
  }, 60_000);
}

for (const { bouncer, setting, tracks, conformance } of runs) {
  const url = bouncer.url;
  describe(`PostgresStore behind PgBouncer ${bouncer.version} with ${setting} (transaction mode, 2 server connections), default options`, () => {
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

  if (conformance) describeConformance(`PostgresStore behind PgBouncer ${bouncer.version} (transaction mode)`, postgresHarness(url));
}
