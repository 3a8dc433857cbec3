import { OPERATION_LOG_RETENTION, conflicts } from '../../validation.js';

/** A transaction as a store's operation log knows it: its id and its fingerprint. */
export interface OperationRef {
  readonly operationId: string;
  readonly fingerprint: string;
}

/**
 * The operation ids of transactions some replica missed (served while the
 * primary was degraded, or skipped or failed by a stale secondary), per
 * session: operation id → fingerprint, never item contents. A copy gives
 * that replica the items but not the id, so a repeat is answered from here,
 * as a store's log would answer it, instead of being applied there again.
 * Memory only; bounded per session like a store's log (oldest dropped).
 */
export class MissedOperations {
  readonly #sessions = new Map<string, Map<string, string>>();

  /**
   * True when `op` repeats a recorded transaction (a no-op); throws the
   * stores' CONFLICT when its id was recorded with another transaction;
   * false when the id is not recorded.
   */
  isRepeat(sessionId: string, op: OperationRef): boolean {
    const recorded = this.#sessions.get(sessionId)?.get(op.operationId);
    if (recorded === undefined) return false;
    if (recorded !== op.fingerprint) throw conflicts.operationReused();
    return true;
  }

  /** Records that a replica missed `op` on `sessionId`. */
  add(sessionId: string, op: OperationRef): void {
    let ops = this.#sessions.get(sessionId);
    if (!ops) this.#sessions.set(sessionId, (ops = new Map()));
    ops.set(op.operationId, op.fingerprint);
    if (ops.size > OPERATION_LOG_RETENTION) ops.delete(ops.keys().next().value!);
  }

  /** The session was cleared (or removed): its operation log is empty on every replica that applied it. */
  drop(sessionId: string): void {
    this.#sessions.delete(sessionId);
  }
}
