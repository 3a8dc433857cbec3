import assert from 'node:assert/strict';
import { SessionErrorCode } from '@sessionkit/core';
import type { ConformanceTest } from '../conformance-test.js';
import { assertHistory, contents, msg, rejectsWith, sleep } from '../checks.js';

/** Conditional appends: `addItems(sessionId, items, { expectedLength })`, the `conditionalAppend` capability. */
export const appendTests: ConformanceTest[] = [
  {
    id: 'append.expected-length',
    level: 'MUST',
    title: 'addItems with expectedLength appends only at exactly that item count; otherwise CONFLICT and nothing written',
    requires: ['conditionalAppend'],
    async run(ctx) {
      const store = await ctx.create();
      await store.addItems('s', [msg('a'), msg('b')], { expectedLength: 0 });
      await rejectsWith(() => store.addItems('s', [msg('c')], { expectedLength: 0 }), SessionErrorCode.Conflict, 'too short');
      await rejectsWith(() => store.addItems('s', [msg('c')], { expectedLength: 3 }), SessionErrorCode.Conflict, 'too long');
      await rejectsWith(() => store.addItems('new', [msg('n')], { expectedLength: 1 }), SessionErrorCode.Conflict, 'unknown session');
      await assertHistory(store, 's', [msg('a'), msg('b')]);
      assert.deepEqual(await store.getItems('new'), []);
      await store.addItems('s', [msg('c')], { expectedLength: 2 });
      await store.popItem('s');
      await store.addItems('s', [msg('d')], { expectedLength: 2 });
      await store.clearSession('s');
      await store.addItems('s', [msg('e')], { expectedLength: 0 });
      await assertHistory(store, 's', [msg('e')]);
      // Racing writers that all saw the same count: exactly one wins, the others write nothing.
      const racers = Array.from({ length: 8 }, (_, i) => store.addItems('s', [msg(`r${i}`), msg(`r${i}'`)], { expectedLength: 1 }));
      const outcomes = await Promise.allSettled(racers);
      assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1, 'exactly one racer appends');
      for (const o of outcomes) {
        if (o.status === 'rejected') assert.equal((o.reason as { code?: unknown }).code, SessionErrorCode.Conflict);
      }
      const winner = outcomes.findIndex((o) => o.status === 'fulfilled');
      assert.deepEqual(contents(await store.getItems('s')), ['e', `r${winner}`, `r${winner}'`]);
    },
  },
  {
    id: 'append.expected-length-validated',
    level: 'MUST',
    title: 'a negative, fractional or non-number expectedLength is INVALID_ARGUMENT before anything is written',
    requires: ['conditionalAppend'],
    async run(ctx) {
      const store = await ctx.create();
      for (const bad of [-1, 1.5, Number.NaN, '0']) {
        await rejectsWith(
          () => store.addItems('s', [msg('a')], { expectedLength: bad as number }),
          SessionErrorCode.InvalidArgument,
          `expectedLength ${String(bad)}`,
        );
      }
      await assertHistory(store, 's', []);
    },
  },
  {
    id: 'append.expected-length-expired',
    level: 'MUST',
    title: 'a session the ttl expired holds no items for addItems expectedLength: its old count conflicts, 0 appends',
    requires: ['conditionalAppend', 'ttl'],
    timeout: 30_000,
    async run(ctx) {
      const store = await ctx.create({ ttl: 2_000 });
      await store.addItems('s', [msg('a'), msg('b')]);
      // Nothing reads the session before the conditional appends: a read may delete an expired session lazily and hide the count.
      await sleep(3_500);
      await rejectsWith(() => store.addItems('s', [msg('stale')], { expectedLength: 2 }), SessionErrorCode.Conflict, 'the count from before the expiry');
      await store.addItems('s', [msg('fresh')], { expectedLength: 0 });
      await assertHistory(store, 's', [msg('fresh')]);
    },
  },
  {
    id: 'append.expected-length-refused',
    level: 'SHOULD',
    title: 'a store that does not declare conditionalAppend refuses expectedLength with UNSUPPORTED instead of ignoring it',
    requires: ['not:conditionalAppend'],
    async run(ctx) {
      const store = await ctx.create();
      await store.addItems('s', [msg('a')]);
      await rejectsWith(() => store.addItems('s', [msg('b')], { expectedLength: 0 }), SessionErrorCode.Unsupported);
      await assertHistory(store, 's', [msg('a')]);
    },
  },
];
