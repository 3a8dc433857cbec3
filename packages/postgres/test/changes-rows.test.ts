/**
 * The `changes` statement's rows as readChanges' answer, in whatever order the server sends them (SQL
 * does not promise a UNION's row order; no plan here returns them otherwise, so the rows are given).
 */
import { SessionError, SessionErrorCode } from '@sessionkit/core';
import { describe, expect, it } from 'vitest';
import { changesFromRows, type ChangesRow } from '../src/changes-rows.js';

const header = (epoch: string, length: number, appended: boolean): ChangesRow => [epoch, length, appended, null, null];
const item = (seq: number): ChangesRow => [null, null, null, `{"n":${seq}}`, String(seq)];
/** Item rows for seqs from..to, newest first: the order the index walk gives. */
const newestFirst = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => item(to - i));
const texts = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `{"n":${from + i}}`);

const expectBackendError = (rows: ChangesRow[], since?: { epoch: string; length: number }) => {
  let thrown: unknown;
  try {
    changesFromRows(rows, since);
  } catch (error) {
    thrown = error;
  }
  expect(SessionError.is(thrown, SessionErrorCode.BackendError)).toBe(true);
};

describe('changesFromRows', () => {
  it('reads the header and the items, oldest first, as the plan gives them', () => {
    expect(changesFromRows([header('e', 3, false), ...newestFirst(1, 3)], undefined)).toEqual({
      version: { epoch: 'e', length: 3 },
      whole: true,
      items: texts(1, 3),
    });
  });

  it('puts items back in seq order and finds the header wherever the server put them', () => {
    const shuffled = [item(2), item(5), header('e', 5, false), item(1), item(4), item(3)];
    expect(changesFromRows(shuffled, undefined)).toEqual({ version: { epoch: 'e', length: 5 }, whole: true, items: texts(1, 5) });
    const ascending = [...newestFirst(1, 4).reverse(), header('e', 4, false)];
    expect(changesFromRows(ascending, undefined).items).toEqual(texts(1, 4));
  });

  it('orders by the number, not the text, of seq', () => {
    expect(changesFromRows([header('e', 3, false), item(9), item(10), item(8)], undefined).items).toEqual(texts(8, 10));
  });

  it('appended items since a version: whole is false, only the new ones', () => {
    const since = { epoch: 'e', length: 2 };
    expect(changesFromRows([item(3), header('e', 4, true), item(4)], since)).toEqual({
      version: { epoch: 'e', length: 4 },
      whole: false,
      items: texts(3, 4),
    });
  });

  it('no session row: no record, epoch empty; whole unless the caller already had no record', () => {
    expect(changesFromRows([], undefined)).toEqual({ version: { epoch: '', length: 0 }, whole: true, items: [] });
    expect(changesFromRows([], { epoch: '', length: 0 }).whole).toBe(false);
    expect(changesFromRows([], { epoch: 'e', length: 2 }).whole).toBe(true);
  });

  it('rows that do not add up are BACKEND_ERROR, never a history with items missing', () => {
    expectBackendError([header('e', 3, false), ...newestFirst(2, 3)]);
    expectBackendError([header('e', 4, true), item(4)], { epoch: 'e', length: 2 });
    expectBackendError([item(1)]);
    expectBackendError([header('e', 1, false), header('f', 1, false), item(1)]);
  });
});
