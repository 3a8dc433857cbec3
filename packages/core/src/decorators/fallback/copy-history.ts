import { randomUUID } from 'node:crypto';
import { hasReplaceHistory, hasTransactions } from '../../capabilities.js';
import { canonicalize, encodeItem } from '../../codec.js';
import { SessionErrorCode, isSessionError } from '../../errors.js';
import { retryOnConflict } from '../../retry.js';
import type { CallOptions, HistoryTransactionArgs, SessionStore } from '../../types.js';
import type { Missed } from './replica-state.js';

/** Whether two items (or two absences) are the same JSON value. */
export function same(a: unknown, b: unknown): boolean {
  if (a === undefined || b === undefined) return a === b;
  return canonicalize(encodeItem(a)) === canonicalize(encodeItem(b));
}

function sameHistory(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((item, i) => same(item, b[i]));
}

/**
 * Whether `store` can replace a whole history in one atomic step: with its
 * own `replaceHistory`, or with a `replace_suffix` over everything it holds.
 */
export function canReplaceAtomically(store: SessionStore<unknown>): boolean {
  return hasReplaceHistory(store) || hasTransactions(store);
}

/**
 * Replaces one session's whole history in `target` with `items`: its own
 * `replaceHistory` when it has one; else one `replace_suffix` over what it
 * holds (retried on conflict under core's one budget); else clear + add,
 * which is not atomic.
 */
export async function replaceHistoryOf<TItem>(
  target: SessionStore<TItem>,
  sessionId: string,
  items: readonly TItem[],
  options?: CallOptions,
): Promise<void> {
  if (hasReplaceHistory(target)) return target.replaceHistory(sessionId, items, options);
  if (!hasTransactions(target)) {
    await target.clearSession(sessionId, options);
    if (items.length > 0) await target.addItems(sessionId, items, options);
    return;
  }
  await retryOnConflict(
    async () => {
      const current = await target.getItems(sessionId, options);
      await target.applyHistoryTransaction(
        sessionId,
        {
          operationId: `sessionkit-fallback-replace:${randomUUID()}`,
          transaction: { type: 'replace_suffix', expectedSuffix: current, replacement: items },
        },
        options,
      );
    },
    { operation: 'fallback replaceHistory' },
  );
}

/** Makes `target`'s history of one session equal `source`'s; writes nothing when they already agree. */
export async function copyHistory<TItem>(source: SessionStore<TItem>, target: SessionStore<TItem>, sessionId: string): Promise<void> {
  const items = await source.getItems(sessionId);
  const current = await target.getItems(sessionId);
  if (sameHistory(current, items)) return;
  if (items.length === 0) return target.clearSession(sessionId);
  await replaceHistoryOf(target, sessionId, items);
}

/**
 * Catches `target` up on one session from `source`: first the writes it
 * missed that a copy cannot carry, in order — each transaction applied to it
 * under its own operation id (a repeat of it there stays a no-op, as on
 * `source`), each clear run (it empties the operation log, as it did on
 * `source`) — then the history copied whole, so the result is exact whatever
 * the intermediate steps left. `report` receives a transaction that could not
 * be logged (its id already names another change in `target`).
 */
export async function catchUp<TItem>(
  source: SessionStore<TItem>,
  target: SessionStore<TItem>,
  sessionId: string,
  missed: readonly Missed[],
  report: (error: unknown) => void,
): Promise<void> {
  let truth: TItem[] | undefined;
  for (const entry of missed) {
    if ('clear' in entry) {
      await target.clearSession(sessionId);
      continue;
    }
    const args = entry.transaction as HistoryTransactionArgs<TItem>;
    try {
      await retryOnConflict(
        async () => {
          const current = await target.getItems(sessionId);
          const pre = preState(current, args, () => truth);
          if (pre === 'fits') return target.applyHistoryTransaction!(sessionId, args);
          truth ??= await source.getItems(sessionId);
          await replaceHistoryOf(target, sessionId, preState(current, args, () => truth) as TItem[]);
          await target.applyHistoryTransaction!(sessionId, args);
        },
        { operation: 'fallback catch-up' },
      );
    } catch (error) {
      // The id is taken in target by another change (or the session keeps moving): it cannot be logged; the copy still runs.
      if (!isSessionError(error, SessionErrorCode.Conflict)) throw error;
      report(error);
    }
  }
  await copyHistory(source, target, sessionId);
}

/**
 * 'fits' when `current` meets the transaction's preconditions; else a
 * history that does: its expected suffix, after the first items of the
 * history being copied (the transaction's real prefix when the history only
 * grew) up to its `expectedLength`, `null`s where that history is shorter.
 * The copy that follows overwrites it.
 */
function preState<TItem>(current: readonly TItem[], args: HistoryTransactionArgs<TItem>, truth: () => TItem[] | undefined): 'fits' | TItem[] {
  const tx = args.transaction;
  const expected = tx.type === 'replace_suffix' ? tx.expectedSuffix : [];
  const n = args.expectedLength;
  const suffixOk = expected.length <= current.length && sameHistory(current.slice(current.length - expected.length), expected);
  if (suffixOk && (n === undefined || current.length === n)) return 'fits';
  if (n === undefined) return [...expected];
  const prefix = (truth() ?? []).slice(0, Math.max(0, n - expected.length));
  while (prefix.length < n - expected.length) prefix.push(null as TItem);
  return [...prefix, ...expected];
}
