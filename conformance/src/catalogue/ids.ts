import assert from 'node:assert/strict';
import { SessionErrorCode } from '@sessionkit/core';
import type { ConformanceTest } from '../conformance-test.js';
import { assertHistory, collect, msg, rejectsWith } from '../checks.js';
import { call } from './mutations.js';

/**
 * Ids shaped like backend syntax: SQL, LIKE patterns, Redis globs and hash
 * tags, Mongo operators and field paths, S3 paths and prefix collisions,
 * URL escapes, control characters, Unicode, and the longest allowed id.
 */
export const HOSTILE_IDS: readonly string[] = [
  "'; DROP TABLE sessions; --",
  '" OR 1=1 --',
  "' OR ''='",
  '%',
  '_',
  'a%',
  '*',
  '?',
  '[a-z]',
  '\\',
  '{tag}',
  '{}',
  'a}b{',
  '{a}:{b}',
  ':',
  'a:b',
  'a:b:items',
  '{"$gt":""}',
  '$where',
  '$',
  'a.b',
  '.',
  '..',
  '../',
  '../../etc/passwd',
  '/',
  '//',
  'a/',
  'a/b',
  'a%2Fb',
  'a%252Fb',
  'a b',
  ' ',
  '  ',
  'line\nbreak',
  'cr\r\nlf',
  'tab\there',
  'nul\u0000byte',
  '\u0001\u001f\u007f',
  '?x=1&y=2#frag',
  'ünïcödé',
  'e\u0301',
  '\u00e9',
  '日本語のセッション',
  '😀🎉',
  '\u202eevil',
  'x'.repeat(512),
  '😀'.repeat(256),
];

/** Pairs that naive encodings (prefix match, URL decoding, case folding, normalisation, trimming) merge. */
const COLLIDING: readonly string[] = [
  'a', 'ab', 'a/b', 'a%2Fb', 'a_b', 'a-b', 'a b', 'a.b', 'A', 'a/', 'a:', 'a*', 'a ', ' a', 'e\u0301', '\u00e9', 'a\u0000', 'a\u0000b',
];

export const idTests: ConformanceTest[] = [
  {
    id: 'ids.isolation',
    level: 'MUST',
    title: 'sessions are isolated: writes, pops and clears of one never touch another',
    async run(ctx) {
      const store = await ctx.create();
      await store.addItems('alice', [msg('a1'), msg('a2')]);
      await store.addItems('bob', [msg('b1')]);
      await assertHistory(store, 'alice', [msg('a1'), msg('a2')]);
      await assertHistory(store, 'bob', [msg('b1')]);
      assert.deepEqual(await store.popItem('bob'), msg('b1'));
      await assertHistory(store, 'alice', [msg('a1'), msg('a2')]);
      await store.addItems('bob', [msg('b2')]);
      await store.clearSession('alice');
      await assertHistory(store, 'alice', []);
      await assertHistory(store, 'bob', [msg('b2')]);
    },
  },
  {
    id: 'ids.prefix-collisions',
    level: 'MUST',
    title: 'ids that differ by a suffix, escaping, case, normalisation or whitespace are different sessions',
    async run(ctx) {
      const store = await ctx.create();
      for (const id of COLLIDING) await store.addItems(id, [msg(`only ${JSON.stringify(id)}`)]);
      for (const id of COLLIDING) {
        await assertHistory(store, id, [msg(`only ${JSON.stringify(id)}`)], `session ${JSON.stringify(id)}`);
      }
      await store.clearSession('a');
      for (const id of COLLIDING.filter((id) => id !== 'a')) {
        assert.equal((await store.getItems(id)).length, 1, `clearing "a" touched ${JSON.stringify(id)}`);
      }
      if (store.capabilities.listSessions) {
        const listed = (await collect(store.listSessions!())).map((info) => info.sessionId).sort();
        assert.deepEqual(listed, COLLIDING.filter((id) => id !== 'a').sort());
      }
    },
  },
  {
    id: 'ids.hostile',
    level: 'MUST',
    title: 'ids shaped like SQL, Redis patterns and hash tags, Mongo operators, S3 paths, control characters and Unicode are plain data: a pop or clear of one touches no other',
    timeout: 60_000,
    async run(ctx) {
      const store = await ctx.create();
      for (const id of HOSTILE_IDS) await store.addItems(id, [msg(JSON.stringify(id)), msg('second')]);
      for (const id of HOSTILE_IDS) {
        await assertHistory(store, id, [msg(JSON.stringify(id)), msg('second')], `session ${JSON.stringify(id)}`);
        assert.deepEqual(await store.getItems(id, { limit: 1 }), [msg('second')]);
      }
      for (const id of HOSTILE_IDS) assert.deepEqual(await store.popItem(id), msg('second'));
      if (store.capabilities.sessionInfo) {
        for (const id of HOSTILE_IDS) {
          const info = await store.getSessionInfo!(id);
          assert.equal(info?.sessionId, id, `info of ${JSON.stringify(id)}`);
          assert.equal(info?.itemCount, 1);
        }
      }
      if (store.capabilities.listSessions) {
        const listed = (await collect(store.listSessions!({ pageSize: 7 }))).map((info) => info.sessionId);
        assert.deepEqual([...listed].sort(), [...HOSTILE_IDS].sort(), 'listSessions returns every id exactly, once');
      }
      // Each pop took its own session's newest item only (a pop of '*' or '%' is not a pop of every session).
      for (const id of HOSTILE_IDS) await assertHistory(store, id, [msg(JSON.stringify(id))], `after the pops, session ${JSON.stringify(id)}`);
      const expected = new Map(HOSTILE_IDS.map((id) => [id, [msg(JSON.stringify(id))]]));
      if (store.capabilities.transactions) {
        for (const id of HOSTILE_IDS.slice(0, 12)) {
          await store.applyHistoryTransaction!(id, { operationId: id, transaction: { type: 'append_items', items: [msg('tx')] } });
          expected.get(id)!.push(msg('tx'));
        }
      }
      // Clearing one half leaves the other half alone (a clear of '*', '%', '?' or '[a-z]' is not a pattern
      // delete), then the other way round; the session a clear names is emptied.
      const even = HOSTILE_IDS.filter((_, i) => i % 2 === 0);
      const odd = HOSTILE_IDS.filter((_, i) => i % 2 === 1);
      const rounds: [readonly string[], readonly string[]][] = [[even, odd], [odd, even]];
      for (const [round, [cleared, kept]] of rounds.entries()) {
        for (const id of cleared) await store.clearSession(id);
        for (const id of kept) {
          await assertHistory(store, id, expected.get(id)!, `clearing other ids (${cleared.map((c) => JSON.stringify(c)).join(', ')}) touched ${JSON.stringify(id)}`);
        }
        for (const id of cleared) assert.deepEqual(await store.getItems(id), [], `cleared ${JSON.stringify(id)}`);
        if (round === 0) for (const id of cleared) await store.addItems(id, expected.get(id)!);
      }
      for (const id of even) await store.clearSession(id);
      for (const id of HOSTILE_IDS) assert.deepEqual(await store.getItems(id), [], `cleared ${JSON.stringify(id)}`);
    },
  },
  {
    id: 'ids.invalid',
    level: 'MUST',
    title: 'empty, too long (> 512), ill-formed and non-string ids fail with INVALID_ARGUMENT in every method',
    async run(ctx) {
      const store = await ctx.create();
      await store.addItems('s', [msg('kept')]);
      const bad: unknown[] = ['', 'x'.repeat(513), 'lone\ud800surrogate', '\udc00', 42, null, undefined, { $gt: '' }, ['s']];
      for (const id of bad) {
        const sid = id as string;
        const what = `id ${typeof id === 'string' ? `of length ${id.length}` : String(typeof id)}`;
        await rejectsWith(() => store.getItems(sid), SessionErrorCode.InvalidArgument, `getItems(${what})`);
        await rejectsWith(() => store.addItems(sid, [msg('x')]), SessionErrorCode.InvalidArgument, `addItems(${what})`);
        await rejectsWith(() => store.popItem(sid), SessionErrorCode.InvalidArgument, `popItem(${what})`);
        await rejectsWith(() => store.clearSession(sid), SessionErrorCode.InvalidArgument, `clearSession(${what})`);
        if (store.capabilities.sessionInfo) {
          await rejectsWith(() => store.getSessionInfo!(sid), SessionErrorCode.InvalidArgument, `getSessionInfo(${what})`);
        }
        if (store.capabilities.transactions) {
          await rejectsWith(
            () => store.applyHistoryTransaction!(sid, { operationId: 'op', transaction: { type: 'append_items', items: [msg('x')] } }),
            SessionErrorCode.InvalidArgument,
            `applyHistoryTransaction(${what})`,
          );
        }
        if (store.capabilities.replaceHistory) {
          await rejectsWith(() => store.replaceHistory!(sid, [msg('x')]), SessionErrorCode.InvalidArgument, `replaceHistory(${what})`);
        }
        if (store.capabilities.historyMutations) {
          await rejectsWith(
            () => store.applyHistoryMutations!(sid, { mutations: [{ type: 'replace_function_call', callId: 'call-1', replacement: call('call-1', '{}') }] }),
            SessionErrorCode.InvalidArgument,
            `applyHistoryMutations(${what})`,
          );
        }
        if (store.capabilities.readChanges) {
          await rejectsWith(() => store.readChanges!(sid), SessionErrorCode.InvalidArgument, `readChanges(${what})`);
        }
      }
      await assertHistory(store, 's', [msg('kept')]);
      if (store.capabilities.listSessions) {
        assert.deepEqual((await collect(store.listSessions!())).map((info) => info.sessionId), ['s']);
      }
    },
  },
];
