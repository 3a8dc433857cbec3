import { SessionError, SessionErrorCode } from '@sessionkit/core';
import { appendedSince, type EncodedChanges, type HistoryVersion } from '@sessionkit/core/adapter';

/**
 * A row of the `changes` statement (statements.ts), read in array mode: the
 * session's header row (epoch, length, appended; item and seq null) or an
 * item row (item and seq; the rest null).
 */
export type ChangesRow = readonly [
  epoch: string | null,
  length: number | null,
  appended: boolean | null,
  item: string | null,
  seq: string | null,
];

/**
 * readChanges' answer from the `changes` statement's rows. SQL does not
 * promise a UNION's row order, so nothing here relies on it: the header is
 * the one row with an epoch (a stored epoch is never null), and the item rows
 * are put in seq order whatever order they came in (the index walk gives them
 * newest first). No header: no live session, the epoch ''.
 * Item rows that do not number what the header says fail with BACKEND_ERROR
 * rather than hand out a history with items missing.
 */
export function changesFromRows(rows: readonly ChangesRow[], since: HistoryVersion | undefined): EncodedChanges {
  let header: ChangesRow | undefined;
  const itemRows: ChangesRow[] = [];
  for (const row of rows) {
    if (row[0] === null) itemRows.push(row);
    else if (header === undefined) header = row;
    else throw mismatch('two session rows');
  }
  if (header === undefined) {
    if (itemRows.length > 0) throw mismatch(`${itemRows.length} item rows without a session row`);
    return { version: { epoch: '', length: 0 }, whole: !appendedSince(since, '', 0), items: [] };
  }
  const [, length, appended] = header;
  const epoch = header[0]!;
  const n = itemRows.length;
  if (length === null || n !== (appended ? length - since!.length : length)) {
    throw mismatch(`${n} item rows do not match the session row`);
  }
  // The plan gives them newest first: the sort finds that one run and reverses it in a pass.
  itemRows.sort((a, b) => Number(a[4]) - Number(b[4]));
  return { version: { epoch, length }, whole: !appended, items: itemRows.map((row) => row[3]!) };
}

function mismatch(what: string): SessionError {
  return new SessionError(SessionErrorCode.BackendError, `postgres readChanges: ${what}`);
}
