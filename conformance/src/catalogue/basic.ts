import assert from 'node:assert/strict';
import { bindSession, type StoreCapabilities } from '@sessionkit/core';
import type { ConformanceTest } from '../conformance-test.js';
import { assertHistory, batch, contents, msg } from '../checks.js';

const CAPABILITY_METHODS: Partial<Record<keyof StoreCapabilities, string>> = {
  transactions: 'applyHistoryTransaction',
  listSessions: 'listSessions',
  sessionInfo: 'getSessionInfo',
  prune: 'prune',
  replaceHistory: 'replaceHistory',
  historyMutations: 'applyHistoryMutations',
  readChanges: 'readChanges',
};

/** Every key the manifest must have, each `true` or `false` (a truthy 1 or 'yes' is not a declaration). */
const REQUIRED_CAPABILITIES: readonly (keyof StoreCapabilities)[] = [
  'transactions', 'listSessions', 'sessionInfo', 'prune', 'ttl', 'persistent', 'atomicReadModifyWrite',
  'transactionPreconditions', 'replaceHistory', 'historyMutations',
];

/** Keys the manifest may leave out (absent: false); when present, booleans too. */
const OPTIONAL_CAPABILITIES: readonly (keyof StoreCapabilities)[] = ['conditionalAppend', 'readChanges'];

export const basicTests: ConformanceTest[] = [
  {
    id: 'basic.capabilities',
    level: 'MUST',
    title: 'declares every capability as a boolean, and has the method of each one it declares',
    async run(ctx) {
      const store = await ctx.create();
      assert.ok(store.capabilities !== null && typeof store.capabilities === 'object', 'capabilities must be an object');
      for (const key of REQUIRED_CAPABILITIES) {
        assert.ok(key in store.capabilities, `capabilities.${key} is missing: every manifest declares it, true or false`);
        assert.equal(typeof store.capabilities[key], 'boolean', `capabilities.${key} must be a boolean, not ${JSON.stringify(store.capabilities[key])}`);
      }
      for (const key of OPTIONAL_CAPABILITIES) {
        const value = store.capabilities[key];
        assert.ok(value === undefined || typeof value === 'boolean', `capabilities.${key} must be a boolean when present, not ${JSON.stringify(value)}`);
      }
      for (const [capability, method] of Object.entries(CAPABILITY_METHODS)) {
        if (store.capabilities[capability as keyof StoreCapabilities] === true) {
          assert.equal(typeof (store as unknown as Record<string, unknown>)[method], 'function', `declares ${capability} but has no ${method}()`);
        }
      }
      for (const method of ['getItems', 'addItems', 'popItem', 'clearSession', 'close']) {
        assert.equal(typeof (store as unknown as Record<string, unknown>)[method], 'function', `has no ${method}()`);
      }
    },
  },
  {
    id: 'basic.empty-session',
    level: 'MUST',
    title: 'an unknown session reads as empty, pops undefined, and clears without error',
    async run(ctx) {
      const store = await ctx.create();
      assert.deepEqual(await store.getItems('never-written'), []);
      assert.deepEqual(await store.getItems('never-written', { limit: 5 }), []);
      assert.equal(await store.popItem('never-written'), undefined);
      await store.clearSession('never-written');
      assert.deepEqual(await store.getItems('never-written'), []);
    },
  },
  {
    id: 'basic.append-read',
    level: 'MUST',
    title: 'reads back exactly the items appended, in order, across batches',
    async run(ctx) {
      const store = await ctx.create();
      await store.addItems('s', [msg('one')]);
      await store.addItems('s', [msg('two', 'assistant'), msg('three')]);
      await store.addItems('s', batch('four', 3));
      assert.deepEqual(contents(await store.getItems('s')), ['one', 'two', 'three', 'four-0', 'four-1', 'four-2']);
      assert.deepEqual(await store.getItems('s', { limit: 1 }), [msg('four-2')]);
    },
  },
  {
    id: 'basic.empty-batch',
    level: 'MUST',
    title: 'an empty batch is a no-op and does not create the session',
    async run(ctx) {
      const store = await ctx.create();
      await store.addItems('s', []);
      assert.deepEqual(await store.getItems('s'), []);
      if (store.capabilities.sessionInfo) assert.equal(await store.getSessionInfo!('s'), undefined);
      await store.addItems('t', [msg('a')]);
      await store.addItems('t', []);
      await assertHistory(store, 't', [msg('a')]);
    },
  },
  {
    id: 'basic.pop-newest',
    level: 'MUST',
    title: 'popItem removes and returns the newest item, then undefined once empty',
    async run(ctx) {
      const store = await ctx.create();
      await store.addItems('s', [msg('a'), msg('b')]);
      await store.addItems('s', [msg('c')]);
      assert.deepEqual(await store.popItem('s'), msg('c'));
      assert.deepEqual(await store.popItem('s'), msg('b'));
      await assertHistory(store, 's', [msg('a')]);
      await store.addItems('s', [msg('d')]);
      assert.deepEqual(await store.popItem('s'), msg('d'));
      assert.deepEqual(await store.popItem('s'), msg('a'));
      assert.equal(await store.popItem('s'), undefined);
      assert.deepEqual(await store.getItems('s'), []);
    },
  },
  {
    id: 'basic.clear',
    level: 'MUST',
    title: 'clearSession removes every item, and the session can be written again',
    async run(ctx) {
      const store = await ctx.create();
      await store.addItems('s', batch('x', 5));
      await store.clearSession('s');
      assert.deepEqual(await store.getItems('s'), []);
      assert.equal(await store.popItem('s'), undefined);
      await store.addItems('s', [msg('again')]);
      await assertHistory(store, 's', [msg('again')]);
    },
  },
  {
    id: 'basic.no-aliasing',
    level: 'MUST',
    title: 'changing an array or item after writing it, or a returned item, does not change what is stored',
    async run(ctx) {
      const store = await ctx.create();
      const item = { role: 'user', content: 'original', nested: { list: [1, 2] } };
      const items = [item];
      await store.addItems('s', items);
      item.content = 'changed';
      item.nested.list.push(3);
      items.push({ role: 'user', content: 'extra', nested: { list: [] } });
      const read = await store.getItems('s');
      assert.deepEqual(read, [{ role: 'user', content: 'original', nested: { list: [1, 2] } }]);
      (read[0] as { content: string }).content = 'mutated after read';
      assert.deepEqual(contents(await store.getItems('s')), ['original']);
    },
  },
  {
    id: 'basic.bound-session',
    level: 'MUST',
    title: 'bindSession gives an Agents SDK Session on the store, with applyHistoryTransaction only when declared',
    async run(ctx) {
      const store = await ctx.create();
      const session = bindSession(store, 'bound');
      assert.equal(await session.getSessionId(), 'bound');
      assert.equal(session.acceptsRunContext, true);
      await session.addItems([msg('a'), msg('b'), msg('c')]);
      assert.deepEqual(contents(await session.getItems()), ['a', 'b', 'c']);
      assert.deepEqual(contents(await session.getItems(2)), ['b', 'c']);
      assert.deepEqual(await session.popItem(), msg('c'));
      assert.equal(typeof (session as { applyHistoryTransaction?: unknown }).applyHistoryTransaction === 'function', store.capabilities.transactions);
      await session.clearSession();
      assert.deepEqual(await store.getItems('bound'), []);
      const factory = (store as { session?: unknown }).session;
      if (typeof factory === 'function') {
        const own = factory.call(store, 'bound') as ReturnType<typeof bindSession>;
        await own.addItems([msg('own')]);
        assert.deepEqual(await store.getItems('bound'), [msg('own')]);
      }
    },
  },
];
