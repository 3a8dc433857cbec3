import assert from 'node:assert/strict';
import { SessionErrorCode } from '@sessionkit/core';
import type { ConformanceTest } from '../conformance-test.js';
import { assertHistory, batch, describeError, msg, rejectsWith } from '../checks.js';
import { call } from './mutations.js';

export const lifecycleTests: ConformanceTest[] = [
  {
    id: 'lifecycle.closed',
    level: 'MUST',
    title: 'after close() every method fails with CLOSED, and close() again resolves',
    async run(ctx) {
      const store = await ctx.create();
      await store.addItems('s', [msg('a')]);
      await store.close();
      await store.close();
      await rejectsWith(() => store.getItems('s'), SessionErrorCode.Closed, 'getItems');
      await rejectsWith(() => store.addItems('s', [msg('b')]), SessionErrorCode.Closed, 'addItems');
      await rejectsWith(() => store.popItem('s'), SessionErrorCode.Closed, 'popItem');
      await rejectsWith(() => store.clearSession('s'), SessionErrorCode.Closed, 'clearSession');
      if (store.capabilities.transactions) {
        await rejectsWith(
          () => store.applyHistoryTransaction!('s', { operationId: 'op', transaction: { type: 'append_items', items: [] } }),
          SessionErrorCode.Closed,
          'applyHistoryTransaction',
        );
      }
      if (store.capabilities.replaceHistory) {
        await rejectsWith(() => store.replaceHistory!('s', [msg('r')]), SessionErrorCode.Closed, 'replaceHistory');
      }
      if (store.capabilities.historyMutations) {
        await rejectsWith(
          () => store.applyHistoryMutations!('s', { mutations: [{ type: 'replace_function_call', callId: 'call-1', replacement: call('call-1', '{}') }] }),
          SessionErrorCode.Closed,
          'applyHistoryMutations',
        );
      }
      if (store.capabilities.readChanges) await rejectsWith(() => store.readChanges!('s'), SessionErrorCode.Closed, 'readChanges');
      if (store.capabilities.listSessions) await rejectsWith(() => store.listSessions!(), SessionErrorCode.Closed, 'listSessions');
      if (store.capabilities.sessionInfo) await rejectsWith(() => store.getSessionInfo!('s'), SessionErrorCode.Closed, 'getSessionInfo');
      if (store.capabilities.prune) await rejectsWith(() => store.prune!({ olderThan: new Date() }), SessionErrorCode.Closed, 'prune');
    },
  },
  {
    id: 'lifecycle.async-dispose',
    level: 'SHOULD',
    title: 'Symbol.asyncDispose closes the store, so `await using` works',
    async run(ctx) {
      const store = await ctx.create();
      const dispose = (store as unknown as Record<symbol, unknown>)[Symbol.asyncDispose];
      assert.equal(typeof dispose, 'function', 'has no [Symbol.asyncDispose]');
      await (dispose as () => Promise<void>).call(store);
      await rejectsWith(() => store.getItems('s'), SessionErrorCode.Closed);
    },
  },
  {
    id: 'lifecycle.close-drains',
    level: 'MUST',
    title: 'close() lets calls already started finish: each succeeds with its answer, and close() resolves after them',
    async run(ctx) {
      const store = await ctx.create();
      await store.addItems('read', [msg('r')]);
      await store.addItems('pop', [msg('p1'), msg('p2')]);
      const order: string[] = [];
      const calls = [
        ...Array.from({ length: 5 }, (_, i) => store.addItems(`w${i}`, batch(`w${i}`, 3))),
        store.getItems('read'),
        store.popItem('pop'),
      ].map((call) => call.finally(() => order.push('call')));
      const settled = Promise.allSettled(calls);
      await store.close().finally(() => order.push('close'));
      const results = await settled;
      results.forEach((result, i) => {
        if (result.status === 'rejected') assert.fail(`call ${i} started before close() failed: ${describeError(result.reason)}`);
      });
      assert.deepEqual((results[5] as PromiseFulfilledResult<unknown>).value, [msg('r')], 'the read in flight answered wrongly');
      assert.deepEqual((results[6] as PromiseFulfilledResult<unknown>).value, msg('p2'), 'the pop in flight answered wrongly');
      assert.equal(order.indexOf('close'), order.length - 1, 'close() resolved before the calls started earlier had settled');
    },
  },
];
