/**
 * readChanges on a real PostgreSQL, beyond the conformance suite's changes.*: versions are the
 * database's (stores with their own pools read and write one epoch), the one `changes` statement is
 * one snapshot (a reader keeping up with concurrent appenders rebuilds the history exactly), the
 * write paths conformance does not reach renew or keep the epoch as they must, the statement reads
 * only the new rows (EXPLAIN ANALYZE), and hostile ids and `since` epochs are data.
 */
import type { SessionItem } from '@sessionkit/core';
import type { HistoryVersion } from '@sessionkit/core/adapter';
import type { PostgresStore } from '@sessionkit/postgres';
import { describe, expect, it } from 'vitest';
import { tableNames } from '../src/schema.js';
import { statementSql } from '../src/statements.js';
import { testResources } from './resources.js';
import { postgresTarget, skipLine, uniqueSchema } from './server.js';

const target = await postgresTarget();
if ('skip' in target) {
  console.warn(skipLine('postgres readChanges tests', target.skip));
  describe.skip('PostgresStore readChanges', () => it('needs PostgreSQL', () => {}));
} else {
  const opened = testResources(target);
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const items = (from: number, count: number) => Array.from({ length: count }, (_, i) => ({ n: from + i }));
  const version = async (store: PostgresStore, id = 's') => (await store.readChanges(id)).version;

  /** Changes since `since` must be the whole history, `expected`. */
  const expectWhole = async (store: PostgresStore, since: HistoryVersion, expected: unknown[], id = 's') => {
    const changes = await store.readChanges(id, since);
    expect(changes.whole).toBe(true);
    expect(changes.items).toEqual(expected);
    expect(changes.version.length).toBe(expected.length);
    expect(changes.version.epoch).not.toBe(since.epoch);
  };

  /** Changes since `since` must be `appended`, with the epoch kept. */
  const expectAppended = async (store: PostgresStore, since: HistoryVersion, appended: unknown[], id = 's') => {
    const changes = await store.readChanges(id, since);
    expect(changes.whole).toBe(false);
    expect(changes.items).toEqual(appended);
    expect(changes.version).toEqual({ epoch: since.epoch, length: since.length + appended.length });
  };

  describe('PostgresStore readChanges', () => {
    it("two stores with their own pools on one database hand out and accept each other's versions", async () => {
      const schema = uniqueSchema('rcshare');
      const a = opened.store(schema);
      const b = opened.store(schema);
      await a.addItems('s', items(0, 2));
      const fromA = await version(a);
      expect(await version(b)).toEqual(fromA);
      expect(fromA.epoch).not.toBe('');
      await b.addItems('s', items(2, 1));
      await expectAppended(a, fromA, items(2, 1));
      // A version from one store is understood by the other.
      await expectAppended(b, fromA, items(2, 1));
      await b.popItem('s');
      await a.addItems('s', items(9, 1));
      const afterPop = await version(b);
      await expectWhole(a, { epoch: fromA.epoch, length: 3 }, [...items(0, 2), { n: 9 }]);
      expect(await version(a)).toEqual(afterPop);
      // Sessions have their own epochs.
      await b.addItems('t', items(0, 2));
      expect((await version(a, 't')).epoch).not.toBe(afterPop.epoch);
    });

    it('a reader polling while four stores append to one session rebuilds the history exactly from the appended changes', async () => {
      const schema = uniqueSchema('rcpoll');
      const writers = Array.from({ length: 4 }, () => opened.store(schema, { max: 2 }));
      const reader = opened.store(schema, { max: 2 });
      await writers[0]!.addItems('s', [{ w: -1, b: 0 }]);
      const first = await reader.readChanges('s');
      let since = first.version;
      const seen: SessionItem[] = [...first.items];
      let done = false;
      let reads = 0;
      const polling = (async () => {
        while (!done) {
          const changes = await reader.readChanges('s', since);
          // Only appends happen: never the whole history, and the items are exactly the new ones.
          expect(changes.whole).toBe(false);
          expect(changes.version.epoch).toBe(since.epoch);
          expect(changes.version.length).toBe(since.length + changes.items.length);
          seen.push(...changes.items);
          since = changes.version;
          reads++;
        }
      })();
      await Promise.all(
        writers.map(async (store, w) => {
          for (let b = 0; b < 25; b++) await store.addItems('s', [{ w, b }, { w, b }, { w, b }]);
        }),
      );
      done = true;
      await polling;
      const last = await reader.readChanges('s', since);
      seen.push(...last.items);
      expect(seen).toEqual(await reader.getItems('s'));
      expect(seen).toHaveLength(1 + 4 * 25 * 3);
      expect(reads).toBeGreaterThan(5);
    }, 60_000);

    it('a transaction that only appends and a conditional append keep the epoch; a two-step pop renews it', async () => {
      const store = opened.store(uniqueSchema('rcpaths'));
      await store.addItems('s', items(0, 2));
      let since = await version(store);
      await store.applyHistoryTransaction('s', { operationId: 'op-1', transaction: { type: 'append_items', items: items(2, 2) } });
      await expectAppended(store, since, items(2, 2));
      since = await version(store);
      await store.applyHistoryTransaction('s', { operationId: 'op-2', transaction: { type: 'replace_suffix', expectedSuffix: [], replacement: items(4, 1) } });
      await expectAppended(store, since, items(4, 1));
      since = await version(store);
      await store.addItems('s', items(5, 1), { expectedLength: 5 });
      await expectAppended(store, since, items(5, 1));
      // A tagged item is popped by popRead + popWrite (not popOne): back to the same length, a new epoch.
      const tagged = { bytes: new Uint8Array([1, 2]) };
      await store.addItems('s', [tagged]);
      since = await version(store);
      expect(await store.popItem('s')).toEqual(tagged);
      await store.addItems('s', [{ n: 99 }]);
      await expectWhole(store, since, [...items(0, 6), { n: 99 }]);
      // Popped to empty, then a conditional append at 0: the version at empty still says what was appended.
      for (let i = 0; i < 7; i++) await store.popItem('s');
      since = await version(store);
      expect(since.length).toBe(0);
      await store.addItems('s', items(0, 2), { expectedLength: 0 });
      const changes = await store.readChanges('s', since);
      expect(changes.items).toEqual(items(0, 2));
      expect(changes.version.length).toBe(2);
    });

    it('a session created by a transaction after a clear, and one revived after expiry by a conditional append or a transaction, get new epochs', async () => {
      const store = opened.store(uniqueSchema('rcnew'), { ttl: 1_000 });
      // Each starts from two items and ends, by a write that could pass for an append, at three.
      await store.addItems('cleared', items(0, 2));
      await store.addItems('expired-if', items(0, 2));
      await store.addItems('expired-tx', items(0, 2));
      const cleared = await version(store, 'cleared');
      const expiredIf = await version(store, 'expired-if');
      const expiredTx = await version(store, 'expired-tx');
      await store.clearSession('cleared');
      await store.applyHistoryTransaction('cleared', { operationId: 'op', transaction: { type: 'append_items', items: items(5, 3) } });
      await expectWhole(store, cleared, items(5, 3), 'cleared');
      await sleep(1_600);
      await store.addItems('expired-if', items(5, 3), { expectedLength: 0 });
      await store.applyHistoryTransaction('expired-tx', { operationId: 'op', transaction: { type: 'append_items', items: items(5, 3) } });
      await expectWhole(store, expiredIf, items(5, 3), 'expired-if');
      await expectWhole(store, expiredTx, items(5, 3), 'expired-tx');
    }, 30_000);

    it('the changes statement reads only the new rows through the items primary key, on a custom and on a generic plan', async () => {
      const schema = uniqueSchema('rcplan');
      const store = opened.store(schema);
      for (let b = 0; b < 20; b++) await store.addItems('big', items(b * 100, 100));
      for (let s = 0; s < 200; s++) await store.addItems(`other${s}`, [{ s }]);
      const { epoch } = await version(store, 'big');
      const client = await opened.client();
      const t = tableNames(schema, 'sessionkit_');
      await client.query(`ANALYZE ${t.items}`);
      await client.query(`ANALYZE ${t.sessions}`);
      const sql = statementSql(t, false);
      const id = `'\\x${Buffer.from('big').toString('hex')}'::bytea`;
      const itemScan = (plan: string) => {
        expect(plan).not.toMatch(/Seq Scan on sessionkit_items|Sort/);
        // A LIMIT 0 never starts the scan under it.
        const scan = /Index Scan Backward using sessionkit_items_pkey on sessionkit_items\s*\((?:actual rows=(\d+) loops=1|never executed)\)/.exec(plan);
        expect(scan, plan).not.toBeNull();
        return Number(scan![1] ?? 0);
      };
      await client.query('BEGIN');
      try {
        await client.query(`PREPARE changes_plan AS ${sql.changes}`);
        const explain = async (sinceEpoch: string | null, sinceLength: number) =>
          (
            await client.query(
              `EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) EXECUTE changes_plan(${id}, ${Number.MIN_SAFE_INTEGER}, ${
                sinceEpoch === null ? 'NULL' : client.escapeLiteral(sinceEpoch)
              }, ${sinceLength}, 0, 9223372036854775807)`,
            )
          ).rows
            .map((r: Record<string, string>) => r['QUERY PLAN'])
            .join('\n');
        for (const mode of ['force_custom_plan', 'force_generic_plan']) {
          await client.query(`SET LOCAL plan_cache_mode = ${mode}`);
          expect(itemScan(await explain(epoch, 1995)), mode).toBe(5);
          expect(itemScan(await explain(epoch, 2000)), mode).toBe(0);
          // The whole history: every row (so the counts above are the scan's, not a constant).
          expect(itemScan(await explain(null, 0)), mode).toBe(2000);
          expect(itemScan(await explain('another epoch', 1995)), mode).toBe(2000);
        }
      } finally {
        await client.query('ROLLBACK');
      }
      const changes = await store.readChanges('big', { epoch, length: 1995 });
      expect(changes).toEqual({ version: { epoch, length: 2000 }, whole: false, items: items(1995, 5) });
    });

    it('hostile ids and since epochs are data: each id reads its own session, an epoch PostgreSQL text cannot hold reads the whole history', async () => {
      const schema = uniqueSchema('rchostile');
      const store = opened.store(schema);
      const ids = [`x'; DROP TABLE sessionkit_items; --`, `' OR '1'='1`, '$1', '\u0000', 'a\u0000b', '"; SELECT pg_sleep(10); --', '%', '_'];
      for (const [n, id] of ids.entries()) await store.addItems(id, [{ n }]);
      for (const [n, id] of ids.entries()) {
        const changes = await store.readChanges(id);
        expect(changes.items).toEqual([{ n }]);
        await store.addItems(id, [{ n, again: true }]);
        await expectAppended(store, changes.version, [{ n, again: true }], id);
      }
      const { epoch } = await version(store, '%');
      const epochs = [`' OR epoch <> '`, `'; DROP TABLE sessionkit_sessions; --`, '\u0000', `${epoch}\u0000`, 'a\ud800b', '\udfff', '$3'];
      for (const hostile of epochs) {
        const changes = await store.readChanges('%', { epoch: hostile, length: 0 });
        expect(changes.whole, JSON.stringify(hostile)).toBe(true);
        expect(changes.items).toEqual([{ n: 6 }, { n: 6, again: true }]);
      }
      // A length past PostgreSQL's integer with the session's own epoch: the whole history, no overflow.
      expect((await store.readChanges('%', { epoch, length: Number.MAX_SAFE_INTEGER })).whole).toBe(true);
      for (const [n, id] of ids.entries()) expect(await store.getItems(id)).toEqual([{ n }, { n, again: true }]);
    });
  });
}
