import assert from 'node:assert/strict';
import { SessionErrorCode } from '@sessionkit/core';
import type { ConformanceTest } from '../conformance-test.js';
import { batch, collect, msg, rejectsWith, sleep } from '../checks.js';

export const listingTests: ConformanceTest[] = [
  {
    id: 'list.every-session-once',
    level: 'MUST',
    title: 'listSessions yields every session with items exactly once, across pages of any size',
    requires: ['listSessions'],
    timeout: 60_000,
    async run(ctx) {
      const store = await ctx.create();
      const count = ctx.n(230);
      const ids = Array.from({ length: count }, (_, i) => `session-${String(i).padStart(4, '0')}`);
      for (let i = 0; i < ids.length; i += 10) {
        await Promise.all(ids.slice(i, i + 10).map((id) => store.addItems(id, [msg(id)])));
      }
      for (const pageSize of [undefined, 1, 7, 100, 1000]) {
        const listed = (await collect(store.listSessions!(pageSize === undefined ? {} : { pageSize }))).map((info) => info.sessionId);
        assert.equal(listed.length, ids.length, `pageSize ${pageSize}: ${listed.length} listed`);
        assert.deepEqual([...listed].sort(), ids, `pageSize ${pageSize}`);
      }
    },
  },
  {
    id: 'list.excludes-empty',
    level: 'MUST',
    title: 'sessions that were cleared or popped empty are not listed',
    requires: ['listSessions'],
    async run(ctx) {
      const store = await ctx.create();
      await store.addItems('kept', [msg('k')]);
      await store.addItems('cleared', [msg('c')]);
      await store.addItems('popped', [msg('p')]);
      await store.clearSession('cleared');
      await store.popItem('popped');
      await store.addItems('never', []);
      assert.deepEqual((await collect(store.listSessions!())).map((info) => info.sessionId), ['kept']);
    },
  },
  {
    id: 'list.info',
    level: 'MUST',
    title: 'listed entries carry the session’s item count and dates',
    requires: ['listSessions'],
    async run(ctx) {
      const store = await ctx.create();
      const before = Date.now();
      await store.addItems('s', batch('x', 3));
      const [info] = await collect(store.listSessions!());
      assert.equal(info?.sessionId, 's');
      assert.equal(info?.itemCount, 3);
      assert.ok(info?.createdAt instanceof Date && info.updatedAt instanceof Date, 'createdAt and updatedAt are Dates');
      assert.ok(info.updatedAt.getTime() >= info.createdAt.getTime());
      assert.ok(info.updatedAt.getTime() >= before - 2000, 'updatedAt is recent');
    },
  },
  {
    id: 'list.invalid-page-size',
    level: 'MUST',
    title: 'a page size that is not a positive integer fails with INVALID_ARGUMENT',
    requires: ['listSessions'],
    async run(ctx) {
      const store = await ctx.create();
      await store.addItems('s', [msg('x')]);
      for (const pageSize of [0, -1, 1.5, Number.NaN, '10']) {
        await rejectsWith(() => store.listSessions!({ pageSize: pageSize as number }), SessionErrorCode.InvalidArgument, `pageSize ${String(pageSize)}`);
      }
    },
  },
  {
    id: 'info.lifecycle',
    level: 'MUST',
    title: 'getSessionInfo counts items and keeps createdAt while updatedAt follows writes (append, pop, transaction); undefined once empty',
    requires: ['sessionInfo'],
    async run(ctx) {
      const store = await ctx.create();
      assert.equal(await store.getSessionInfo!('s'), undefined);
      await store.addItems('s', batch('x', 3));
      const first = await store.getSessionInfo!('s');
      assert.equal(first?.sessionId, 's');
      assert.equal(first?.itemCount, 3);
      assert.ok(first.createdAt instanceof Date && first.updatedAt instanceof Date);
      await sleep(1100);
      await store.addItems('s', [msg('y')]);
      const second = await store.getSessionInfo!('s');
      assert.equal(second?.itemCount, 4);
      assert.equal(second.createdAt.getTime(), first.createdAt.getTime(), 'createdAt must not move on append');
      assert.ok(second.updatedAt.getTime() > first.updatedAt.getTime(), 'updatedAt must follow the last write');
      // updatedAt follows every write: append, pop, transaction (contract: SessionInfo).
      await sleep(1100);
      await store.popItem('s');
      const popped = await store.getSessionInfo!('s');
      assert.equal(popped?.itemCount, 3);
      assert.equal(popped.createdAt.getTime(), first.createdAt.getTime(), 'createdAt must not move on pop');
      assert.ok(popped.updatedAt.getTime() > second.updatedAt.getTime(), 'updatedAt must follow the last write: a pop');
      let last = popped;
      if (store.capabilities.transactions) {
        await sleep(1100);
        await store.applyHistoryTransaction!('s', { operationId: 'info-op', transaction: { type: 'append_items', items: [msg('t')] } });
        const transacted = await store.getSessionInfo!('s');
        assert.equal(transacted?.itemCount, 4);
        assert.equal(transacted.createdAt.getTime(), first.createdAt.getTime(), 'createdAt must not move on a transaction');
        assert.ok(transacted.updatedAt.getTime() > popped.updatedAt.getTime(), 'updatedAt must follow the last write: a transaction');
        last = transacted;
      }
      await store.clearSession('s');
      assert.equal(await store.getSessionInfo!('s'), undefined);
      await store.addItems('s', [msg('z')]);
      const third = await store.getSessionInfo!('s');
      assert.equal(third?.itemCount, 1);
      assert.ok(third.createdAt.getTime() >= last.updatedAt.getTime(), 'a cleared session starts a new createdAt');
    },
  },
  {
    id: 'prune.older-than',
    level: 'MUST',
    title: 'prune deletes exactly the sessions last written before the cutoff and returns how many',
    requires: ['prune'],
    async run(ctx) {
      const store = await ctx.create();
      await store.addItems('old-1', [msg('a')]);
      await store.addItems('old-2', [msg('b')]);
      await sleep(1100);
      const cutoff = new Date();
      await sleep(1100);
      await store.addItems('new', [msg('c')]);
      assert.equal(await store.prune!({ olderThan: cutoff }), 2);
      assert.deepEqual(await store.getItems('old-1'), []);
      assert.deepEqual(await store.getItems('old-2'), []);
      assert.deepEqual(await store.getItems('new'), [msg('c')]);
      assert.equal(await store.prune!({ olderThan: cutoff }), 0);
      if (store.capabilities.listSessions) {
        assert.deepEqual((await collect(store.listSessions!())).map((info) => info.sessionId), ['new']);
      }
      await store.addItems('old-1', [msg('again')]);
      assert.deepEqual(await store.getItems('old-1'), [msg('again')]);
    },
  },
  {
    id: 'prune.ttl-expired',
    level: 'MUST',
    title: 'with ttl, prune removes every session last written before the cutoff and counts only those ttl had not expired',
    requires: ['prune', 'ttl'],
    timeout: 30_000,
    async run(ctx) {
      // Long enough that "live-old" outlives the two cutoff margins; margins
      // of a second because some backends keep time in whole seconds.
      const ttl = 4_000;
      const store = await ctx.create({ ttl });
      await store.addItems('expired', [msg('e')]);
      const expiredAt = Date.now();
      // Nothing reads "expired" before the prune: a read may delete an expired session lazily and hide a miscount.
      await sleep(ttl - 700);
      await store.addItems('live-old', [msg('l')]);
      await sleep(1100);
      const cutoff = new Date();
      await sleep(1100);
      await store.addItems('new', [msg('n')]);
      const wait = expiredAt + ttl + 1_500 - Date.now();
      if (wait > 0) await sleep(wait);
      assert.equal(await store.prune!({ olderThan: cutoff }), 1, 'prune counts live-old only, not the session ttl had expired');
      assert.deepEqual(await store.getItems('expired'), []);
      assert.deepEqual(await store.getItems('live-old'), []);
      assert.deepEqual(await store.getItems('new'), [msg('n')]);
      assert.equal(await store.prune!({ olderThan: cutoff }), 0);
      if (store.capabilities.listSessions) {
        assert.deepEqual((await collect(store.listSessions!())).map((info) => info.sessionId), ['new']);
      }
    },
  },
  {
    id: 'prune.invalid',
    level: 'MUST',
    title: 'prune without a valid olderThan date fails with INVALID_ARGUMENT and deletes nothing',
    requires: ['prune'],
    async run(ctx) {
      const store = await ctx.create();
      await store.addItems('s', [msg('a')]);
      for (const options of [undefined, {}, { olderThan: 'yesterday' }, { olderThan: Date.now() }, { olderThan: new Date(Number.NaN) }]) {
        await rejectsWith(() => store.prune!(options as never), SessionErrorCode.InvalidArgument, `prune(${JSON.stringify(options)})`);
      }
      assert.deepEqual(await store.getItems('s'), [msg('a')]);
    },
  },
];
