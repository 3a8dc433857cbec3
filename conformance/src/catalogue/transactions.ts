import assert from 'node:assert/strict';
import { SessionErrorCode, type HistoryTransactionArgs, type SessionStore } from '@sessionkit/core';
import { OPERATION_LOG_RETENTION } from '@sessionkit/core/adapter';
import type { ConformanceTest } from '../conformance-test.js';
import { assertHistory, contents, msg, rejectsWith, sleep } from '../checks.js';

const apply = (store: SessionStore, sessionId: string, args: HistoryTransactionArgs) => store.applyHistoryTransaction!(sessionId, args);
const append = (operationId: string, ...texts: string[]): HistoryTransactionArgs => ({
  operationId,
  transaction: { type: 'append_items', items: texts.map((t) => msg(t)) },
});
const replace = (operationId: string, expected: unknown[], replacement: unknown[]): HistoryTransactionArgs => ({
  operationId,
  transaction: { type: 'replace_suffix', expectedSuffix: expected, replacement },
});

const withLength = (args: HistoryTransactionArgs, expectedLength: number): HistoryTransactionArgs => ({ ...args, expectedLength });

export const transactionTests: ConformanceTest[] = [
  {
    id: 'tx.expected-length',
    level: 'MUST',
    title: 'expectedLength applies a transaction only at exactly that item count; otherwise CONFLICT, nothing written, operation id unused',
    requires: ['transactionPreconditions'],
    async run(ctx) {
      const store = await ctx.create();
      await apply(store, 's', withLength(append('op-1', 'a', 'b'), 0));
      await rejectsWith(() => apply(store, 's', withLength(append('op-2', 'c'), 0)), SessionErrorCode.Conflict, 'too short');
      await rejectsWith(() => apply(store, 's', withLength(append('op-2', 'c'), 3)), SessionErrorCode.Conflict, 'too long');
      await rejectsWith(
        () => apply(store, 's', withLength(replace('op-2', [msg('b')], [msg('c')]), 1)),
        SessionErrorCode.Conflict,
        'suffix matches, count does not',
      );
      await assertHistory(store, 's', [msg('a'), msg('b')]);
      await apply(store, 's', withLength(replace('op-2', [msg('b')], [msg('c')]), 2));
      await assertHistory(store, 's', [msg('a'), msg('c')]);
      // Racing writers that all saw the same count: exactly one wins.
      const racers = Array.from({ length: 8 }, (_, i) => apply(store, 's', withLength(append(`race-${i}`, `r${i}`), 2)));
      const outcomes = await Promise.allSettled(racers);
      assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1, 'exactly one racer applies');
      for (const o of outcomes) {
        if (o.status === 'rejected') assert.equal((o.reason as { code?: unknown }).code, SessionErrorCode.Conflict);
      }
      assert.equal((await store.getItems('s')).length, 3);
    },
  },
  {
    id: 'tx.identity',
    level: 'MUST',
    title: 'with an identity, a repeat is recognised by operation id and identity, before any precondition, whatever the items',
    requires: ['transactionPreconditions'],
    async run(ctx) {
      const store = await ctx.create();
      const first = { ...withLength(append('op-1', 'a'), 0), identity: 'change-1' };
      await apply(store, 's', first);
      // The same change re-encoded (other stored forms), retried at the count it first saw, which no longer holds.
      await apply(store, 's', { ...withLength(append('op-1', 'a-reencoded'), 0), identity: 'change-1' });
      await assertHistory(store, 's', [msg('a')]);
      await store.addItems('s', [msg('b')]);
      await apply(store, 's', { ...withLength(append('op-1', 'whatever'), 0), identity: 'change-1' });
      await assertHistory(store, 's', [msg('a'), msg('b')]);
      await rejectsWith(() => apply(store, 's', { ...append('op-1', 'a'), identity: 'change-2' }), SessionErrorCode.Conflict);
      await rejectsWith(() => apply(store, 's', append('op-1', 'a')), SessionErrorCode.Conflict, 'same id without identity');
      await assertHistory(store, 's', [msg('a'), msg('b')]);
    },
  },
  {
    id: 'tx.preconditions-validated',
    level: 'MUST',
    title: 'a negative or fractional expectedLength, or an empty identity, is INVALID_ARGUMENT before anything is written',
    requires: ['transactionPreconditions'],
    async run(ctx) {
      const store = await ctx.create();
      for (const bad of [-1, 1.5, Number.NaN, '1']) {
        await rejectsWith(
          () => apply(store, 's', { ...append('op-1', 'a'), expectedLength: bad as number }),
          SessionErrorCode.InvalidArgument,
          `expectedLength ${String(bad)}`,
        );
      }
      await rejectsWith(() => apply(store, 's', { ...append('op-1', 'a'), identity: '' }), SessionErrorCode.InvalidArgument);
      await assertHistory(store, 's', []);
      await apply(store, 's', append('op-1', 'a'));
      await assertHistory(store, 's', [msg('a')]);
    },
  },
  {
    id: 'tx.preconditions-refused',
    level: 'SHOULD',
    title: 'a store that does not declare transactionPreconditions refuses expectedLength with UNSUPPORTED instead of ignoring it',
    requires: ['transactions', 'not:transactionPreconditions'],
    async run(ctx) {
      const store = await ctx.create();
      await store.addItems('s', [msg('a')]);
      await rejectsWith(() => apply(store, 's', withLength(append('op-1', 'b'), 0)), SessionErrorCode.Unsupported);
      await assertHistory(store, 's', [msg('a')]);
    },
  },
  {
    id: 'tx.append',
    level: 'MUST',
    title: 'append_items appends the items in order',
    requires: ['transactions'],
    async run(ctx) {
      const store = await ctx.create();
      await store.addItems('s', [msg('a')]);
      await apply(store, 's', append('op-1', 'b', 'c'));
      await apply(store, 'new', append('op-1', 'n'));
      assert.deepEqual(contents(await store.getItems('s')), ['a', 'b', 'c']);
      assert.deepEqual(contents(await store.getItems('new')), ['n']);
    },
  },
  {
    id: 'tx.replace-suffix',
    level: 'MUST',
    title: 'replace_suffix swaps the newest items when they match, by value with key order ignored',
    requires: ['transactions'],
    async run(ctx) {
      const store = await ctx.create();
      await store.addItems('s', [msg('a'), msg('b'), { content: 'c', role: 'user', meta: { y: 1, x: 2 } }]);
      await apply(store, 's', replace('op-1', [msg('b'), { role: 'user', content: 'c', meta: { x: 2, y: 1 } }], [msg('summary')]));
      assert.deepEqual(contents(await store.getItems('s')), ['a', 'summary']);
      await apply(store, 's', replace('op-2', [msg('summary')], []));
      assert.deepEqual(contents(await store.getItems('s')), ['a']);
      await apply(store, 's', replace('op-3', [], [msg('appended')]));
      assert.deepEqual(contents(await store.getItems('s')), ['a', 'appended']);
      await apply(store, 's', replace('op-4', [msg('a'), msg('appended')], [msg('all'), msg('new')]));
      assert.deepEqual(contents(await store.getItems('s')), ['all', 'new']);
    },
  },
  {
    id: 'tx.idempotent',
    level: 'MUST',
    title: 'repeating an operation id with an equal transaction is a no-op, even after the history changed',
    requires: ['transactions'],
    async run(ctx) {
      const store = await ctx.create();
      await apply(store, 's', append('op-1', 'a'));
      await apply(store, 's', append('op-1', 'a'));
      await assertHistory(store, 's', [msg('a')]);
      await store.addItems('s', [msg('b')]);
      await apply(store, 's', append('op-1', 'a'));
      await apply(store, 's', replace('op-2', [msg('b')], [msg('c')]));
      await apply(store, 's', replace('op-2', [msg('b')], [msg('c')]));
      await assertHistory(store, 's', [msg('a'), msg('c')]);
      await Promise.all([apply(store, 's', append('op-3', 'd')), apply(store, 's', append('op-3', 'd'))]);
      await assertHistory(store, 's', [msg('a'), msg('c'), msg('d')]);
    },
  },
  {
    id: 'tx.conflicting-reuse',
    level: 'MUST',
    title: 'an operation id reused with a different transaction fails with CONFLICT and changes nothing',
    requires: ['transactions'],
    async run(ctx) {
      const store = await ctx.create();
      await apply(store, 's', append('op-1', 'a'));
      await rejectsWith(() => apply(store, 's', append('op-1', 'different')), SessionErrorCode.Conflict);
      await rejectsWith(() => apply(store, 's', replace('op-1', [msg('a')], [])), SessionErrorCode.Conflict);
      await assertHistory(store, 's', [msg('a')]);
    },
  },
  {
    id: 'tx.suffix-mismatch',
    level: 'MUST',
    title: 'a suffix that no longer matches fails with CONFLICT, changes nothing, and leaves the operation id unused',
    requires: ['transactions'],
    async run(ctx) {
      const store = await ctx.create();
      await store.addItems('s', [msg('a'), msg('b')]);
      await rejectsWith(() => apply(store, 's', replace('op-1', [msg('x')], [msg('summary')])), SessionErrorCode.Conflict, 'wrong item');
      await rejectsWith(() => apply(store, 's', replace('op-1', [msg('a')], [msg('summary')])), SessionErrorCode.Conflict, 'not the newest');
      await rejectsWith(
        () => apply(store, 's', replace('op-1', [msg('z'), msg('a'), msg('b')], [])),
        SessionErrorCode.Conflict,
        'longer than history',
      );
      await rejectsWith(() => apply(store, 'empty', replace('op-1', [msg('a')], [])), SessionErrorCode.Conflict, 'empty session');
      await assertHistory(store, 's', [msg('a'), msg('b')]);
      await apply(store, 's', replace('op-1', [msg('b')], [msg('summary')]));
      await assertHistory(store, 's', [msg('a'), msg('summary')]);
    },
  },
  {
    id: 'tx.per-session-log',
    level: 'MUST',
    title: 'operation ids are scoped to their session',
    requires: ['transactions'],
    async run(ctx) {
      const store = await ctx.create();
      await apply(store, 'one', append('shared-op', 'a'));
      await apply(store, 'two', append('shared-op', 'a'));
      await assertHistory(store, 'one', [msg('a')]);
      await assertHistory(store, 'two', [msg('a')]);
    },
  },
  {
    id: 'tx.clear-forgets-log',
    level: 'MUST',
    title: 'clearSession forgets the session’s operations: the same operation applies again',
    requires: ['transactions'],
    async run(ctx) {
      const store = await ctx.create();
      await apply(store, 's', append('op-1', 'a'));
      await store.clearSession('s');
      await apply(store, 's', append('op-1', 'a'));
      await assertHistory(store, 's', [msg('a')]);
    },
  },
  {
    id: 'tx.recent-log',
    level: 'MUST',
    title: `the newest ${OPERATION_LOG_RETENTION} (OPERATION_LOG_RETENTION) operation ids of a session are all remembered`,
    requires: ['transactions'],
    timeout: 180_000,
    async run(ctx) {
      const store = await ctx.create();
      const count = OPERATION_LOG_RETENTION;
      for (let i = 0; i < count; i++) await apply(store, 's', append(`op-${i}`, `i${i}`));
      // Repeating every one would double the writes: the oldest, the newest and a spread between stand for them.
      const sample = new Set([...Array.from({ length: 10 }, (_, i) => i), ...Array.from({ length: 10 }, (_, i) => count - 1 - i)]);
      for (let i = 0; i < count; i += 37) sample.add(i);
      for (const i of sample) await apply(store, 's', append(`op-${i}`, `i${i}`));
      const items = await store.getItems('s');
      assert.equal(items.length, count, `${items.length - count} remembered operations applied again`);
      assert.deepEqual(contents(await store.getItems('s', { limit: 3 })), [`i${count - 3}`, `i${count - 2}`, `i${count - 1}`]);
    },
  },
  {
    id: 'tx.expected-length-expired',
    level: 'MUST',
    title: 'a session the ttl expired holds no items for a transaction expectedLength: its old count conflicts, 0 applies',
    requires: ['transactionPreconditions', 'ttl'],
    timeout: 30_000,
    async run(ctx) {
      const store = await ctx.create({ ttl: 2_000 });
      await apply(store, 's', append('op-1', 'a'));
      await store.addItems('s', [msg('b')]);
      // Nothing reads the session before the conditional writes: a read may delete an expired session lazily and hide the count.
      await sleep(3_500);
      await rejectsWith(() => apply(store, 's', withLength(append('op-2', 'stale'), 2)), SessionErrorCode.Conflict, 'the count from before the expiry');
      await apply(store, 's', withLength(append('op-3', 'fresh'), 0));
      await assertHistory(store, 's', [msg('fresh')]);
    },
  },
];
