import Database from 'better-sqlite3';
import { SqliteStore } from '@sessionkit/sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, runWorkers, tempDir } from './setup.js';

// Real processes on one file, each with its own connection, through the built
// dist. busyTimeout 1 ms forces the store's own retry path (not just SQLite's
// busy handler) to carry the contention.

const temp = tempDir('processes');
beforeAll(() => ensureBuilt(), 120_000);
afterAll(() => temp.remove());

const WRITERS = 4;
const contended = { busyTimeout: 1 };

describe('several processes on one file', () => {
  it('concurrent appends on a fresh file: no error reaches the caller, no item lost, every batch contiguous and in order', async () => {
    const path = temp.file();
    const batches = 30;
    const batchSize = 5;
    const results = await runWorkers(
      Array.from({ length: WRITERS }, (_, writer) => ({ kind: 'append', path, sessionId: 'shared', writer, batches, batchSize, options: contended })),
    );
    for (const result of results) expect(result.errors).toEqual([]);

    const store = new SqliteStore({ path });
    const items = (await store.getItems('shared')) as { w: number; b: number; i: number }[];
    await store.close();
    expect(items).toHaveLength(WRITERS * batches * batchSize);
    expect(new Set(items.map((x) => `${x.w}/${x.b}/${x.i}`)).size).toBe(items.length);
    for (let k = 0; k < items.length; k += batchSize) {
      const batch = items.slice(k, k + batchSize);
      // Contiguous: one writer's one batch, items 0..n-1 in order.
      expect(batch.map((x) => x.i)).toEqual([0, 1, 2, 3, 4]);
      expect(new Set(batch.map((x) => `${x.w}/${x.b}`)).size).toBe(1);
    }
    for (let w = 0; w < WRITERS; w++) {
      const order = items.filter((x) => x.w === w && x.i === 0).map((x) => x.b);
      expect(order).toEqual(Array.from({ length: batches }, (_, b) => b));
    }
  }, 120_000);

  it('concurrent pops from several processes return distinct items and drain the session exactly', async () => {
    const path = temp.file();
    const store = new SqliteStore({ path });
    const total = 160;
    await store.addItems('q', Array.from({ length: total }, (_, n) => ({ n })));
    const results = await runWorkers(
      Array.from({ length: WRITERS }, () => ({ kind: 'pop', path, sessionId: 'q', count: total / WRITERS + 5, options: contended })),
    );
    for (const result of results) expect(result.errors).toEqual([]);
    const popped = results.flatMap((r) => r.popped ?? []).filter((x) => x !== null) as { n: number }[];
    expect(popped).toHaveLength(total);
    expect(new Set(popped.map((x) => x.n)).size).toBe(total);
    // Each process saw the history shrink from the end: its own pops are newest-first.
    for (const result of results) {
      const mine = (result.popped ?? []).filter((x) => x !== null) as { n: number }[];
      for (let k = 1; k < mine.length; k++) expect(mine[k]!.n).toBeLessThan(mine[k - 1]!.n);
    }
    expect(await store.getItems('q')).toEqual([]);
    await store.close();
  }, 120_000);

  it('the same operation id from several processes applies exactly once; others see it as a no-op', async () => {
    const path = temp.file();
    const store = new SqliteStore({ path });
    await store.addItems('t', [{ n: 0 }]);
    const args = { operationId: 'compact-1', transaction: { type: 'replace_suffix', expectedSuffix: [{ n: 0 }], replacement: [{ summary: 1 }] } };
    const results = await runWorkers(Array.from({ length: WRITERS }, () => ({ kind: 'transaction', path, sessionId: 't', args, options: contended })));
    // The first applies; the rest find the same operation in the log: no-op, not a failure.
    expect(results.map((r) => r.applied)).toEqual(Array(WRITERS).fill(true));
    expect(await store.getItems('t')).toEqual([{ summary: 1 }]);
    await store.close();
  }, 120_000);

  it('readers in one process are not blocked by a writer holding the write lock in another connection (WAL)', async () => {
    const path = temp.file();
    const store = new SqliteStore({ path, maxBusyWait: 0, busyTimeout: 0 });
    await store.addItems('s', [{ n: 1 }]);
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE');
    try {
      expect(await store.getItems('s')).toEqual([{ n: 1 }]);
    } finally {
      other.exec('ROLLBACK');
      other.close();
      await store.close();
    }
  });
});
