import { randomUUID } from 'node:crypto';
import { hasReplaceHistory, hasTransactions } from '../../capabilities.js';
import { canonicalize, encodeItem } from '../../codec.js';
import { retryOnConflict } from '../../retry.js';
import type { CallOptions, SessionStore } from '../../types.js';

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
