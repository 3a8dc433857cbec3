import { redisServerAvailable, startRedis, startRedisSentinel, type RedisServer, type RedisSentinelServer } from '@sessionkit/test-servers';
import { RedisStore } from '@sessionkit/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniquePrefix } from './setup.js';

const available = redisServerAvailable();
if (!available) {
  console.warn('!!! SKIPPED redis sentinel test: no redis-server on PATH. Install it (apt-get install -y redis-server) to run it.');
}

describe.skipIf(!available)('RedisStore through Sentinel', () => {
  let master: RedisServer;
  let sentinel: RedisSentinelServer;
  beforeAll(async () => {
    master = await startRedis();
    sentinel = await startRedisSentinel({ master });
  });
  afterAll(async () => {
    await sentinel?.stop();
    await master?.stop();
  });

  it('finds the master through Sentinel and stores, reads, lists and transacts', async () => {
    const store = new RedisStore({
      redisOptions: { sentinels: [...sentinel.sentinels], name: sentinel.name },
      keyPrefix: uniquePrefix('sentinel'),
    });
    await store.addItems('s', [{ a: 1 }, { b: 2 }]);
    await store.applyHistoryTransaction('s', { operationId: 'o', transaction: { type: 'replace_suffix', expectedSuffix: [{ b: 2 }], replacement: [{ c: 3 }] } });
    expect(await store.getItems('s')).toEqual([{ a: 1 }, { c: 3 }]);
    const listed = [];
    for await (const info of store.listSessions()) listed.push(info.sessionId);
    expect(listed).toEqual(['s']);
    await store.close();
  });
});
