/**
 * Everything that needs a real MongoDB: the conformance suite (with
 * transactions and with the single-document scheme) and the adapter's own
 * server checks. Without a server the whole file skips with one loud line.
 */
import { describeConformance } from '@sessionkit/conformance';
import { SessionErrorCode } from '@sessionkit/core';
import { MongoClient } from 'mongodb';
import { afterAll, describe, expect, it } from 'vitest';
import { itemsFilter, sessionProjection } from '../src/documents.js';
import { MERGE_RUN_ITEMS, tailSeqs } from '../src/runs.js';
import { MongoStore } from '../src/index.js';
import { mongoHarness, openStore, type Location } from './harness.js';
import { buildHint, distAvailable, failLine, mongoTarget, skipLine, uniqueDatabase } from './server.js';

const resolved = await mongoTarget();

if ('fail' in resolved) {
  // Asked for explicitly and unusable: a failed test, so the run cannot pass unnoticed.
  console.error(failLine(resolved.fail));
  describe('MongoStore on a real server', () => {
    it('reaches the MongoDB named by MONGODB_URI', () => {
      throw new Error(failLine(resolved.fail));
    });
  });
} else if ('skip' in resolved) {
  console.warn(skipLine('mongodb conformance and server tests', resolved.skip));
  describe.skip('MongoStore on a real server', () => it('needs MONGODB_URI or mongodb-memory-server-core', () => {}));
} else {
  const { target } = resolved;
  const database = uniqueDatabase();
  afterAll(async () => {
    const client = new MongoClient(target.uri, { serverSelectionTimeoutMS: 5_000 });
    try {
      await client.db(database).dropDatabase();
    } finally {
      await client.close();
      await target.stop();
    }
  }, 60_000);
  if (!distAvailable) console.warn(`!!! mongodb conformance: cross-process tests disabled, ${buildHint}`);

  if (target.replicated) {
    describeConformance(`MongoStore (${target.label}, transactions)`, mongoHarness(target, 'auto', `${database}_tx`));
  } else {
    console.warn('!!! mongodb: the server is a standalone, so the transaction path is not run (point MONGODB_URI at a replica set)');
  }
  describeConformance(`MongoStore (${target.label}, single-document commits)`, mongoHarness(target, 'never', `${database}_sd`));

  describe(`MongoStore on ${target.label}`, () => {
    const stores: MongoStore[] = [];
    const open = (extra: Partial<Location> = {}) => {
      const store = openStore({
        uri: target.uri,
        database,
        collectionPrefix: `u${stores.length}_`,
        transactions: 'never',
        ...extra,
      });
      stores.push(store);
      return store;
    };
    afterAll(async () => {
      await Promise.all(stores.map((store) => store.close()));
    });

    it('detects the deployment and picks the commit scheme', async () => {
      const auto = await open({ transactions: 'auto' }).deployment();
      expect(auto.kind).toBe(target.replicated ? 'replicaSet' : 'standalone');
      expect(auto.transactions).toBe(target.replicated);
      expect((await open({ transactions: 'never' }).deployment()).transactions).toBe(false);
      if (!target.replicated) {
        await expect(open({ transactions: 'always' }).deployment()).rejects.toMatchObject({
          code: SessionErrorCode.BackendError,
        });
      }
    });

    it('hostile ids and operator-shaped items are stored as data', async () => {
      const store = open();
      const ids = ['{"$gt":""}', '$where', 'a.b', '$ne'];
      const item = { $set: { role: 'admin' }, 'a.b': 1, $where: 'true' };
      for (const id of ids) await store.addItems(id, [item, { id }]);
      await store.addItems('victim', [{ secret: true }]);
      for (const id of ids) {
        expect(await store.getItems(id)).toEqual([item, { id }]);
        const raw = await store.collections.sessions.findOne({ _id: { $eq: id } });
        expect(raw?._id).toBe(id);
        const docs = await store.collections.items.find({ sessionId: { $eq: id } }).toArray();
        expect(docs).toHaveLength(2);
        for (const doc of docs) expect(typeof doc.item).toBe('string');
      }
      await store.clearSession('{"$gt":""}');
      expect(await store.getItems('victim')).toEqual([{ secret: true }]);
      expect(await store.collections.sessions.countDocuments({})).toBe(ids.length);
    });

    it('item documents no commit references (a writer that died) are never read, and later writes skip them', async () => {
      const store = open();
      await store.addItems('s', [1, 2]);
      const doc = (await store.collections.sessions.findOne({ _id: { $eq: 's' } }))!;
      await store.collections.items.insertMany([
        { sessionId: 's', gen: doc.gen, seq: doc.next, item: '"orphan"' },
        { sessionId: 's', gen: doc.gen, seq: doc.next + 1, item: '"orphan"' },
      ]);
      expect(await store.getItems('s')).toEqual([1, 2]);
      await store.addItems('s', [3]);
      expect(await store.getItems('s')).toEqual([1, 2, 3]);
      expect(await store.popItem('s')).toBe(3);
      expect(await store.getItems('s')).toEqual([1, 2]);
    });

    it('readers never see a later batch of a writer without its earlier ones, nor part of a batch', async () => {
      const writers = 4;
      const batches = 10;
      const store = open({ transactions: 'auto' });
      const readerStore = open({ transactions: 'auto', collectionPrefix: store.collectionPrefix });
      let done = false;
      const problems: string[] = [];
      const reader = (async () => {
        while (!done) {
          const items = (await readerStore.getItems('race')) as { w: number; b: number; i: number }[];
          const seen = new Map<number, number[]>();
          for (let at = 0; at < items.length; at += 3) {
            const [a, b, c] = [items[at], items[at + 1], items[at + 2]];
            if (!a || !b || !c || a.w !== b.w || b.w !== c.w || a.b !== b.b || b.b !== c.b || a.i !== 0 || b.i !== 1 || c.i !== 2) {
              problems.push(`torn batch at ${at}`);
              break;
            }
            seen.set(a.w, [...(seen.get(a.w) ?? []), a.b]);
          }
          for (const [w, list] of seen) {
            if (list.some((b, k) => b !== k)) problems.push(`writer ${w} batches out of order: ${list.join(',')}`);
          }
        }
      })();
      await Promise.all(
        Array.from({ length: writers }, async (_, w) => {
          const writer = open({ transactions: 'auto', collectionPrefix: store.collectionPrefix });
          for (let b = 0; b < batches; b++) await writer.addItems('race', [0, 1, 2].map((i) => ({ w, b, i })));
        }),
      );
      done = true;
      await reader;
      expect(problems).toEqual([]);
      expect(await store.getItems('race')).toHaveLength(writers * batches * 3);
    });

    it('a tail read examines O(limit) item documents, not the history', async () => {
      const store = open();
      for (let b = 0; b < 20; b++) await store.addItems('long', Array.from({ length: 50 }, (_, i) => b * 50 + i));
      expect(await store.getItems('long', { limit: 5 })).toEqual([995, 996, 997, 998, 999]);
      const doc = (await store.collections.sessions.findOne({ _id: { $eq: 'long' } }))!;
      const explain = await store.collections.items
        .find(itemsFilter('long', doc.gen, tailSeqs(doc.runs, 5)))
        .explain('executionStats');
      expect(explain.executionStats.totalDocsExamined).toBe(5);
      expect(explain.executionStats.totalKeysExamined).toBeLessThanOrEqual(6);
    });

    it('with a ttl, item documents always outlive their session document; both collections have TTL indexes', async () => {
      const store = open({ ttl: 60_000 });
      await store.addItems('t', [1]);
      await store.addItems('t', [2]);
      await store.popItem('t');
      const doc = (await store.collections.sessions.findOne({ _id: { $eq: 't' } }))!;
      expect(doc.expiresAt).toBeInstanceOf(Date);
      for (const item of await store.collections.items.find({ sessionId: { $eq: 't' } }).toArray()) {
        expect(item.expiresAt!.getTime()).toBeGreaterThanOrEqual(doc.expiresAt!.getTime());
      }
      for (const collection of [store.collections.sessions, store.collections.items]) {
        const indexes = await collection.listIndexes().toArray();
        expect(indexes.find((index) => index.name === 'expiresAt_ttl')).toMatchObject({ expireAfterSeconds: 0 });
      }
    });

    it('the operation log is pushed and trimmed in the commit; a transaction reads only its own entry', async () => {
      const store = new MongoStore({ uri: target.uri, database, collectionPrefix: 'oplog_', operationLogSize: 3, transactions: 'auto' });
      stores.push(store);
      for (let i = 0; i < 5; i++) {
        await store.applyHistoryTransaction('s', { operationId: `op${i}`, transaction: { type: 'append_items', items: [i] } });
      }
      const raw = (await store.collections.sessions.findOne({ _id: { $eq: 's' } }))!;
      expect(raw.ops.map((op) => op.id)).toEqual(['op2', 'op3', 'op4']);
      const projected = await store.collections.sessions.findOne(
        { _id: { $eq: 's' } },
        { projection: sessionProjection({ operationId: 'op3' }) },
      );
      expect(projected?.ops.map((op) => op.id)).toEqual(['op3']);
      // A remembered id: a no-op; a reused one with other content: CONFLICT; a forgotten one applies again.
      await store.applyHistoryTransaction('s', { operationId: 'op4', transaction: { type: 'append_items', items: [4] } });
      await expect(
        store.applyHistoryTransaction('s', { operationId: 'op4', transaction: { type: 'append_items', items: ['other'] } }),
      ).rejects.toMatchObject({ code: SessionErrorCode.Conflict });
      expect(await store.getItems('s')).toEqual([0, 1, 2, 3, 4]);
      await store.applyHistoryTransaction('s', { operationId: 'op0', transaction: { type: 'append_items', items: [0] } });
      expect(await store.getItems('s')).toEqual([0, 1, 2, 3, 4, 0]);
    });

    it('pop-then-append cycles keep the run list within 1 + count / (MERGE_RUN_ITEMS + 1)', async () => {
      for (const transactions of ['never', 'auto'] as const) {
        const store = open({ transactions });
        const model: number[] = [];
        let n = 0;
        for (let cycle = 0; cycle < 40; cycle++) {
          const batch = [n++, n++];
          await store.addItems('cycles', batch);
          model.push(...batch);
          expect(await store.popItem('cycles')).toBe(model.pop());
        }
        expect(await store.getItems('cycles')).toEqual(model);
        expect(await store.getItems('cycles', { limit: 3 })).toEqual(model.slice(-3));
        const doc = (await store.collections.sessions.findOne({ _id: { $eq: 'cycles' } }))!;
        expect(doc.runs.length).toBeLessThanOrEqual(1 + model.length / (MERGE_RUN_ITEMS + 1));
        // Carried items' old documents are deleted: exactly one document per item remains.
        expect(await store.collections.items.countDocuments({ sessionId: { $eq: 'cycles' } })).toBe(model.length);
      }
    });

    it.runIf(target.replicated)('with transactions, orphans at the sequence numbers a write needs are swept and the write retried', async () => {
      const store = open({ transactions: 'auto' });
      await store.addItems('orph', [1, 2]);
      const doc = (await store.collections.sessions.findOne({ _id: { $eq: 'orph' } }))!;
      // What a single-document writer that died between insert and commit leaves behind.
      await store.collections.items.insertMany([
        { sessionId: 'orph', gen: doc.gen, seq: doc.next, item: '"orphan"' },
        { sessionId: 'orph', gen: doc.gen, seq: doc.next + 3, item: '"orphan"' },
      ]);
      await store.addItems('orph', [3]);
      expect(await store.getItems('orph')).toEqual([1, 2, 3]);
      expect(await store.collections.items.countDocuments({ sessionId: { $eq: 'orph' }, item: '"orphan"' })).toBe(0);
    });

    it('replaceHistory leaves exactly the new item documents and keeps the incarnation, the operation log and createdAt', async () => {
      for (const transactions of target.replicated ? (['never', 'auto'] as const) : (['never'] as const)) {
        const store = open({ transactions });
        const append = { operationId: 'op1', transaction: { type: 'append_items' as const, items: [1, 2, 3] } };
        await store.applyHistoryTransaction('r', append);
        const before = (await store.collections.sessions.findOne({ _id: { $eq: 'r' } }))!;
        await store.replaceHistory('r', ['a', 'b']);
        expect(await store.getItems('r')).toEqual(['a', 'b']);
        const after = (await store.collections.sessions.findOne({ _id: { $eq: 'r' } }))!;
        expect(after.gen).toBe(before.gen);
        expect(after.createdAt).toEqual(before.createdAt);
        expect(after.ops.map((op) => op.id)).toEqual(['op1']);
        expect(after.runs).toHaveLength(1);
        expect(await store.collections.items.countDocuments({ sessionId: { $eq: 'r' } })).toBe(2);
        // A replayed transaction stays a no-op after the replacement.
        await store.applyHistoryTransaction('r', append);
        expect(await store.getItems('r')).toEqual(['a', 'b']);
        await store.replaceHistory('r', []);
        expect(await store.getSessionInfo('r')).toBeUndefined();
        expect(await store.collections.items.countDocuments({ sessionId: { $eq: 'r' } })).toBe(0);
        // Nothing replaced by nothing: no document is written.
        await store.replaceHistory('absent', []);
        expect(await store.collections.sessions.countDocuments({ _id: { $eq: 'absent' } })).toBe(0);
      }
    });

    it('clear and prune remove item documents no commit ever referenced', async () => {
      for (const transactions of target.replicated ? (['never', 'auto'] as const) : (['never'] as const)) {
        const store = open({ transactions });
        for (const id of ['c', 'p']) {
          await store.addItems(id, [1]);
          const doc = (await store.collections.sessions.findOne({ _id: { $eq: id } }))!;
          // Uncommitted documents in the current incarnation: removed in both schemes.
          await store.collections.items.insertOne({ sessionId: id, gen: doc.gen, seq: doc.next + 5, item: '"orphan"' });
          if (transactions === 'auto') {
            // An incarnation no session document names (old layout): a transaction removes every gen.
            await store.collections.items.insertOne({ sessionId: id, gen: 'never-committed', seq: 0, item: '"orphan"' });
          }
        }
        await store.clearSession('c');
        expect(await store.collections.items.countDocuments({ sessionId: { $eq: 'c' } })).toBe(0);
        expect(await store.prune({ olderThan: new Date(Date.now() + 60_000) })).toBe(1);
        expect(await store.collections.items.countDocuments({ sessionId: { $eq: 'p' } })).toBe(0);
      }
    });

    it('prune removes expired sessions too but counts only live ones', async () => {
      const expiring = open({ ttl: 50 });
      const lasting = open({ collectionPrefix: expiring.collectionPrefix });
      await expiring.addItems('gone', [1]);
      await lasting.addItems('here', [1]);
      await new Promise((resolve) => setTimeout(resolve, 120));
      expect(await lasting.prune({ olderThan: new Date(Date.now() + 60_000) })).toBe(1);
      expect(await lasting.collections.sessions.countDocuments({})).toBe(0);
    });

    it('a client that reads from secondaries still reads its own writes (the store pins primary)', async () => {
      const client = new MongoClient(target.uri, { serverSelectionTimeoutMS: 5_000, readPreference: 'secondaryPreferred' });
      await client.connect();
      try {
        const store = new MongoStore({ client, database, collectionPrefix: 'pin_' });
        for (let i = 0; i < 20; i++) {
          await store.addItems('p', [i]);
          expect(await store.getItems('p', { limit: 1 })).toEqual([i]);
        }
        await store.close();
      } finally {
        await client.close();
      }
    });

    it('never closes a client the caller passed in', async () => {
      const client = new MongoClient(target.uri, { serverSelectionTimeoutMS: 5_000 });
      await client.connect();
      try {
        const store = new MongoStore({ client, database, collectionPrefix: 'own_' });
        await store.addItems('s', [1]);
        await store.close();
        expect(await client.db(database).command({ ping: 1 })).toMatchObject({ ok: 1 });
      } finally {
        await client.close();
      }
    });
  });
}
