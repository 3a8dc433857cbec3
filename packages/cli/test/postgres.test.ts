import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresUnavailableReason, startPostgres } from '@sessionkit/test-servers';
import { SqliteStore } from '@sessionkit/sqlite';
import { cliJson, sampleItems, tempDir } from './helpers.js';

const reason = postgresUnavailableReason();
if (reason) console.warn(`!!! SKIPPED cli postgres:// tests: ${reason}`);

describe.skipIf(Boolean(reason))('postgres:// URLs', () => {
  const tmp = tempDir();
  let pg: Awaited<ReturnType<typeof startPostgres>>;
  beforeAll(async () => {
    pg = await startPostgres();
    const store = new SqliteStore({ path: tmp.path('a.db') });
    for (let i = 0; i < 20; i++) await store.addItems(`p-${i}`, sampleItems(i));
    await store.close();
  });
  afterAll(async () => {
    await pg?.stop();
    tmp.remove();
  });

  it('copies SQLite → Postgres → SQLite with every item intact, and reads back with every command', async () => {
    const url = `${pg.url}?tablePrefix=cli_`;
    const there = await cliJson(['copy', `sqlite:${tmp.path('a.db')}`, url, '--verify', '--checkpoint', tmp.path('1.checkpoint')]);
    expect(there).toMatchObject({ written: 20, failures: [] });
    expect(there.verify.differences).toEqual([]);
    const back = await cliJson(['copy', url, `sqlite:${tmp.path('b.db')}`, '--verify', '--checkpoint', tmp.path('2.checkpoint')]);
    expect(back).toMatchObject({ written: 20 });
    expect(await cliJson(['show', `sqlite:${tmp.path('b.db')}`, 'p-3'])).toEqual(sampleItems(3));
    expect((await cliJson(['ls', url])).total).toBe(20);
    expect(await cliJson(['doctor', url])).toMatchObject({ sessions: 20, problems: [] });
    expect(await cliJson(['clear', url, 'p-0'])).toEqual({ cleared: 'p-0' });
    expect((await cliJson(['stats', url])).sessions).toBe(19);
  });
});
