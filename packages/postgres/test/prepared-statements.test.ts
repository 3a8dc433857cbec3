/**
 * Named (protocol-level) prepared statements: the store plans each statement
 * once per connection, stores sharing a pool never collide on a name, and
 * `preparedStatements: false` sends only unnamed statements.
 */
import { PostgresStore } from '@sessionkit/postgres';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { testResources } from './resources.js';
import { postgresTarget, skipLine, uniqueSchema } from './server.js';

const target = await postgresTarget();
if ('skip' in target) {
  console.warn(skipLine('postgres prepared-statement tests', target.skip));
  describe.skip('PostgresStore prepared statements', () => it('needs PostgreSQL', () => {}));
} else {
  const url = target.url;
  const opened = testResources(target);
  /** One connection, so what the store prepared is visible to the next query on the pool. */
  const onePool = () => opened.pool(1);
  const prepared = async (pool: pg.Pool) =>
    (await pool.query<{ name: string }>('SELECT name FROM pg_prepared_statements ORDER BY name')).rows.map((r) => r.name);

  const exercise = async (store: PostgresStore, id = 's') => {
    await store.addItems(id, [{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(await store.getItems(id)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(await store.getItems(id, { limit: 1 })).toEqual([{ n: 3 }]);
    expect(await store.popItem(id)).toEqual({ n: 3 });
    expect(await store.getSessionInfo(id)).toMatchObject({ itemCount: 2 });
  };

  describe('PostgresStore prepared statements', () => {
    it('runs its statements as named prepared statements; two stores with different schemas on one pool keep apart', async () => {
      const pool = onePool();
      const a = new PostgresStore({ pool, schema: uniqueSchema('psa') });
      const b = new PostgresStore({ pool, schema: uniqueSchema('psb'), ttl: 60_000 });
      await exercise(a);
      await exercise(b);
      // Same statements, different texts: distinct names, both prepared on the one connection.
      const names = await prepared(pool);
      const appends = names.filter((n) => n.startsWith('sk_append_'));
      expect(appends).toHaveLength(2);
      expect(names.filter((n) => n.startsWith('sk_popOne_'))).toHaveLength(2);
      // Reused, not re-prepared: more calls add no statements.
      await exercise(a, 't');
      expect(await prepared(pool)).toEqual(names);
      await a.close();
      await b.close();
    });

    it('the per-turn, tail-read, pop and readChanges statements settle on a reused (generic) plan instead of re-planning every call', async () => {
      const pool = onePool();
      const store = new PostgresStore({ pool, schema: uniqueSchema('psg') });
      for (let s = 0; s < 20; s++) await store.addItems(`other${s}`, Array.from({ length: 50 }, (_, n) => ({ n })));
      let since = (await store.readChanges('s')).version;
      for (let i = 0; i < 12; i++) {
        await store.getItems('s');
        await store.addItems('s', [{ i }, { i }, { i }]);
        // The appended items, then (after the pop) the whole history.
        since = (await store.readChanges('s', since)).version;
        await store.getItems('s', { limit: 5 });
        await store.popItem('s');
        since = (await store.readChanges('s', since)).version;
      }
      const rows = (
        await pool.query<{ name: string; generic_plans: string; custom_plans: string }>(
          'SELECT name, generic_plans, custom_plans FROM pg_prepared_statements',
        )
      ).rows;
      const plans = Object.fromEntries(rows.map((r) => [r.name.split('_')[1], Number(r.generic_plans)]));
      // The first five executions are custom plans by PostgreSQL's rule; the rest must be generic.
      for (const statement of ['all', 'append', 'tail', 'popOne', 'changes']) expect(plans[statement], statement).toBeGreaterThanOrEqual(6);
      await store.close();
    });

    it('with preparedStatements: false it sends unnamed statements only', async () => {
      const pool = onePool();
      const store = new PostgresStore({ pool, schema: uniqueSchema('psu'), preparedStatements: false });
      await exercise(store);
      expect(await prepared(pool)).toEqual([]);
      await store.close();
    });

    it('refuses a non-boolean preparedStatements', () => {
      expect(() => new PostgresStore({ connectionString: url, preparedStatements: 'yes' as unknown as boolean })).toThrow(
        /preparedStatements must be a boolean/,
      );
    });
  });
}
