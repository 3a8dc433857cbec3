import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisServerAvailable, startRedisCluster } from '@sessionkit/test-servers';
import { SqliteStore } from '@sessionkit/sqlite';
import { cliJson, sampleItems, tempDir } from './helpers.js';

const haveRedis = redisServerAvailable();
if (!haveRedis) console.warn('!!! SKIPPED cli redis+cluster: no redis-server on PATH (apt-get install -y redis-server)');

describe.skipIf(!haveRedis)('redis+cluster:// URLs', () => {
  const tmp = tempDir();
  let cluster: Awaited<ReturnType<typeof startRedisCluster>>;
  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3 });
    const store = new SqliteStore({ path: tmp.path('a.db') });
    for (let i = 0; i < 40; i++) await store.addItems(`c-${i}`, sampleItems(i));
    await store.close();
  });
  afterAll(async () => {
    await cluster?.stop();
    tmp.remove();
  });

  it('copies into a 3-node cluster and verifies', async () => {
    const url = `redis+cluster://${cluster.nodes.map((n) => `${n.host}:${n.port}`).join(',')}?keyPrefix=cl:`;
    const report = await cliJson(['copy', `sqlite:${tmp.path('a.db')}`, url, '--verify', '--checkpoint', tmp.path('c.checkpoint')]);
    expect(report).toMatchObject({ written: 40, failures: [] });
    expect(report.verify.differences).toEqual([]);
    expect((await cliJson(['ls', url])).total).toBe(40);
    expect(await cliJson(['show', url, 'c-7'])).toEqual(sampleItems(7));
  });
});
