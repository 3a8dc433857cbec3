import { SessionError, SessionErrorCode, type SessionStore } from '@sessionkit/core';
import { hasReplaceHistory } from '@sessionkit/core/adapter';
import { sameHistory } from './sessions.js';

export type WriteOutcome = 'written' | 'unchanged' | 'replaced';

/**
 * Makes `sessionId` on `target` hold exactly `items`, idempotently, so a
 * repeated import or a copy restarted after a kill neither duplicates nor
 * skips:
 *
 * - the target already holds the same items → nothing is written;
 * - the target session is empty → one `addItems` batch, which the contract
 *   makes atomic (it lands whole or not at all, even under SIGKILL);
 * - the target holds something else → CONFLICT, unless `overwrite`, which
 *   uses `replaceHistory` where the store has it (atomic) and otherwise
 *   clears and appends.
 */
export async function writeHistory(
  target: SessionStore,
  sessionId: string,
  items: readonly unknown[],
  overwrite = false,
): Promise<WriteOutcome> {
  const existing = await target.getItems(sessionId);
  if (sameHistory(existing, items)) return 'unchanged';
  if (existing.length === 0) {
    if (items.length > 0) await target.addItems(sessionId, items);
    return 'written';
  }
  if (!overwrite) {
    throw new SessionError(
      SessionErrorCode.Conflict,
      `the target already holds a different history for a session (${existing.length} items); pass --overwrite to replace it`,
    );
  }
  if (hasReplaceHistory(target)) await target.replaceHistory(sessionId, items);
  else {
    await target.clearSession(sessionId);
    if (items.length > 0) await target.addItems(sessionId, items);
  }
  return 'replaced';
}
