/**
 * The adapter's own checks on a real PostgreSQL: concurrent migration of an
 * empty database (in one process and across processes), 16 concurrent
 * writers, hostile ids, and the tail read's plan.
 */
import { runNodeJob } from '@sessionkit/test-servers';
import { tableNames } from '../src/schema.js';
import { statementSql } from '../src/statements.js';
import { describe, expect, it } from 'vitest';
import { testResources } from './resources.js';
import { ensureBuilt, migrateModule, postgresTarget, skipLine, uniqueSchema } from './server.js';

const target = await postgresTarget();
if ('skip' in target) {
  console.warn(skipLine('postgres store tests', target.skip));
  describe.skip('PostgresStore on a real server', () => it('needs PostgreSQL', () => {}));
} else {
  const opened = testResources(target);
  const open = (schema: string) => opened.store(schema);

  describe('PostgresStore on a real server', () => {
    it('eight stores migrating one empty schema at once all succeed, and the version is written once', async () => {
      const schema = uniqueSchema('mig');
      const racers = Array.from({ length: 8 }, () => open(schema));
      await Promise.all(racers.map((s) => s.ready()));
      await Promise.all(racers.map((s, i) => s.addItems('s', [{ i }])));
      expect(await racers[0]!.getItems('s')).toHaveLength(8);
      const client = await opened.client();
      const rows = await client.query(`SELECT version FROM ${tableNames(schema, 'sessionkit_').version}`);
      expect(rows.rows).toEqual([{ version: 1 }]);
    });

    it('four processes migrating one empty schema at once all succeed, and the version is written once', async () => {
      ensureBuilt();
      const schema = uniqueSchema('migp');
      // Released together once every child has started (Node's startup takes a few hundred ms).
      const startAt = Date.now() + 1_500;
      const results = await Promise.all([0, 1, 2, 3].map((i) => runNodeJob(migrateModule, { url: target.url, schema, startAt, i })));
      expect(results).toEqual(Array.from({ length: 4 }, () => ({ ok: true })));
      const items = (await open(schema).getItems('s')) as { i: number }[];
      expect(items.map((item) => item.i).sort()).toEqual([0, 1, 2, 3]);
      const client = await opened.client();
      const rows = await client.query(`SELECT version FROM ${tableNames(schema, 'sessionkit_').version}`);
      expect(rows.rows).toEqual([{ version: 1 }]);
    }, 90_000);

    it('16 writers on one session: nothing lost, nothing duplicated, every batch contiguous and in order', async () => {
      const schema = uniqueSchema('w16');
      await open(schema).ready();
      const writers = Array.from({ length: 16 }, () => open(schema));
      const batches = 20;
      await Promise.all(
        writers.map(async (store, w) => {
          for (let b = 0; b < batches; b++) await store.addItems('shared', [0, 1, 2].map((i) => ({ w, b, i })));
        }),
      );
      const items = (await writers[0]!.getItems('shared')) as { w: number; b: number; i: number }[];
      expect(items).toHaveLength(16 * batches * 3);
      expect(new Set(items.map((x) => `${x.w}/${x.b}/${x.i}`)).size).toBe(items.length);
      for (let k = 0; k < items.length; k += 3) {
        const batch = items.slice(k, k + 3);
        expect(batch.map((x) => x.i)).toEqual([0, 1, 2]);
        expect(new Set(batch.map((x) => `${x.w}/${x.b}`)).size).toBe(1);
      }
      // 16 concurrent poppers drain it with no item returned twice.
      const popped = (
        await Promise.all(
          writers.map(async (store) => {
            const mine: unknown[] = [];
            for (let n = 0; n < batches * 3 + 2; n++) {
              const item = await store.popItem('shared');
              if (item !== undefined) mine.push(item);
            }
            return mine;
          }),
        )
      ).flat() as { w: number; b: number; i: number }[];
      expect(popped).toHaveLength(items.length);
      expect(new Set(popped.map((x) => `${x.w}/${x.b}/${x.i}`)).size).toBe(items.length);
    }, 120_000);

    it('hostile ids are data: SQL-shaped ids reach only their own session and leave the tables intact', async () => {
      const store = open(uniqueSchema('hostile'));
      const ids = [`x'; DROP TABLE sessionkit_items; --`, `' OR '1'='1`, '$1', '\u0000', 'a\u0000b', '"; SELECT pg_sleep(10); --', '%', '_'];
      for (const [n, id] of ids.entries()) await store.addItems(id, [{ n }]);
      for (const [n, id] of ids.entries()) expect(await store.getItems(id)).toEqual([{ n }]);
      const listed = [];
      for await (const info of store.listSessions()) listed.push(info.sessionId);
      expect(listed.sort()).toEqual([...ids].sort());
      await store.clearSession(`' OR '1'='1`);
      expect(await store.getItems('%')).toEqual([{ n: 6 }]);
    });

    it('the tail read walks the items primary key backwards: no sequential scan of items, no sort', async () => {
      const schema = uniqueSchema('plan');
      const store = open(schema);
      for (let b = 0; b < 20; b++) await store.addItems('big', Array.from({ length: 100 }, (_, i) => ({ n: b * 100 + i })));
      for (let s = 0; s < 200; s++) await store.addItems(`other${s}`, [{ s }]);
      const client = await opened.client();
      const t = tableNames(schema, 'sessionkit_');
      await client.query(`ANALYZE ${t.items}`);
      await client.query(`ANALYZE ${t.sessions}`);
      const sql = statementSql(t, false);
      const res = await client.query(`EXPLAIN ${sql.tail}`, [Buffer.from('big'), 0, 5, 0, '9223372036854775807']);
      const plan = res.rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n');
      expect(plan).toMatch(/Index Scan Backward using sessionkit_items_pkey/);
      expect(plan).not.toMatch(/Seq Scan on sessionkit_items|Sort/);
      expect((await store.getItems('big', { limit: 3 })).map((x) => (x as { n: number }).n)).toEqual([1997, 1998, 1999]);
    });

    it('close() right after a call of several statements lets the whole call finish, not only its current query', async () => {
      const schema = uniqueSchema('close');
      await open(schema).ready();
      const calls: [string, (store: ReturnType<typeof open>) => Promise<unknown>, (items: unknown[]) => void][] = [
        ['transaction', (s) => s.applyHistoryTransaction('s', { operationId: 'op', transaction: { type: 'replace_suffix', expectedSuffix: [{ n: 2 }], replacement: [{ n: 9 }] } }), (items) => expect(items).toEqual([{ n: 1 }, { n: 9 }])],
        ['replaceHistory', (s) => s.replaceHistory!('s', [{ n: 7 }]), (items) => expect(items).toEqual([{ n: 7 }])],
        ['clearSession', (s) => s.clearSession('s'), (items) => expect(items).toEqual([])],
        ['prune', (s) => s.prune!({ olderThan: new Date(Date.now() + 60_000) }), (items) => expect(items).toEqual([])],
        ['popItem of a tagged item', (s) => s.popItem('s'), (items) => expect(items).toEqual([{ n: 1 }])],
      ];
      for (const [name, call, check] of calls) {
        const seed = open(schema);
        await seed.clearSession('s');
        await seed.addItems('s', name.startsWith('popItem') ? [{ n: 1 }, { bytes: new Uint8Array([1]) }] : [{ n: 1 }, { n: 2 }]);
        const store = open(schema);
        await store.ready();
        const pending = call(store).then(
          () => 'done',
          (error: unknown) => error,
        );
        await store.close();
        expect(await pending, name).toBe('done');
        check(await seed.getItems('s'));
      }
    });
  });
}
