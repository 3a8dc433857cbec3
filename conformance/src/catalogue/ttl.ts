import assert from 'node:assert/strict';
import type { SessionStore } from '@sessionkit/core';
import type { ConformanceTest } from '../conformance-test.js';
import { assertHistory, collect, msg, sleep } from '../checks.js';

// Wide margins: some backends keep time in whole seconds (S3 metadata, Mongo's TTL monitor).
const TTL = 2_000;
/** How far a reported expiry may be from `ttl` after the write, for backends that keep whole seconds. */
const EXPIRY_SLACK = 1_000;

/**
 * Runs `write` and, where the store describes sessions, checks that the
 * reported expiresAt is `ttl` after that write (not after an earlier one).
 */
async function timedWrite(store: SessionStore, sessionId: string, what: string, write: () => Promise<unknown>): Promise<void> {
  const before = Date.now();
  await write();
  const after = Date.now();
  if (!store.capabilities.sessionInfo) return;
  const info = await store.getSessionInfo!(sessionId);
  assert.ok(info?.expiresAt instanceof Date, `after ${what}, the info of a store with ttl carries expiresAt`);
  const at = info.expiresAt.getTime();
  assert.ok(
    at >= before + TTL - EXPIRY_SLACK && at <= after + TTL + EXPIRY_SLACK,
    `after ${what}, expiresAt is ${at - after} ms from the write: it must be the ttl (${TTL} ms) after the last write`,
  );
}

export const ttlTests: ConformanceTest[] = [
  {
    id: 'ttl.expires',
    level: 'MUST',
    title: 'a session reads as empty (and is neither listed nor described) once ttl has passed since its last write',
    requires: ['ttl'],
    timeout: 30_000,
    async run(ctx) {
      const store = await ctx.create({ ttl: TTL });
      await timedWrite(store, 's', 'the first write', () => store.addItems('s', [msg('a')]));
      assert.deepEqual(await store.getItems('s'), [msg('a')]);
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
    title: 'each write (append, pop, transaction, replacement) restarts the ttl, and expiresAt is the ttl after the last write',
    requires: ['ttl'],
    timeout: 30_000,
    async run(ctx) {
      const store = await ctx.create({ ttl: TTL });
      // Each step waits 0.6 ttl: a session alive after two steps was kept alive by the write between them.
      await timedWrite(store, 's', 'the first append', () => store.addItems('s', [msg('a'), msg('b')]));
      await sleep(TTL * 0.6);
      await timedWrite(store, 's', 'a second append', () => store.addItems('s', [msg('c')]));
      await sleep(TTL * 0.6);
      await assertHistory(store, 's', [msg('a'), msg('b'), msg('c')], 'still alive: the second append restarted the ttl');
      await timedWrite(store, 's', 'a pop', () => store.popItem('s'));
      await sleep(TTL * 0.6);
      await assertHistory(store, 's', [msg('a'), msg('b')], 'still alive: the pop restarted the ttl');
      const expected = [msg('a'), msg('b')];
      if (store.capabilities.transactions) {
        await timedWrite(store, 's', 'a transaction', () =>
          store.applyHistoryTransaction!('s', { operationId: 'ttl-op', transaction: { type: 'append_items', items: [msg('t')] } }),
        );
        expected.push(msg('t'));
        await sleep(TTL * 0.6);
        await assertHistory(store, 's', expected, 'still alive: the transaction restarted the ttl');
      }
      if (store.capabilities.replaceHistory) {
        await timedWrite(store, 's', 'a replacement', () => store.replaceHistory!('s', [msg('r')]));
        await sleep(TTL * 0.6);
        await assertHistory(store, 's', [msg('r')], 'still alive: the replacement restarted the ttl');
      }
    },
  },
];
