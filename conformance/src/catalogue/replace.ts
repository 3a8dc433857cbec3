import assert from 'node:assert/strict';
import { bindSession, SessionErrorCode, type HistoryTransactionArgs, type SessionStore } from '@sessionkit/core';
import type { ConformanceTest } from '../conformance-test.js';
import { assertHistory, batch, collect, contents, msg, rejectsWith, sleep } from '../checks.js';
import { SDK_ITEMS } from './fidelity.js';
import { invalidItems } from './input.js';

const replace = (store: SessionStore, sessionId: string, items: readonly unknown[]) => store.replaceHistory!(sessionId, items);
const append = (operationId: string, text: string): HistoryTransactionArgs => ({
  operationId,
  transaction: { type: 'append_items', items: [msg(text)] },
});

/** Whole-history replacement: the Agents SDK's `replaceHistoryWithCompaction`. */
export const replaceTests: ConformanceTest[] = [
  {
    id: 'replace.read-back',
    level: 'MUST',
    title: 'replaceHistory swaps the whole history: the new items read back exactly, with limits, other sessions untouched',
    requires: ['replaceHistory'],
    async run(ctx) {
      const store = await ctx.create();
      await store.addItems('s', batch('old', 5));
      await store.addItems('other', [msg('keep')]);
      const next = [{ type: 'compaction', summary: 'the story so far' }, ...SDK_ITEMS.slice(0, 3), msg('newest')];
      await replace(store, 's', next);
      await assertHistory(store, 's', next);
      assert.deepEqual(await store.getItems('s', { limit: 2 }), next.slice(-2));
      await assertHistory(store, 'other', [msg('keep')]);
      // Then the session behaves as any other: appends go after the new items, pops take the newest.
      await store.addItems('s', [msg('after')]);
      assert.deepEqual(await store.popItem('s'), msg('after'));
      await assertHistory(store, 's', next);
      // A session that did not exist yet is created by a replacement.
      await replace(store, 'fresh', [msg('only')]);
      await assertHistory(store, 'fresh', [msg('only')]);
      const bound = bindSession(store, 's');
      assert.equal(typeof bound.replaceHistoryWithCompaction, 'function', 'a bound session has replaceHistoryWithCompaction');
      await bound.replaceHistoryWithCompaction!([msg('bound')]);
      await assertHistory(store, 's', [msg('bound')]);
    },
  },
  {
    id: 'replace.empty',
    level: 'MUST',
    title: 'replaceHistory with no items leaves the session empty (not listed, no info) and usable',
    requires: ['replaceHistory'],
    async run(ctx) {
      const store = await ctx.create();
      await store.addItems('s', batch('old', 3));
      await replace(store, 's', []);
      await assertHistory(store, 's', []);
      assert.equal(await store.popItem('s'), undefined);
      if (store.capabilities.sessionInfo) assert.equal(await store.getSessionInfo!('s'), undefined, 'an emptied session has no info');
      await replace(store, 'never-written', []);
      await assertHistory(store, 'never-written', []);
      if (store.capabilities.listSessions) {
        assert.deepEqual((await collect(store.listSessions!())).map((info) => info.sessionId), [], 'an emptied session (and one replaced by nothing) is not listed');
      }
      await store.addItems('s', [msg('again')]);
      await assertHistory(store, 's', [msg('again')]);
    },
  },
  {
    id: 'replace.keeps-created-at',
    level: 'MUST',
    title: 'replaceHistory keeps createdAt and moves updatedAt; replacing an empty session starts createdAt afresh',
    requires: ['replaceHistory', 'sessionInfo'],
    async run(ctx) {
      const store = await ctx.create();
      await store.addItems('s', [msg('first')]);
      const before = (await store.getSessionInfo!('s'))!;
      await sleep(20);
      await replace(store, 's', [msg('summary'), msg('newest')]);
      const after = (await store.getSessionInfo!('s'))!;
      assert.equal(after.createdAt.getTime(), before.createdAt.getTime(), 'createdAt kept');
      assert.ok(after.updatedAt.getTime() > before.updatedAt.getTime(), 'updatedAt moves with the replacement');
      assert.equal(after.itemCount, 2);
      await replace(store, 's', []);
      await sleep(20);
      const started = Date.now();
      await replace(store, 's', [msg('reborn')]);
      const reborn = (await store.getSessionInfo!('s'))!;
      assert.ok(reborn.createdAt.getTime() >= started - 5, 'a replacement of an empty session is its first write');
    },
  },
  {
    id: 'replace.keeps-operation-log',
    level: 'MUST',
    title: 'replaceHistory keeps the operation log: a transaction replayed after the replacement (even an empty one) is still a no-op',
    requires: ['replaceHistory', 'transactions'],
    async run(ctx) {
      const store = await ctx.create();
      await store.applyHistoryTransaction!('s', append('op-1', 'a'));
      await replace(store, 's', [msg('summary')]);
      await store.applyHistoryTransaction!('s', append('op-1', 'a'));
      await assertHistory(store, 's', [msg('summary')]);
      await rejectsWith(() => store.applyHistoryTransaction!('s', append('op-1', 'different')), SessionErrorCode.Conflict, 'reuse after replace');
      await replace(store, 's', []);
      await store.applyHistoryTransaction!('s', append('op-1', 'a'));
      await assertHistory(store, 's', []);
    },
  },
  {
    id: 'replace.refused-changes-nothing',
    level: 'MUST',
    title: 'a replacement with a bad item at the end, or that is not an array, is refused and changes nothing',
    requires: ['replaceHistory'],
    async run(ctx) {
      const store = await ctx.create();
      const history = batch('old', 4);
      await store.addItems('s', history);
      for (const [kind, bad] of invalidItems()) {
        await rejectsWith(() => replace(store, 's', [msg('summary'), msg('ok'), bad]), SessionErrorCode.InvalidItem, kind);
        await rejectsWith(() => replace(store, 'fresh', [msg('ok'), bad]), SessionErrorCode.InvalidItem, kind);
      }
      for (const value of [undefined, null, 'items', 42]) {
        await rejectsWith(() => replace(store, 's', value as never), [SessionErrorCode.InvalidArgument, SessionErrorCode.InvalidItem], String(value));
      }
      await assertHistory(store, 's', history);
      await assertHistory(store, 'fresh', []);
    },
  },
  {
    id: 'replace.atomic-across-processes',
    level: 'MUST',
    title: 'a reader in another process polling during many replacements sees the whole old or the whole new history, never an empty or partial one',
    requires: ['replaceHistory', 'processes'],
    timeout: 120_000,
    async run(ctx) {
      const store = await ctx.create();
      // Different lengths and contents, so a torn read cannot look like either.
      const histories = [contents(batch('a', 3)) as string[], contents(batch('b', 7)) as string[]];
      const done = ['done'];
      await replace(store, 'hot', histories[0]!.map((c) => msg(c)));
      const [replacer, watcher] = (await ctx.runProcesses(store, [
        { kind: 'replace', sessionId: 'hot', histories, rounds: ctx.n(60), done },
        { kind: 'watch', sessionId: 'hot', histories, done, maxMs: 90_000 },
      ])) as [{ ok: boolean }, { ok: boolean; reads: number; bad: string[]; finished: boolean }];
      assert.equal(replacer.ok, true, `the replacing process failed: ${JSON.stringify(replacer)}`);
      assert.equal(watcher.ok, true, `the reading process failed: ${JSON.stringify(watcher)}`);
      assert.deepEqual(watcher.bad, [], `the reader saw histories that were neither old nor new, e.g. ${watcher.bad.join(' | ')}`);
      assert.equal(watcher.finished, true, 'the reader never saw the last replacement');
      await assertHistory(store, 'hot', [msg('done')]);
    },
  },
];
