import assert from 'node:assert/strict';
import type { ConformanceTest } from '../conformance-test.js';
import { collect, msg, sleep } from '../checks.js';

// Wide margins: some backends keep time in whole seconds (S3 metadata, Mongo's TTL monitor).
const TTL = 2_000;

export const ttlTests: ConformanceTest[] = [
  {
    id: 'ttl.expires',
    level: 'MUST',
    title: 'a session reads as empty (and is neither listed nor described) once ttl has passed since its last write',
    requires: ['ttl'],
    timeout: 30_000,
    async run(ctx) {
      const store = await ctx.create({ ttl: TTL });
      await store.addItems('s', [msg('a')]);
      assert.deepEqual(await store.getItems('s'), [msg('a')]);
      if (store.capabilities.sessionInfo) {
        const info = await store.getSessionInfo!('s');
        assert.ok(info?.expiresAt instanceof Date, 'info of a store with ttl carries expiresAt');
      }
      await sleep(TTL + 1_500);
      assert.deepEqual(await store.getItems('s'), []);
      assert.equal(await store.popItem('s'), undefined);
      if (store.capabilities.sessionInfo) assert.equal(await store.getSessionInfo!('s'), undefined);
      if (store.capabilities.listSessions) assert.deepEqual(await collect(store.listSessions!()), []);
      await store.addItems('s', [msg('fresh')]);
      assert.deepEqual(await store.getItems('s'), [msg('fresh')], 'an expired session starts anew');
    },
  },
  {
    id: 'ttl.refreshed-by-writes',
    level: 'MUST',
    title: 'each write restarts the ttl',
    requires: ['ttl'],
    timeout: 30_000,
    async run(ctx) {
      const store = await ctx.create({ ttl: TTL });
      await store.addItems('s', [msg('a')]);
      await sleep(TTL * 0.6);
      await store.addItems('s', [msg('b')]);
      await sleep(TTL * 0.6);
      assert.deepEqual(await store.getItems('s'), [msg('a'), msg('b')], 'still alive: the second write restarted the ttl');
    },
  },
];
