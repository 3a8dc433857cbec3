import assert from 'node:assert/strict';
import type { ConformanceTest } from '../conformance-test.js';
import { assertHistory, batch, msg } from '../checks.js';

export const persistenceTests: ConformanceTest[] = [
  {
    id: 'persistence.reopen',
    level: 'MUST',
    title: 'history written before close() is all there after reopening',
    requires: ['persistent', 'reopen'],
    async run(ctx) {
      const store = await ctx.create();
      await store.addItems('s', batch('x', 5));
      await store.popItem('s');
      await store.addItems('other', [msg('o')]);
      const again = await ctx.reopen(store);
      await store.close();
      await assertHistory(again, 's', batch('x', 4));
      await assertHistory(again, 'other', [msg('o')]);
      await again.addItems('s', [msg('after')]);
      assert.deepEqual((await again.getItems('s', { limit: 2 })), [msg('x-3'), msg('after')]);
    },
  },
  {
    id: 'persistence.shared-handles',
    level: 'MUST',
    title: 'a second handle sees the first handle’s writes, pops and clears at once',
    requires: ['reopen'],
    async run(ctx) {
      const first = await ctx.create();
      const second = await ctx.reopen(first);
      await first.addItems('s', [msg('a'), msg('b')]);
      await assertHistory(second, 's', [msg('a'), msg('b')]);
      assert.deepEqual(await second.popItem('s'), msg('b'));
      await assertHistory(first, 's', [msg('a')]);
      await second.clearSession('s');
      await assertHistory(first, 's', []);
    },
  },
  {
    id: 'persistence.transaction-log',
    level: 'MUST',
    title: 'the transaction operation log survives reopening: a repeated operation is still a no-op',
    requires: ['persistent', 'reopen', 'transactions'],
    async run(ctx) {
      const store = await ctx.create();
      const args = { operationId: 'op-1', transaction: { type: 'append_items' as const, items: [msg('once')] } };
      await store.applyHistoryTransaction!('s', args);
      const again = await ctx.reopen(store);
      await store.close();
      await again.applyHistoryTransaction!('s', args);
      await assertHistory(again, 's', [msg('once')]);
    },
  },
  {
    id: 'persistence.close-drains',
    level: 'MUST',
    title: 'appends started before close() are all there after reopening',
    requires: ['persistent', 'reopen'],
    async run(ctx) {
      const store = await ctx.create();
      const again = await ctx.reopen(store);
      const appends = Promise.allSettled(Array.from({ length: 5 }, (_, i) => store.addItems(`w${i}`, batch(`w${i}`, 3))));
      await store.close();
      await appends;
      for (let i = 0; i < 5; i++) await assertHistory(again, `w${i}`, batch(`w${i}`, 3), `an append started before close() is missing from w${i}`);
    },
  },
];
