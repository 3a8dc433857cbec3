import assert from 'node:assert/strict';
import { bindSession, SessionErrorCode, type HistoryMutationArgs, type SessionStore } from '@sessionkit/core';
import type { ConformanceTest } from '../conformance-test.js';
import { assertHistory, contents, msg, rejectsWith } from '../checks.js';

/** A function call item as the Agents SDK stores it. */
export const call = (callId: string, args: string, name = 'lookup') => ({ type: 'function_call', callId, name, arguments: args, status: 'completed' });
const output = (callId: string, text: string) => ({ type: 'function_call_result', callId, name: 'lookup', status: 'completed', output: { type: 'text', text } });
const mutate = (store: SessionStore, sessionId: string, args: HistoryMutationArgs) => store.applyHistoryMutations!(sessionId, args);
const replaceCall = (callId: string, replacement: unknown) => ({ type: 'replace_function_call' as const, callId, replacement });

/** The Agents SDK's history rewrites (`SessionHistoryRewriteAwareSession`, `replace_function_call`). */
export const mutationTests: ConformanceTest[] = [
  {
    id: 'mutations.replace-first-call',
    level: 'MUST',
    title: 'replace_function_call puts the replacement where the first call with that callId was and drops later duplicates, as the SDK does',
    requires: ['historyMutations'],
    async run(ctx) {
      const store = await ctx.create();
      const history = [msg('a'), call('c1', '{"v":1}'), output('c1', 'r1'), call('c1', '{"v":"dup"}'), call('c2', '{"v":2}'), msg('z')];
      await store.addItems('s', history);
      const approved = call('c1', '{"v":"approved"}');
      await mutate(store, 's', { mutations: [replaceCall('c1', approved)] });
      await assertHistory(store, 's', [msg('a'), approved, output('c1', 'r1'), call('c2', '{"v":2}'), msg('z')]);
      // Several mutations apply in order, in one call; outputs and messages are never touched.
      const redacted = call('c2', '{"v":"[redacted]"}');
      const again = call('c1', '{"v":"again"}');
      await mutate(store, 's', { mutations: [replaceCall('c2', redacted), replaceCall('c1', again)] });
      await assertHistory(store, 's', [msg('a'), again, output('c1', 'r1'), redacted, msg('z')]);
      const bound = bindSession(store, 's');
      assert.equal(typeof bound.applyHistoryMutations, 'function', 'a bound session has applyHistoryMutations');
      await bound.applyHistoryMutations!({ mutations: [replaceCall('c2', call('c2', '{}'))] });
      assert.deepEqual((await store.getItems('s'))[3], call('c2', '{}'));
      // An empty list of mutations is a no-op.
      await mutate(store, 's', { mutations: [] });
      assert.equal((await store.getItems('s')).length, 5);
    },
  },
  {
    id: 'mutations.missing-call-id',
    level: 'MUST',
    title: 'a replace_function_call whose callId is not in the history changes nothing (and creates no session)',
    requires: ['historyMutations'],
    async run(ctx) {
      const store = await ctx.create();
      const history = [msg('a'), call('c1', '{}'), output('c1', 'r')];
      await store.addItems('s', history);
      // An output with the callId is not a call: it is never replaced.
      await mutate(store, 's', { mutations: [replaceCall('nope', call('nope', '{}'))] });
      await assertHistory(store, 's', history);
      await mutate(store, 'empty', { mutations: [replaceCall('c1', call('c1', '{}'))] });
      await assertHistory(store, 'empty', []);
      if (store.capabilities.sessionInfo) assert.equal(await store.getSessionInfo!('empty'), undefined);
    },
  },
  {
    id: 'mutations.invalid-args',
    level: 'MUST',
    title: 'invalid mutation arguments are refused (INVALID_ARGUMENT, or INVALID_ITEM for a replacement that is not a function_call) before anything changes',
    requires: ['historyMutations'],
    async run(ctx) {
      const store = await ctx.create();
      const history = [msg('a'), call('c1', '{}'), call('c2', '{}')];
      await store.addItems('s', history);
      const good = replaceCall('c1', call('c1', '{"changed":true}'));
      const invalidArgs: Array<[string, unknown]> = [
        ['no args', undefined],
        ['mutations not an array', { mutations: 'c1' }],
        ['unknown type', { mutations: [good, { type: 'delete_item', callId: 'c2' }] }],
        ['empty callId', { mutations: [good, replaceCall('', call('', '{}'))] }],
        ['numeric callId', { mutations: [good, replaceCall(2 as unknown as string, call('c2', '{}'))] }],
        ['null mutation', { mutations: [good, null] }],
      ];
      for (const [what, args] of invalidArgs) {
        await rejectsWith(() => mutate(store, 's', args as HistoryMutationArgs), SessionErrorCode.InvalidArgument, what);
      }
      const invalidReplacements: Array<[string, unknown]> = [
        ['message replacement', msg('not a call')],
        ['unstorable replacement', { ...call('c2', '{}'), arguments: 10n }],
        ['missing replacement', undefined],
      ];
      for (const [what, replacement] of invalidReplacements) {
        await rejectsWith(() => mutate(store, 's', { mutations: [good, replaceCall('c2', replacement)] }), SessionErrorCode.InvalidItem, what);
      }
      await assertHistory(store, 's', history);
    },
  },
  {
    id: 'mutations.concurrent-appends',
    level: 'MUST',
    title: 'mutations racing appends (another writer on the same session) lose no append, and each mutation lands',
    requires: ['historyMutations'],
    timeout: 60_000,
    async run(ctx) {
      const store = await ctx.create();
      const rounds = ctx.n(8);
      await store.addItems('s', Array.from({ length: rounds }, (_, i) => call(`c${i}`, '{}')));
      await Promise.all([
        (async () => {
          for (let i = 0; i < rounds; i++) await store.addItems('s', [msg(`append-${i}`)]);
        })(),
        (async () => {
          for (let i = 0; i < rounds; i++) await mutate(store, 's', { mutations: [replaceCall(`c${i}`, call(`c${i}`, `{"n":${i}}`))] });
        })(),
      ]);
      const items = await store.getItems('s');
      assert.deepEqual(items.slice(0, rounds), Array.from({ length: rounds }, (_, i) => call(`c${i}`, `{"n":${i}}`)), 'every mutation landed in place');
      assert.deepEqual(contents(items.slice(rounds)), Array.from({ length: rounds }, (_, i) => `append-${i}`), 'every append survived, in order');
    },
  },
];
