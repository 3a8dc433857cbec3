import assert from 'node:assert/strict';
import { SessionErrorCode, type SessionStore } from '@sessionkit/core';
import type { HistoryChanges, HistoryVersion } from '@sessionkit/core/adapter';
import type { ConformanceTest } from '../conformance-test.js';
import { assertHistory, msg, rejectsWith, sleep } from '../checks.js';

const changesOf = (store: SessionStore, sessionId: string, since?: HistoryVersion): Promise<HistoryChanges> => store.readChanges!(sessionId, since);

/** A read since `since` after a write that was not an append: the whole history, never "appended" items. */
async function assertWhole(store: SessionStore, since: HistoryVersion, expected: readonly unknown[], after: string): Promise<HistoryVersion> {
  const changes = await changesOf(store, 's', since);
  assert.equal(changes.whole, true, `after ${after}, changes since an earlier version are the whole history`);
  assert.deepEqual(changes.items, expected, `after ${after}: the whole history`);
  assert.equal(changes.version.length, expected.length, `after ${after}: the version counts the history`);
  return changes.version;
}

/** `readChanges`: what was appended since a version, or the whole history when anything else changed it. */
export const changesTests: ConformanceTest[] = [
  {
    id: 'changes.appended',
    level: 'MUST',
    title: 'readChanges since a version returns exactly the items appended since, and the new version',
    requires: ['readChanges'],
    async run(ctx) {
      const store = await ctx.create();
      const empty = await changesOf(store, 's');
      assert.equal(empty.whole, true, 'without since: the whole history');
      assert.deepEqual(empty.items, []);
      assert.equal(empty.version.length, 0);
      await store.addItems('s', [msg('a'), msg('b')]);
      const first = await changesOf(store, 's', empty.version);
      assert.deepEqual(first.items, [msg('a'), msg('b')], 'a created session: its items (appended or whole)');
      assert.equal(first.version.length, 2);
      await store.addItems('s', [msg('c')]);
      await store.addItems('s', [msg('d'), msg('e')]);
      const appended = await changesOf(store, 's', first.version);
      assert.equal(appended.whole, false, 'only appends since: not the whole history');
      assert.deepEqual(appended.items, [msg('c'), msg('d'), msg('e')], 'the appended items, in order');
      assert.equal(appended.version.length, 5);
      const none = await changesOf(store, 's', appended.version);
      assert.equal(none.whole, false);
      assert.deepEqual(none.items, [], 'nothing appended: no items');
      assert.deepEqual(none.version, appended.version, 'nothing changed: the same version');
      const all = await changesOf(store, 's');
      assert.equal(all.whole, true);
      assert.deepEqual(all.items, await store.getItems('s'), 'without since: what getItems returns');
      const other = await changesOf(store, 'other', appended.version);
      assert.equal(other.whole, true, "another session's version names nothing here");
      assert.deepEqual(other.items, []);
    },
  },
  {
    id: 'changes.rewrites-renew',
    level: 'MUST',
    title: 'after a pop, a clear, a replace_suffix or a replaceHistory, changes since an earlier version are the whole history, even at the same length',
    requires: ['readChanges'],
    async run(ctx) {
      const store = await ctx.create();
      await store.addItems('s', [msg('a'), msg('b'), msg('c')]);
      let version = (await changesOf(store, 's')).version;
      await store.popItem('s');
      await store.addItems('s', [msg('x')]);
      version = await assertWhole(store, version, [msg('a'), msg('b'), msg('x')], 'a pop and an append back to the same length');
      await store.clearSession('s');
      await store.addItems('s', [msg('p'), msg('q'), msg('r'), msg('s')]);
      version = await assertWhole(store, version, [msg('p'), msg('q'), msg('r'), msg('s')], 'a clear and longer appends');
      if (store.capabilities.transactions) {
        await store.applyHistoryTransaction!('s', {
          operationId: 'changes-replace',
          transaction: { type: 'replace_suffix', expectedSuffix: [msg('s')], replacement: [msg('t'), msg('u')] },
        });
        version = await assertWhole(store, version, [msg('p'), msg('q'), msg('r'), msg('t'), msg('u')], 'a replace_suffix transaction');
      }
      if (store.capabilities.replaceHistory) {
        await store.replaceHistory!('s', [msg('1'), msg('2'), msg('3'), msg('4'), msg('5'), msg('6')]);
        version = await assertWhole(store, version, [msg('1'), msg('2'), msg('3'), msg('4'), msg('5'), msg('6')], 'replaceHistory');
      }
      await store.addItems('s', [msg('7')]);
      const appended = await changesOf(store, 's', version);
      assert.equal(appended.whole, false, 'appends after the rewrite are changes again');
      assert.deepEqual(appended.items, [msg('7')]);
    },
  },
  {
    id: 'changes.shared-handles',
    level: 'MUST',
    title: "a version is the backend's: another handle's pop and append make changes since it the whole history",
    requires: ['readChanges', 'reopen'],
    async run(ctx) {
      const store = await ctx.create();
      const other = await ctx.reopen(store);
      await store.addItems('s', [msg('a'), msg('b')]);
      const version = (await changesOf(store, 's')).version;
      await other.addItems('s', [msg('c')]);
      const appended = await changesOf(store, 's', version);
      assert.equal(appended.whole, false);
      assert.deepEqual(appended.items, [msg('c')], "the other handle's append");
      await other.popItem('s');
      await other.addItems('s', [msg('d')]);
      await assertWhole(store, appended.version, [msg('a'), msg('b'), msg('d')], "another handle's pop and append");
    },
  },
  {
    id: 'changes.since-validated',
    level: 'MUST',
    title: 'a malformed since is INVALID_ARGUMENT; a well-formed one this store never issued reads the whole history',
    requires: ['readChanges'],
    async run(ctx) {
      const store = await ctx.create();
      await store.addItems('s', [msg('a')]);
      for (const bad of [null, 'v1', { epoch: 1, length: 0 }, { epoch: 'e', length: -1 }, { epoch: 'e', length: 1.5 }, { epoch: 'e' }, { epoch: 'e'.repeat(1000), length: 0 }]) {
        await rejectsWith(() => store.readChanges!('s', bad as unknown as HistoryVersion), SessionErrorCode.InvalidArgument, `since ${JSON.stringify(bad)?.slice(0, 40)}`);
      }
      for (const foreign of [{ epoch: 'never-issued', length: 0 }, { epoch: '', length: 0 }]) {
        const changes = await changesOf(store, 's', foreign);
        assert.equal(changes.whole, true, `since ${JSON.stringify(foreign)}: the whole history`);
        assert.deepEqual(changes.items, [msg('a')]);
      }
      await assertHistory(store, 's', [msg('a')]);
    },
  },
  {
    id: 'changes.prune',
    level: 'MUST',
    title: "a pruned session has the epoch '' and reads as empty and whole, and starts a new epoch when written again",
    requires: ['readChanges', 'prune'],
    async run(ctx) {
      const store = await ctx.create();
      await store.addItems('s', [msg('a'), msg('b')]);
      const version = (await changesOf(store, 's')).version;
      // Margins of a second: some backends keep time in whole seconds.
      await sleep(1100);
      const cutoff = new Date();
      await sleep(1100);
      assert.equal(await store.prune!({ olderThan: cutoff }), 1);
      const pruned = await changesOf(store, 's', version);
      assert.equal(pruned.whole, true, 'pruned: the whole (empty) history');
      assert.deepEqual(pruned.items, []);
      assert.equal(pruned.version.epoch, '', "a session without a record has the epoch ''");
      assert.equal(pruned.version.length, 0);
      await store.addItems('s', [msg('c'), msg('d'), msg('e')]);
      await assertWhole(store, version, [msg('c'), msg('d'), msg('e')], 'a prune and new appends');
    },
  },
  {
    id: 'changes.expiry',
    level: 'MUST',
    title: 'a session that expired reads as empty and whole, and starts a new epoch when written again',
    requires: ['readChanges', 'ttl'],
    timeout: 30_000,
    async run(ctx) {
      const store = await ctx.create({ ttl: 2_000 });
      await store.addItems('s', [msg('a'), msg('b')]);
      const version = (await changesOf(store, 's')).version;
      await sleep(3_500);
      const expired = await changesOf(store, 's', version);
      assert.equal(expired.whole, true, 'expired: the whole (empty) history');
      assert.deepEqual(expired.items, []);
      assert.equal(expired.version.length, 0);
      await store.addItems('s', [msg('c'), msg('d'), msg('e')]);
      await assertWhole(store, version, [msg('c'), msg('d'), msg('e')], 'expiry and new appends');
    },
  },
];
