import assert from 'node:assert/strict';
import { SessionErrorCode } from '@sessionkit/core';
import type { ConformanceTest } from '../conformance-test.js';
import { msg, rejectsWith } from '../checks.js';

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
    id: 'lifecycle.close-settles',
    level: 'SHOULD',
    title: 'close() while operations are in flight lets them settle (succeed or fail typed), never hang',
    async run(ctx) {
      const store = await ctx.create();
      const pending = Array.from({ length: 10 }, (_, i) => store.addItems('s', [msg(`m${i}`)]));
      await store.close();
      const results = await Promise.allSettled(pending);
      for (const result of results) {
        if (result.status === 'rejected') {
          const code = (result.reason as { code?: unknown }).code;
          assert.ok(typeof code === 'string', `an in-flight write failed without a SessionError code: ${String(result.reason)}`);
        }
      }
    },
  },
];
