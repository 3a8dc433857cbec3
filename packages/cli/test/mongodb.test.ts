import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '@sessionkit/sqlite';
import { cliJson, sampleItems, tempDir } from './helpers.js';

// No mongod exists for these machines (docs/mongodb.md): run against MONGODB_URI when it is set.
const uri = process.env.MONGODB_URI;
if (!uri) console.warn('!!! SKIPPED cli mongodb:// tests: set MONGODB_URI to a MongoDB server (replica set for transactions) to run them');

describe.skipIf(!uri)('mongodb:// URLs', () => {
  const tmp = tempDir();
  afterAll(() => tmp.remove());

  it('copies SQLite → MongoDB → SQLite with every item intact', async () => {
    const store = new SqliteStore({ path: tmp.path('a.db') });
    for (let i = 0; i < 10; i++) await store.addItems(`m-${i}`, sampleItems(i));
    await store.close();
    const url = new URL(uri!);
    url.searchParams.set('collectionPrefix', `sktest_cli_${Date.now()}_`);
    const mongo = url.toString();
    const there = await cliJson(['copy', `sqlite:${tmp.path('a.db')}`, mongo, '--verify', '--checkpoint', tmp.path('1.checkpoint')]);
    expect(there.verify.differences).toEqual([]);
    const back = await cliJson(['copy', mongo, `sqlite:${tmp.path('b.db')}`, '--verify', '--checkpoint', tmp.path('2.checkpoint')]);
    expect(back).toMatchObject({ written: 10 });
    expect(await cliJson(['show', `sqlite:${tmp.path('b.db')}`, 'm-3'])).toEqual(sampleItems(3));
    expect(await cliJson(['doctor', mongo])).toMatchObject({ sessions: 10, problems: [] });
  });
});
