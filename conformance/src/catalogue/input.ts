import assert from 'node:assert/strict';
import { isSessionError, SessionErrorCode } from '@sessionkit/core';
import type { ConformanceTest } from '../conformance-test.js';
import { assertHistory, collect, describeError, msg, rejectsWith } from '../checks.js';
import { call } from './mutations.js';

class Custom {
  value = 1;
}

/** Values the codec must refuse: each cannot be stored without being altered. */
export function invalidItems(): Array<[string, unknown]> {
  const cycle: Record<string, unknown> = { role: 'user' };
  cycle.self = cycle;
  const sparse: unknown[] = [1];
  sparse[2] = 3;
  return [
    ['function', { role: 'user', content: () => 'x' }],
    ['symbol', { role: 'user', content: Symbol('s') }],
    ['BigInt', { role: 'user', content: 10n }],
    ['NaN', { role: 'user', content: Number.NaN }],
    ['Infinity', { role: 'user', content: Number.POSITIVE_INFINITY }],
    ['-0', { role: 'user', content: -0 }],
    ['cycle', cycle],
    ['sparse array', { role: 'user', content: sparse }],
    ['undefined in array', { role: 'user', content: [undefined] }],
    ['undefined item', undefined],
    ['Date', { role: 'user', content: new Date(0) }],
    ['Map', { role: 'user', content: new Map() }],
    ['class instance', { role: 'user', content: new Custom() }],
    ['symbol key', { role: 'user', [Symbol('k')]: 1 }],
    ['too deep', JSON.parse('['.repeat(600) + ']'.repeat(600))],
  ];
}

const SECRET = 'TOP-SECRET-CONTENT-7f3a';

export const inputTests: ConformanceTest[] = [
  {
    id: 'input.invalid-items',
    level: 'MUST',
    title: 'a batch holding one item the codec cannot keep exactly fails with INVALID_ITEM and writes nothing',
    async run(ctx) {
      const store = await ctx.create();
      await store.addItems('s', [msg('before')]);
      for (const [kind, bad] of invalidItems()) {
        await rejectsWith(() => store.addItems('s', [msg('ok-1'), bad, msg('ok-2')]), SessionErrorCode.InvalidItem, kind);
        await rejectsWith(() => store.addItems('fresh', [msg('ok'), bad]), SessionErrorCode.InvalidItem, kind);
      }
      await assertHistory(store, 's', [msg('before')]);
      await assertHistory(store, 'fresh', []);
      if (store.capabilities.listSessions) {
        assert.deepEqual((await collect(store.listSessions!())).map((info) => info.sessionId), ['s']);
      }
    },
  },
  {
    id: 'input.not-an-array',
    level: 'MUST',
    title: 'addItems with something other than an array fails with a SessionError and writes nothing',
    async run(ctx) {
      const store = await ctx.create();
      for (const value of [undefined, null, 'items', 42, { 0: msg('x'), length: 1 }]) {
        await rejectsWith(
          () => store.addItems('s', value as never),
          [SessionErrorCode.InvalidArgument, SessionErrorCode.InvalidItem],
          `addItems(${value === null ? 'null' : typeof value})`,
        );
      }
      await assertHistory(store, 's', []);
    },
  },
  {
    id: 'input.errors-are-typed',
    level: 'MUST',
    title: 'every failure is a SessionError whose message holds neither item contents nor the session id (refused items, bad arguments, conflicts, unsupported options, a closed store)',
    async run(ctx) {
      const store = await ctx.create();
      const sid = `session-${SECRET}`;
      const { capabilities } = store;
      await store.addItems(sid, [msg(SECRET)]);
      const errors = [
        await rejectsWith(() => store.addItems(sid, [{ role: 'user', content: SECRET, bad: () => SECRET }]), SessionErrorCode.InvalidItem),
        await rejectsWith(() => store.addItems(sid, [{ [SECRET]: 10n }]), SessionErrorCode.InvalidItem),
        await rejectsWith(() => store.getItems(sid, { limit: -1 }), SessionErrorCode.InvalidArgument),
        await rejectsWith(() => store.getItems(`${SECRET}\ud800`), SessionErrorCode.InvalidArgument),
      ];
      if (capabilities.conditionalAppend) {
        errors.push(await rejectsWith(() => store.addItems(sid, [msg(SECRET)], { expectedLength: 7 }), SessionErrorCode.Conflict, 'addItems expectedLength'));
      }
      if (capabilities.transactions) {
        await store.applyHistoryTransaction!(sid, { operationId: 'op', transaction: { type: 'append_items', items: [msg('x')] } });
        errors.push(
          await rejectsWith(
            () => store.applyHistoryTransaction!(sid, { operationId: 'op', transaction: { type: 'append_items', items: [msg(SECRET)] } }),
            SessionErrorCode.Conflict,
          ),
          await rejectsWith(
            () =>
              store.applyHistoryTransaction!(sid, {
                operationId: 'op2',
                transaction: { type: 'replace_suffix', expectedSuffix: [msg(`${SECRET}-no`)], replacement: [] },
              }),
            SessionErrorCode.Conflict,
          ),
        );
        if (capabilities.transactionPreconditions) {
          errors.push(
            await rejectsWith(
              () => store.applyHistoryTransaction!(sid, { operationId: 'op3', transaction: { type: 'append_items', items: [msg(SECRET)] }, expectedLength: 7 }),
              SessionErrorCode.Conflict,
              'transaction expectedLength',
            ),
          );
        }
      }
      if (capabilities.replaceHistory) {
        errors.push(await rejectsWith(() => store.replaceHistory!(sid, [msg(SECRET), { content: SECRET, bad: 10n }]), SessionErrorCode.InvalidItem));
      }
      // Options a store without the capability refuses (UNSUPPORTED; that it refuses them is a SHOULD of its own,
      // so here only an error it does give is checked). A fresh session, so a store that ignores one changes nothing the checks above read.
      const other = `other-${SECRET}`;
      const unsupported: (() => Promise<unknown>)[] = [];
      if (!capabilities.conditionalAppend) unsupported.push(() => store.addItems(other, [msg(SECRET)], { expectedLength: 7 }));
      if (capabilities.transactions && !capabilities.transactionPreconditions) {
        unsupported.push(() =>
          store.applyHistoryTransaction!(other, { operationId: 'op4', transaction: { type: 'append_items', items: [msg(SECRET)] }, expectedLength: 7 }),
        );
      }
      for (const action of unsupported) {
        const error = await action().then(
          () => undefined,
          (reason: unknown) => reason,
        );
        if (error === undefined) continue;
        assert.ok(isSessionError(error), `an unsupported option failed with something other than a SessionError: ${describeError(error)}`);
        errors.push(error);
      }
      // And every method of a closed store.
      await store.close();
      const closed: [string, () => unknown][] = [
        ['getItems', () => store.getItems(sid)],
        ['addItems', () => store.addItems(sid, [msg(SECRET)])],
        ['popItem', () => store.popItem(sid)],
        ['clearSession', () => store.clearSession(sid)],
      ];
      if (capabilities.transactions) {
        closed.push(['applyHistoryTransaction', () => store.applyHistoryTransaction!(sid, { operationId: SECRET, transaction: { type: 'append_items', items: [msg(SECRET)] } })]);
      }
      if (capabilities.replaceHistory) closed.push(['replaceHistory', () => store.replaceHistory!(sid, [msg(SECRET)])]);
      if (capabilities.historyMutations) {
        closed.push(['applyHistoryMutations', () => store.applyHistoryMutations!(sid, { mutations: [{ type: 'replace_function_call', callId: SECRET, replacement: call(SECRET, SECRET) }] })]);
      }
      if (capabilities.sessionInfo) closed.push(['getSessionInfo', () => store.getSessionInfo!(sid)]);
      if (capabilities.readChanges) closed.push(['readChanges', () => store.readChanges!(sid)]);
      for (const [method, action] of closed) errors.push(await rejectsWith(action, SessionErrorCode.Closed, `${method} after close()`));
      for (const error of errors) {
        const text = `${error.message} ${JSON.stringify(error)} ${String(error.stack)}`;
        assert.ok(!text.includes(SECRET), `an error message or its JSON contains item content or the session id: ${error.message}`);
      }
    },
  },
  {
    id: 'input.transaction-arguments',
    level: 'MUST',
    title: 'bad transaction arguments fail with INVALID_ARGUMENT or INVALID_ITEM and change nothing',
    requires: ['transactions'],
    async run(ctx) {
      const store = await ctx.create();
      await store.addItems('s', [msg('a')]);
      const apply = (args: unknown) => store.applyHistoryTransaction!('s', args as never);
      const append = { type: 'append_items', items: [msg('x')] };
      for (const args of [
        undefined,
        null,
        { transaction: append },
        { operationId: '', transaction: append },
        { operationId: '   ', transaction: append },
        { operationId: 'x'.repeat(257), transaction: append },
        { operationId: 7, transaction: append },
        { operationId: 'op', transaction: { type: 'delete_everything' } },
        { operationId: 'op', transaction: { type: 'append_items' } },
        { operationId: 'op', transaction: { type: 'replace_suffix', replacement: [] } },
        { operationId: 'op', transaction: null },
      ]) {
        await rejectsWith(() => apply(args), SessionErrorCode.InvalidArgument, `transaction ${JSON.stringify(args)}`);
      }
      await rejectsWith(
        () => apply({ operationId: 'op', transaction: { type: 'append_items', items: [msg('x'), { f: () => 1 }] } }),
        SessionErrorCode.InvalidItem,
      );
      await rejectsWith(
        () => apply({ operationId: 'op', transaction: { type: 'replace_suffix', expectedSuffix: [msg('a')], replacement: [10n] } }),
        SessionErrorCode.InvalidItem,
      );
      await assertHistory(store, 's', [msg('a')]);
      // None of the refused calls consumed the operation id.
      await apply({ operationId: 'op', transaction: append });
      await assertHistory(store, 's', [msg('a'), msg('x')]);
    },
  },
];
