import assert from 'node:assert/strict';
import { SessionErrorCode, isSessionError, type SessionStore } from '@sessionkit/core';
import type { ConformanceTest } from '../conformance-test.js';
import { assertInterleavedBatches, batch, contents, msg, writerBatch } from '../checks.js';

/** `writers` concurrent writers, each appending `batches` batches one after another, spread over `stores`. */
async function writeConcurrently(stores: SessionStore[], sessionId: string, writers: number, batches: number, size: number) {
  const names = Array.from({ length: writers }, (_, w) => `w${w}`);
  await Promise.all(
    names.map(async (name, w) => {
      const store = stores[w % stores.length]!;
      for (let b = 0; b < batches; b++) await store.addItems(sessionId, writerBatch(name, b, size));
    }),
  );
  return names;
}

async function popConcurrently(stores: SessionStore[], sessionId: string, total: number, pops: number) {
  const seeded = batch('item', total);
  await stores[0]!.addItems(sessionId, seeded);
  const popped = await Promise.all(Array.from({ length: pops }, (_, i) => stores[i % stores.length]!.popItem(sessionId)));
  const got = contents(popped.filter((item) => item !== undefined));
  assert.equal(new Set(got).size, got.length, 'two concurrent pops returned the same item');
  assert.equal(got.length, Math.min(total, pops), 'every pop on a non-empty session returned an item');
  const remaining = contents(await stores[0]!.getItems(sessionId));
  assert.equal(remaining.length, total - got.length);
  assert.deepEqual([...remaining, ...got].sort(), contents(seeded).sort(), 'pops lost or invented items');
  // Pops take from the end, so what remains is a prefix of the history.
  assert.deepEqual(remaining, contents(seeded).slice(0, remaining.length));
}

export const concurrencyTests: ConformanceTest[] = [
  {
    id: 'concurrency.parallel-batches',
    level: 'MUST',
    title: 'many parallel batches on one session: every item present once, each batch contiguous and in order',
    timeout: 60_000,
    async run(ctx) {
      const store = await ctx.create();
      const [writers, batches, size] = [ctx.n(8), ctx.n(6), 5];
      const names = await writeConcurrently([store], 'hot', writers, batches, size);
      assertInterleavedBatches(await store.getItems('hot'), names, batches, size);
    },
  },
  {
    id: 'concurrency.parallel-sessions',
    level: 'MUST',
    title: 'parallel writes to different sessions never mix',
    timeout: 60_000,
    async run(ctx) {
      const store = await ctx.create();
      const sessions = ctx.n(10);
      await Promise.all(
        Array.from({ length: sessions }, async (_, s) => {
          for (let b = 0; b < 4; b++) await store.addItems(`s${s}`, writerBatch(`s${s}`, b, 3));
        }),
      );
      for (let s = 0; s < sessions; s++) assertInterleavedBatches(await store.getItems(`s${s}`), [`s${s}`], 4, 3);
    },
  },
  {
    id: 'concurrency.parallel-pops',
    level: 'MUST',
    title: 'concurrent pops return distinct items and remove exactly those',
    requires: ['atomicReadModifyWrite'],
    timeout: 60_000,
    async run(ctx) {
      const store = await ctx.create();
      const total = ctx.n(20);
      await popConcurrently([store], 'hot', total, total + 5);
    },
  },
  {
    id: 'concurrency.pop-with-append',
    level: 'MUST',
    title: 'pops racing appends never lose or duplicate an item',
    requires: ['atomicReadModifyWrite'],
    timeout: 60_000,
    async run(ctx) {
      const store = await ctx.create();
      const n = ctx.n(15);
      await store.addItems('s', batch('seed', n));
      const popped: unknown[] = [];
      await Promise.all([
        (async () => {
          for (let b = 0; b < n; b++) await store.addItems('s', writerBatch('w', b, 2));
        })(),
        (async () => {
          for (let i = 0; i < n; i++) popped.push(await store.popItem('s'));
        })(),
      ]);
      const remaining = contents(await store.getItems('s'));
      const all = [...remaining, ...contents(popped.filter(Boolean))];
      assert.equal(new Set(all).size, all.length, 'an item was duplicated');
      assert.equal(all.length, n + n * 2, 'an item was lost');
    },
  },
  {
    id: 'concurrency.two-handles',
    level: 'MUST',
    title: 'two handles on the same data writing one session in parallel: every item once, batches contiguous and in order',
    requires: ['reopen'],
    timeout: 60_000,
    async run(ctx) {
      const first = await ctx.create();
      const second = await ctx.reopen(first);
      const [writers, batches, size] = [ctx.n(6), ctx.n(5), 4];
      const names = await writeConcurrently([first, second], 'hot', writers, batches, size);
      assertInterleavedBatches(await second.getItems('hot'), names, batches, size);
      assert.deepEqual(await first.getItems('hot'), await second.getItems('hot'));
    },
  },
  {
    id: 'concurrency.two-handle-pops',
    level: 'MUST',
    title: 'concurrent pops through two handles return distinct items',
    requires: ['reopen', 'atomicReadModifyWrite'],
    timeout: 60_000,
    async run(ctx) {
      const first = await ctx.create();
      const second = await ctx.reopen(first);
      const total = ctx.n(16);
      await popConcurrently([first, second], 'hot', total, total + 4);
    },
  },
  {
    id: 'concurrency.processes',
    level: 'MUST',
    title: 'writers in separate processes on one session: every item once, batches contiguous and in order',
    requires: ['processes'],
    timeout: 120_000,
    async run(ctx) {
      const store = await ctx.create();
      const [writers, batches, size] = [Math.max(2, ctx.n(3)), ctx.n(15), 4];
      await store.addItems('warm', [msg('opened')]);
      const results = await ctx.runProcesses(
        store,
        Array.from({ length: writers }, (_, writer) => ({ kind: 'append' as const, sessionId: 'hot', writer, batches, batchSize: size })),
      );
      for (const result of results) assert.deepEqual(result, { ok: true }, `a child process failed: ${JSON.stringify(result)}`);
      const names = Array.from({ length: writers }, (_, w) => `p${w}`);
      assertInterleavedBatches(await store.getItems('hot'), names, batches, size);
    },
  },
  {
    id: 'concurrency.process-pops',
    level: 'MUST',
    title: 'pops from separate processes return distinct items',
    requires: ['processes', 'atomicReadModifyWrite'],
    timeout: 120_000,
    async run(ctx) {
      const store = await ctx.create();
      const [children, each] = [Math.max(2, ctx.n(3)), ctx.n(8)];
      const total = children * each;
      await store.addItems('hot', batch('item', total));
      const results = (await ctx.runProcesses(
        store,
        Array.from({ length: children }, () => ({ kind: 'pop' as const, sessionId: 'hot', count: each })),
      )) as Array<{ ok: boolean; popped?: unknown[] }>;
      const got = results.flatMap((result) => {
        assert.equal(result.ok, true, `a child process failed: ${JSON.stringify(result)}`);
        return contents(result.popped ?? []);
      });
      assert.equal(new Set(got).size, total, 'pops in different processes returned the same item');
      assert.deepEqual(await store.getItems('hot'), []);
    },
  },
  {
    id: 'concurrency.process-transactions',
    level: 'MUST',
    title: 'transactions from separate processes, racing appends and each other (two apply the same operations): every batch once, contiguous and in order',
    requires: ['processes', 'transactions', 'atomicReadModifyWrite'],
    timeout: 120_000,
    async run(ctx) {
      const store = await ctx.create();
      const [batches, size] = [ctx.n(12), 3];
      await store.addItems('warm', [msg('opened')]);
      // p0 appends; p1 applies transactions, and so does a second process with the same operation ids
      // (a run resumed elsewhere): each must land once; p2 applies transactions of its own.
      const results = await ctx.runProcesses(store, [
        { kind: 'append', sessionId: 'hot', writer: 0, batches, batchSize: size },
        { kind: 'transact', sessionId: 'hot', writer: 1, batches, batchSize: size },
        { kind: 'transact', sessionId: 'hot', writer: 1, batches, batchSize: size },
        { kind: 'transact', sessionId: 'hot', writer: 2, batches, batchSize: size },
      ]);
      for (const result of results) assert.deepEqual(result, { ok: true }, `a child process failed: ${JSON.stringify(result)}`);
      const names = ['p0', 'p1', 'p2'];
      const history = await store.getItems('hot');
      assertInterleavedBatches(history, names, batches, size);
      // Every operation id was recorded with its change: replaying them here changes nothing.
      for (const writer of [1, 2]) {
        for (let b = 0; b < batches; b++) {
          await store.applyHistoryTransaction!('hot', { operationId: `p${writer}-op${b}`, transaction: { type: 'append_items', items: writerBatch(`p${writer}`, b, size) } });
        }
      }
      assert.equal((await store.getItems('hot')).length, history.length, 'an operation applied in another process was applied again');
    },
  },
  {
    id: 'concurrency.transaction-vs-append',
    level: 'MUST',
    title: 'a replace_suffix racing appends either applies on the exact suffix or fails with CONFLICT; no append is lost',
    requires: ['transactions'],
    timeout: 60_000,
    async run(ctx) {
      const store = await ctx.create();
      const rounds = ctx.n(10);
      for (let round = 0; round < rounds; round++) {
        const sid = `race-${round}`;
        await store.addItems(sid, [msg('old-1'), msg('old-2')]);
        const [tx] = await Promise.allSettled([
          store.applyHistoryTransaction!(sid, {
            operationId: `compact-${round}`,
            transaction: { type: 'replace_suffix', expectedSuffix: [msg('old-1'), msg('old-2')], replacement: [msg('summary')] },
          }),
          store.addItems(sid, [msg('new')]),
        ]);
        const history = contents(await store.getItems(sid));
        if (tx.status === 'fulfilled') {
          assert.deepEqual(history, ['summary', 'new'], 'the transaction applied and the append survived');
        } else {
          assert.ok(isSessionError(tx.reason, SessionErrorCode.Conflict), `expected CONFLICT, got ${String(tx.reason)}`);
          assert.deepEqual(history, ['old-1', 'old-2', 'new']);
        }
      }
    },
  },
];
