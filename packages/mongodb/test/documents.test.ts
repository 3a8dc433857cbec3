import { isSessionError, SessionErrorCode } from '@sessionkit/core';
import { encodeItem } from '@sessionkit/core/adapter';
import {
  assertCollectionPrefix,
  assertDatabaseName,
  assertItemsFit,
  assertSessionDocument,
  collectionNames,
  generationFilter,
  isExpired,
  itemDocument,
  itemsFilter,
  ITEM_INDEXES,
  maxItemBytes,
  SESSION_INDEXES,
  sessionFilter,
  toSessionInfo,
  type SessionDocument,
} from '../src/documents.js';
import { appendRange, dropNewest, runsLength, seqRuns, tailSeqs, type SeqRun } from '../src/runs.js';
import { BSON } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { expectCode } from './expect-code.js';

const HOSTILE_IDS = ['{"$gt":""}', '$where', '$gt', 'a.b', '$ne', '{ "$where": "sleep(1000)" }', '\u0000', 'x'.repeat(512)];

/** Every value at an operator position of a filter, as found after a BSON round trip. */
function operatorValues(filter: unknown): unknown[] {
  const out: unknown[] = [];
  const walk = (value: unknown) => {
    if (Array.isArray(value)) return value.forEach(walk);
    if (value === null || typeof value !== 'object' || value instanceof Date) return;
    for (const [key, child] of Object.entries(value)) {
      if (key.startsWith('$')) out.push(child);
      walk(child);
    }
  };
  walk(filter);
  return out;
}

describe('session ids are data in every filter', () => {
  it.each(HOSTILE_IDS)('sessionFilter(%j) is an $eq on the exact string, after BSON encoding too', (id) => {
    const filter = BSON.deserialize(BSON.serialize(sessionFilter(id)));
    expect(filter).toEqual({ _id: { $eq: id } });
    // The id appears only as the value of $eq, never as a key.
    expect(Object.keys(filter._id)).toEqual(['$eq']);
  });

  it.each(HOSTILE_IDS)('itemsFilter and generationFilter(%j) put the id under $eq only', (id) => {
    for (const filter of [itemsFilter(id, 'g', [1, 2, 3]), itemsFilter(id, 'g', [1, 5, 9], 'delete'), generationFilter(id, 'g')]) {
      const roundTripped = BSON.deserialize(BSON.serialize(filter));
      expect(roundTripped.sessionId).toEqual({ $eq: id });
      expect(JSON.stringify(Object.keys(roundTripped))).not.toContain(id === 'x'.repeat(512) ? 'xxxx' : id);
    }
  });

  it('refuses a non-string id instead of placing an object where an operator could live', () => {
    expectCode(() => sessionFilter({ $gt: '' } as unknown as string), SessionErrorCode.InvalidArgument);
    expectCode(() => itemsFilter({ $ne: null } as unknown as string, 'g', [0]), SessionErrorCode.InvalidArgument);
    expectCode(() => generationFilter(42 as unknown as string, 'g'), SessionErrorCode.InvalidArgument);
  });

  it('the only operators in a filter are ours, with plain values', () => {
    const values = operatorValues(itemsFilter('{"$gt":""}', 'g', [1, 2, 7]));
    for (const value of values) {
      expect(['string', 'number', 'object']).toContain(typeof value);
    }
    expect(values).toContain('{"$gt":""}');
  });
});

describe('items are stored as one string field', () => {
  const hostileItems = [
    { $set: { role: 'admin' } },
    { 'a.b': 1, '$where': 'true', nested: { $gt: '', 'x.y': [{ $ne: 1 }] } },
    { type: 'message', content: [{ type: 'input_text', text: '$gt' }] },
    ['$inc', { $unset: '' }],
  ];

  it.each(hostileItems)('item %j survives a BSON round trip as text and decodes to itself', (item) => {
    const encoded = encodeItem(item);
    const doc = itemDocument('s', 'g', 7, encoded, undefined);
    expect(typeof doc.item).toBe('string');
    // The document's own keys are fixed: nothing from the item becomes a field name.
    expect(Object.keys(doc).sort()).toEqual(['gen', 'item', 'seq', 'sessionId']);
    const back = BSON.deserialize(BSON.serialize(doc, { checkKeys: true }));
    expect(back.item).toBe(encoded);
    expect(JSON.parse(back.item)).toEqual(item);
  });

  it('adds expiresAt only with a ttl', () => {
    const at = new Date(1_700_000_000_000);
    expect(itemDocument('s', 'g', 0, '1', at).expiresAt).toBe(at);
    expect('expiresAt' in itemDocument('s', 'g', 0, '1', undefined)).toBe(false);
  });
});

describe('run arithmetic', () => {
  it('seqRuns groups ascending runs', () => {
    expect(seqRuns([])).toEqual([]);
    expect(seqRuns([5, 3, 4, 9])).toEqual([
      [3, 6],
      [9, 10],
    ]);
    expect(seqRuns([1, 1, 2])).toEqual([[1, 3]]);
  });

  it('tailSeqs walks runs from the newest end, returning oldest first', () => {
    const runs: SeqRun[] = [
      [0, 3],
      [10, 12],
    ];
    expect(tailSeqs(runs, 0)).toEqual([]);
    expect(tailSeqs(runs, 1)).toEqual([11]);
    expect(tailSeqs(runs, 3)).toEqual([2, 10, 11]);
    expect(tailSeqs(runs, 99)).toEqual([0, 1, 2, 10, 11]);
  });

  it('dropNewest and appendRange', () => {
    const runs: SeqRun[] = [
      [0, 3],
      [10, 12],
    ];
    expect(dropNewest(runs, 1)).toEqual([
      [0, 3],
      [10, 11],
    ]);
    expect(dropNewest(runs, 2)).toEqual([[0, 3]]);
    expect(dropNewest(runs, 4)).toEqual([[0, 1]]);
    expect(dropNewest(runs, 5)).toEqual([]);
    expect(runs).toEqual([
      [0, 3],
      [10, 12],
    ]); // inputs are not mutated
    expect(appendRange([[0, 3]], 3, 5)).toEqual([[0, 5]]);
    expect(appendRange([[0, 3]], 7, 8)).toEqual([
      [0, 3],
      [7, 8],
    ]);
    expect(appendRange([[0, 3]], 7, 7)).toEqual([[0, 3]]);
  });

  it('agrees with an array model over a seeded random sequence of appends, pops and suffix replacements', () => {
    let seed = 12345;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    let model: number[] = [];
    let runs: SeqRun[] = [];
    let next = 0;
    for (let step = 0; step < 2000; step++) {
      const r = random();
      if (r < 0.5) {
        const n = 1 + Math.floor(random() * 4);
        // Sometimes skip sequence numbers, as a writer that met taken ones does.
        if (random() < 0.2) next += 1 + Math.floor(random() * 3);
        runs = appendRange(runs, next, next + n);
        for (let i = 0; i < n; i++) model.push(next + i);
        next += n;
      } else if (r < 0.75) {
        runs = dropNewest(runs, 1);
        model.pop();
      } else {
        const k = Math.floor(random() * Math.min(model.length + 1, 5));
        const n = Math.floor(random() * 3);
        runs = appendRange(dropNewest(runs, k), next, next + n);
        model = model.slice(0, model.length - k);
        for (let i = 0; i < n; i++) model.push(next + i);
        next += n;
      }
      expect(runsLength(runs)).toBe(model.length);
      const limit = Math.floor(random() * 8);
      expect(tailSeqs(runs, limit)).toEqual(model.slice(Math.max(0, model.length - limit)));
    }
    expect(tailSeqs(runs, model.length)).toEqual(model);
  });

  it('itemsFilter reads one range, a few $or ranges, or a bounding range; deletes name exact seqs', () => {
    expect(itemsFilter('s', 'g', [3, 4, 5]).seq).toEqual({ $gte: 3, $lt: 6 });
    const few = itemsFilter('s', 'g', [1, 5]);
    expect(few.$or).toEqual([{ seq: { $gte: 1, $lt: 2 } }, { seq: { $gte: 5, $lt: 6 } }]);
    const scattered = Array.from({ length: 40 }, (_, i) => i * 2);
    expect(itemsFilter('s', 'g', scattered).seq).toEqual({ $gte: 0, $lt: 79 });
    expect(itemsFilter('s', 'g', scattered, 'delete').seq).toEqual({ $in: scattered });
  });
});

describe('collections and indexes', () => {
  it('names both collections from the prefix', () => {
    expect(collectionNames('sessionkit_')).toEqual({ sessions: 'sessionkit_sessions', items: 'sessionkit_items' });
  });

  it('the items index is unique and led by the session id; both TTL indexes expire at each document\'s own date', () => {
    const unique = ITEM_INDEXES.find((index) => index.unique);
    expect(Object.keys(unique!.key)).toEqual(['sessionId', 'gen', 'seq']);
    for (const indexes of [ITEM_INDEXES, SESSION_INDEXES]) {
      const ttl = indexes.find((index) => index.expireAfterSeconds !== undefined);
      expect(ttl).toMatchObject({ key: { expiresAt: 1 }, expireAfterSeconds: 0 });
    }
  });

  it('validates database names and collection prefixes', () => {
    for (const bad of ['', 'a/b', 'a.b', 'a b', 'a$b', 'x'.repeat(64), 5]) {
      expectCode(() => assertDatabaseName(bad), SessionErrorCode.InvalidArgument);
    }
    assertDatabaseName('sessionkit');
    for (const bad of ['a$', 'system.', 'a\0', 7]) {
      expectCode(() => assertCollectionPrefix(bad), SessionErrorCode.InvalidArgument);
    }
    assertCollectionPrefix('');
    assertCollectionPrefix('app_');
  });
});

describe('session documents', () => {
  const doc: SessionDocument = {
    _id: 's',
    gen: 'g',
    v: 3,
    next: 12,
    runs: [
      [0, 3],
      [10, 12],
    ],
    count: 5,
    createdAt: new Date(1000),
    updatedAt: new Date(2000),
    ops: [],
  };

  it('accepts a well-formed document and reports a malformed one as CORRUPT_DATA', () => {
    assertSessionDocument(doc);
    expectCode(() => assertSessionDocument({ ...doc, count: 4 }), SessionErrorCode.CorruptData);
    expectCode(() => assertSessionDocument({ ...doc, runs: [[3, 1]] }), SessionErrorCode.CorruptData);
    expectCode(() => assertSessionDocument({ ...doc, gen: 1 }), SessionErrorCode.CorruptData);
    expectCode(() => assertSessionDocument({ ...doc, updatedAt: 'yesterday' }), SessionErrorCode.CorruptData);
    expectCode(() => assertSessionDocument(null), SessionErrorCode.CorruptData);
    // 'meta' skips the (possibly projected-out) history and log.
    const { runs: _runs, ops: _ops, ...meta } = doc;
    assertSessionDocument(meta, 'meta');
  });

  it('expiry is honoured on read, at the instant itself', () => {
    expect(isExpired(doc, 5000)).toBe(false);
    expect(isExpired({ expiresAt: new Date(5000) }, 4999)).toBe(false);
    expect(isExpired({ expiresAt: new Date(5000) }, 5000)).toBe(true);
  });

  it('toSessionInfo exposes count and dates, expiresAt only when set', () => {
    expect(toSessionInfo(doc)).toEqual({ sessionId: 's', itemCount: 5, createdAt: new Date(1000), updatedAt: new Date(2000) });
    expect(toSessionInfo({ ...doc, expiresAt: new Date(9000) }).expiresAt).toEqual(new Date(9000));
  });
});

describe('size limit', () => {
  it('refuses an item larger than a document can hold with TOO_LARGE, naming its index', () => {
    const limit = maxItemBytes('s');
    expect(limit).toBeGreaterThan(16 * 1024 * 1024 - 2048);
    assertItemsFit('s', ['"x"', 'a'.repeat(limit)]);
    try {
      assertItemsFit('s', ['"x"', 'a'.repeat(limit + 1)]);
      throw new Error('expected TOO_LARGE');
    } catch (error) {
      expect(isSessionError(error, SessionErrorCode.TooLarge)).toBe(true);
      expect((error as Error).message).toContain('items[1]');
    }
  });

  it('counts UTF-8 bytes, not characters, and the session id too', () => {
    const limit = maxItemBytes('s');
    const threeByteChars = '€'.repeat(Math.floor(limit / 3) + 1);
    expectCode(() => assertItemsFit('s', [threeByteChars]), SessionErrorCode.TooLarge);
    expect(maxItemBytes('x'.repeat(512))).toBe(limit - 511);
  });

  it('honours a smaller server limit from hello', () => {
    expectCode(() => assertItemsFit('s', ['a'.repeat(5000)], 4096), SessionErrorCode.TooLarge);
  });
});
