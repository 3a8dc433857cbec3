/**
 * The pure helpers behind the commit, the operation log, the run bound,
 * orphan clean-up and prune's count. No server needed.
 */
import { SessionErrorCode } from '@sessionkit/core';
import { hasHistoryMutations, hasReplaceHistory } from '@sessionkit/core/adapter';
import { BSON } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { expectCode } from './expect-code.js';
import {
  assertSessionDocument,
  commitUpdate,
  freshSession,
  isLive,
  seqRangeFilter,
  sessionItemsFilter,
  sessionProjection,
  versionFilter,
  type Expiry,
  type SessionDocument,
} from '../src/documents.js';
import { MongoStore } from '../src/index.js';
import { dropNewest, MERGE_RUN_ITEMS, planAppend, runsLength, tailSeqs, type SeqRun } from '../src/runs.js';

describe('session document projections', () => {
  it('never asks for the whole operation log; a transaction gets only its own entry, matched under $eq', () => {
    const plain = sessionProjection();
    expect(plain).not.toHaveProperty('ops');
    // An inclusion projection: every value is 1 or an operator document, none is 0.
    expect(Object.values(plain)).not.toContain(0);
    const hostile = '{"$gt":""}';
    const tx = BSON.deserialize(BSON.serialize(sessionProjection({ operationId: hostile })));
    expect(tx.ops).toEqual({ $elemMatch: { id: { $eq: hostile } } });
    for (const field of ['gen', 'v', 'next', 'count', 'runs', 'createdAt', 'updatedAt', 'expiresAt', 'itemsExpireAt']) {
      expect(tx[field], field).toBe(1);
    }
    expectCode(() => sessionProjection({ operationId: { $ne: null } as unknown as string }), SessionErrorCode.InvalidArgument);
  });

  it('a tail read asks for the newest runs only', () => {
    expect(sessionProjection({ tail: 5 }).runs).toEqual({ $slice: -5 });
    expectCode(() => sessionProjection({ tail: 0 }), SessionErrorCode.InvalidArgument);
    expectCode(() => sessionProjection({ tail: 2 ** 31 }), SessionErrorCode.InvalidArgument);
  });

  it('a sliced document is checked against what a slice can hold', () => {
    const doc: SessionDocument = {
      _id: 's',
      gen: 'g',
      v: 1,
      next: 30,
      runs: [
        [20, 22],
        [25, 30],
      ],
      count: 20,
      createdAt: new Date(1),
      updatedAt: new Date(2),
      ops: [],
    };
    // Two runs asked, two returned: the older runs hold the rest of the count.
    assertSessionDocument(doc, 'full', 2);
    // Fewer runs than asked means the whole list: it must add up.
    expectCode(() => assertSessionDocument(doc, 'full', 3), SessionErrorCode.CorruptData);
    expectCode(() => assertSessionDocument({ ...doc, count: 6 }, 'full', 2), SessionErrorCode.CorruptData);
    expectCode(() => assertSessionDocument(doc), SessionErrorCode.CorruptData);
  });
});

describe('planAppend keeps the run list bounded', () => {
  it('extends a contiguous run, carries a short newest run forward, leaves a long one', () => {
    expect(planAppend([[0, 5]], 0, 5, 2)).toEqual({ carry: 0, runs: [[0, 7]], end: 7 });
    // Popped to [0,4), next 5: the 4 items move to 5..8, the new ones follow.
    expect(planAppend([[0, 4]], 0, 5, 2)).toEqual({ carry: 4, runs: [[5, 11]], end: 11 });
    const long: SeqRun = [0, MERGE_RUN_ITEMS + 1];
    expect(planAppend([long], 0, 20, 1)).toEqual({ carry: 0, runs: [long, [20, 21]], end: 21 });
    // A suffix replacement drops first, then carries what is newest after the drop.
    expect(planAppend([[0, 20], [30, 33]], 2, 40, 1)).toEqual({ carry: 1, runs: [[0, 20], [40, 42]], end: 42 });
    // Nothing appended: nothing carried.
    expect(planAppend([[0, 4]], 1, 5, 0)).toEqual({ carry: 0, runs: [[0, 3]], end: 5 });
  });

  it('over pop-then-append cycles: at most 1 + count / (MERGE_RUN_ITEMS + 1) runs, same history as an array model', () => {
    let seed = 424242;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    // The model holds item identities; carried items keep theirs at new seqs.
    let model: string[] = [];
    const bySeq = new Map<number, string>();
    let runs: SeqRun[] = [];
    let next = 0;
    let copied = 0;
    let appended = 0;
    let maxRuns = 0;
    const write = (drop: number, n: number) => {
      const plan = planAppend(runs, drop, next, n);
      expect(plan.carry).toBeLessThanOrEqual(MERGE_RUN_ITEMS);
      const carried = tailSeqs(runs, drop + plan.carry).slice(0, plan.carry).map((seq) => bySeq.get(seq)!);
      const fresh = Array.from({ length: n }, () => `i${appended++}`);
      // New seqs are at or above next, never an existing one.
      [...carried, ...fresh].forEach((id, i) => bySeq.set(next + i, id));
      model = [...model.slice(0, model.length - drop - plan.carry), ...carried, ...fresh];
      copied += plan.carry;
      runs = plan.runs;
      next = Math.max(next, plan.end);
    };
    for (let step = 0; step < 5000; step++) {
      const r = random();
      if (r < 0.45) write(0, 1 + Math.floor(random() * 3));
      else if (r < 0.8 && model.length > 0) {
        runs = dropNewest(runs, 1);
        model.pop();
      } else {
        const k = Math.floor(random() * Math.min(model.length + 1, 4));
        write(k, Math.floor(random() * 3));
      }
      // Sometimes a writer skips taken sequence numbers.
      if (random() < 0.05) next += 1 + Math.floor(random() * 2);
      expect(runsLength(runs)).toBe(model.length);
      expect(runs.length).toBeLessThanOrEqual(1 + model.length / (MERGE_RUN_ITEMS + 1));
      if (step % 50 === 0) expect(tailSeqs(runs, model.length).map((seq) => bySeq.get(seq))).toEqual(model);
      maxRuns = Math.max(maxRuns, runs.length);
    }
    expect(tailSeqs(runs, model.length).map((seq) => bySeq.get(seq))).toEqual(model);
    // Copying stays a bounded multiple of the appends (at most MERGE_RUN_ITEMS per write).
    expect(copied).toBeLessThanOrEqual(appended * MERGE_RUN_ITEMS);
    expect(maxRuns).toBeGreaterThan(1);
  });

  it('without carrying, the same cycles grow one run per cycle (what the bound replaces)', () => {
    let runs: SeqRun[] = [[0, 10]];
    let next = 10;
    for (let cycle = 0; cycle < 50; cycle++) {
      runs = dropNewest(runs, 1);
      const plan = planAppend(runs, 0, next, 2, 0);
      runs = plan.runs;
      next = plan.end;
    }
    expect(runs.length).toBe(51);
    runs = [[0, 10]];
    next = 10;
    for (let cycle = 0; cycle < 50; cycle++) {
      runs = dropNewest(runs, 1);
      const plan = planAppend(runs, 0, next, 2);
      runs = plan.runs;
      next = plan.end;
    }
    expect(runs.length).toBeLessThanOrEqual(1 + runsLength(runs) / (MERGE_RUN_ITEMS + 1));
  });
});

describe('clean-up filters and the prune count', () => {
  it('session-wide and orphan-range filters put the id under $eq only', () => {
    const id = '{"$gt":""}';
    expect(BSON.deserialize(BSON.serialize(sessionItemsFilter(id)))).toEqual({ sessionId: { $eq: id } });
    expect(seqRangeFilter(id, 'g', 4, 9)).toEqual({ sessionId: { $eq: id }, gen: { $eq: 'g' }, seq: { $gte: 4, $lte: 9 } });
    expectCode(() => sessionItemsFilter({ $ne: null } as unknown as string), SessionErrorCode.InvalidArgument);
  });

  it('prune counts a deleted session only when it held items and had not expired', () => {
    expect(isLive({ count: 3 }, 1000)).toBe(true);
    expect(isLive({ count: 3, expiresAt: new Date(2000) }, 1000)).toBe(true);
    expect(isLive({ count: 3, expiresAt: new Date(1000) }, 1000)).toBe(false);
    expect(isLive({ count: 0 }, 1000)).toBe(false);
  });
});

describe('the commit', () => {
  const NO_TTL: Expiry = { set: {}, unset: [], items: undefined };
  const live = (count: number): SessionDocument => ({
    _id: 's',
    gen: 'g',
    v: 4,
    next: 10,
    runs: count > 0 ? [[10 - count, 10]] : [],
    count,
    createdAt: new Date(1),
    updatedAt: new Date(2),
    ops: [],
  });

  it('bumps v, sets the runs and count, raises next with $max, keeps createdAt unless the session held no items', () => {
    const update = commitUpdate(live(3), { runs: [[10, 12]], count: 2, next: 12 }, NO_TTL, 5000, 1000);
    expect(update).toEqual({
      $set: { v: 5, runs: [[10, 12]], count: 2, createdAt: new Date(1), updatedAt: new Date(5000) },
      $max: { next: 12 },
    });
    // Nothing in the log is touched without a transaction's entry (a replacement keeps the log whole).
    expect(update).not.toHaveProperty('$push');
    expect(update).not.toHaveProperty('$unset');
    expect(commitUpdate(live(0), { runs: [[10, 11]], count: 1, next: 11 }, NO_TTL, 5000, 1000).$set?.createdAt).toEqual(
      new Date(5000),
    );
  });

  it("pushes a transaction's entry and trims the log in the same update; expiry fields are set or removed", () => {
    const op = { id: 'op', fp: 'f' };
    const expiry: Expiry = { set: { expiresAt: new Date(9), itemsExpireAt: new Date(19) }, unset: [], items: new Date(19) };
    const update = commitUpdate(live(1), { runs: [[9, 10]], count: 1, next: 10, op }, expiry, 5000, 3);
    expect(update.$push).toEqual({ ops: { $each: [op], $slice: -3 } });
    expect(update.$set).toMatchObject({ expiresAt: new Date(9), itemsExpireAt: new Date(19) });
    const cleared = commitUpdate(live(1), { runs: [[9, 10]], count: 1, next: 10 }, { ...NO_TTL, unset: ['expiresAt', 'itemsExpireAt'] }, 5000, 3);
    expect(cleared.$unset).toEqual({ expiresAt: '', itemsExpireAt: '' });
  });

  it('the compare-and-swap filter names the version read, the id under $eq', () => {
    const id = '{"$gt":""}';
    expect(BSON.deserialize(BSON.serialize(versionFilter(id, { v: 3, gen: 'g' })))).toEqual({
      _id: { $eq: id },
      v: { $eq: 3 },
      gen: { $eq: 'g' },
    });
  });

  it('a fresh incarnation is empty, with a new gen and no log', () => {
    const a = freshSession('s', 7);
    expect(a).toMatchObject({ _id: 's', v: 0, next: 0, runs: [], count: 0, ops: [], createdAt: new Date(7), updatedAt: new Date(7) });
    expect(freshSession('s', 7).gen).not.toBe(a.gen);
  });

  it('a whole-history replacement drops every run, carries nothing and removes every old seq', () => {
    const runs: SeqRun[] = [
      [0, 20],
      [25, 27],
    ];
    const plan = planAppend(runs, 22, 30, 3);
    expect(plan).toEqual({ carry: 0, runs: [[30, 33]], end: 33 });
    expect(tailSeqs(runs, 22 + plan.carry)).toHaveLength(22);
    // An empty replacement: no runs, next unchanged.
    expect(planAppend(runs, 22, 30, 0)).toEqual({ carry: 0, runs: [], end: 30 });
  });
});

describe('capabilities (no MongoDB needed: nothing connects)', () => {
  it('declares replaceHistory and historyMutations, backed by the methods', async () => {
    const store = new MongoStore({ uri: 'mongodb://127.0.0.1:1/' });
    expect(store.capabilities).toMatchObject({ replaceHistory: true, historyMutations: true, transactionPreconditions: true });
    expect(hasReplaceHistory(store)).toBe(true);
    expect(hasHistoryMutations(store)).toBe(true);
    await store.close();
  });
});
