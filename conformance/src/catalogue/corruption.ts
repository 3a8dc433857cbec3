import assert from 'node:assert/strict';
import { SessionErrorCode } from '@sessionkit/core';
import type { ConformanceTest } from '../conformance-test.js';
import { assertHistory, msg, rejectsWith } from '../checks.js';

const UNREADABLE = [SessionErrorCode.CorruptData, SessionErrorCode.DecryptionFailed];

export const corruptionTests: ConformanceTest[] = [
  {
    id: 'corrupt.read-reports',
    level: 'MUST',
    title: 'reading past an undecodable item fails with CORRUPT_DATA; it is never skipped',
    requires: ['injectCorruptItem'],
    async run(ctx) {
      const store = await ctx.create();
      await store.addItems('s', [msg('a'), msg('b')]);
      await ctx.injectCorruptItem(store, 's');
      await rejectsWith(() => store.getItems('s'), UNREADABLE, 'getItems()');
      await rejectsWith(() => store.getItems('s', { limit: 1 }), UNREADABLE, 'getItems({ limit: 1 })');
      await store.addItems('other', [msg('fine')]);
      await assertHistory(store, 'other', [msg('fine')]);
    },
  },
  {
    id: 'corrupt.pop-keeps',
    level: 'MUST',
    title: 'popItem on an undecodable newest item fails and leaves it in place',
    requires: ['injectCorruptItem'],
    async run(ctx) {
      const store = await ctx.create();
      await store.addItems('s', [msg('a'), msg('b')]);
      await ctx.injectCorruptItem(store, 's');
      await rejectsWith(() => store.popItem('s'), UNREADABLE, 'first popItem');
      // Had the pop deleted it, this pop would return "b".
      await rejectsWith(() => store.popItem('s'), UNREADABLE, 'second popItem');
      await rejectsWith(() => store.getItems('s', { limit: 1 }), UNREADABLE, 'getItems after the pops');
      if (store.capabilities.sessionInfo) assert.equal((await store.getSessionInfo!('s'))?.itemCount, 3);
    },
  },
  {
    id: 'corrupt.clear-recovers',
    level: 'MUST',
    title: 'clearSession removes a session holding corrupt data, which can then be used again',
    requires: ['injectCorruptItem'],
    async run(ctx) {
      const store = await ctx.create();
      await store.addItems('s', [msg('a')]);
      await ctx.injectCorruptItem(store, 's');
      await store.clearSession('s');
      await store.addItems('s', [msg('new')]);
      await assertHistory(store, 's', [msg('new')]);
    },
  },
];
