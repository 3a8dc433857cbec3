import assert from 'node:assert/strict';
import { SessionErrorCode } from '@sessionkit/core';
import type { ConformanceTest } from '../conformance-test.js';
import { assertHistory, batch, contents, msg, rejectsWith } from '../checks.js';

export const limitTests: ConformanceTest[] = [
  {
    id: 'limit.tail',
    level: 'MUST',
    title: 'getItems({ limit }) returns the newest `limit` items, oldest first, across batch boundaries',
    async run(ctx) {
      const store = await ctx.create();
      for (let b = 0; b < 5; b++) await store.addItems('s', batch(`b${b}`, 4));
      const all = contents(await store.getItems('s'));
      assert.equal(all.length, 20);
      for (const limit of [1, 2, 3, 4, 5, 7, 13, 19]) {
        assert.deepEqual(contents(await store.getItems('s', { limit })), all.slice(-limit), `limit ${limit}`);
      }
    },
  },
  {
    id: 'limit.zero',
    level: 'MUST',
    title: 'limit 0 returns an empty array',
    async run(ctx) {
      const store = await ctx.create();
      await store.addItems('s', batch('x', 3));
      assert.deepEqual(await store.getItems('s', { limit: 0 }), []);
    },
  },
  {
    id: 'limit.larger-than-history',
    level: 'MUST',
    title: 'a limit equal to or larger than the history returns the whole history',
    async run(ctx) {
      const store = await ctx.create();
      await store.addItems('s', batch('x', 3));
      for (const limit of [3, 4, 1000, Number.MAX_SAFE_INTEGER]) {
        assert.deepEqual(contents(await store.getItems('s', { limit })), ['x-0', 'x-1', 'x-2'], `limit ${limit}`);
      }
      assert.deepEqual(contents(await store.getItems('s', {})), ['x-0', 'x-1', 'x-2']);
    },
  },
  {
    id: 'limit.invalid',
    level: 'MUST',
    title: 'negative, fractional, NaN, infinite and non-number limits fail with INVALID_ARGUMENT',
    async run(ctx) {
      const store = await ctx.create();
      await store.addItems('s', batch('x', 3));
      for (const limit of [-1, -0.5, 1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, '2', null]) {
        await rejectsWith(() => store.getItems('s', { limit: limit as number }), SessionErrorCode.InvalidArgument, `limit ${String(limit)}`);
      }
      await assertHistory(store, 's', batch('x', 3));
    },
  },
  {
    id: 'limit.after-pop-and-append',
    level: 'MUST',
    title: 'the tail stays exact through pops and appends',
    async run(ctx) {
      const store = await ctx.create();
      await store.addItems('s', batch('a', 6));
      await store.popItem('s');
      await store.popItem('s');
      await store.addItems('s', [msg('n1'), msg('n2')]);
      assert.deepEqual(contents(await store.getItems('s', { limit: 3 })), ['a-3', 'n1', 'n2']);
      assert.deepEqual(contents(await store.getItems('s')), ['a-0', 'a-1', 'a-2', 'a-3', 'n1', 'n2']);
    },
  },
  {
    id: 'limit.long-history',
    level: 'MUST',
    title: 'the tail of a long history (many batches) is exact',
    async run(ctx) {
      const store = await ctx.create();
      const batches = ctx.n(60);
      for (let b = 0; b < batches; b++) await store.addItems('s', batch(`b${b}`, 5));
      assert.deepEqual(contents(await store.getItems('s', { limit: 7 })), [
        `b${batches - 2}-3`, `b${batches - 2}-4`, ...batch(`b${batches - 1}`, 5).map((m) => m.content),
      ]);
      assert.equal((await store.getItems('s')).length, batches * 5);
    },
  },
];
