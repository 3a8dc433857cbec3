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
  // Per session: operation id -> secondaries that failed that transaction with an outage, no replica
  // acknowledging it. It may have landed there, so the secondary's log may name it even after a copy
  // has replaced its items: its answer to that id (a no-op) is not to be trusted.
  readonly #uncertain = new Map<string, Map<string, Set<number>>>();

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
    this.#uncertain.delete(sessionId);
  }

  /** Secondary `index` failed transaction `operationId` with an outage and no replica acknowledged it: it may hold the id. */
  addUncertain(sessionId: string, operationId: string, index: number): void {
    let ops = this.#uncertain.get(sessionId);
    if (!ops) this.#uncertain.set(sessionId, (ops = new Map()));
    let indexes = ops.get(operationId);
    if (!indexes) ops.set(operationId, (indexes = new Set()));
    indexes.add(index);
    if (ops.size > OPERATION_LOG_RETENTION) ops.delete(ops.keys().next().value!);
  }

  /** Whether secondary `index` may hold `operationId` from an attempt no replica acknowledged. */
  isUncertain(sessionId: string, operationId: string, index: number): boolean {
    return this.#uncertain.get(sessionId)?.get(operationId)?.has(index) ?? false;
  }

  /** The transaction was acknowledged (the record then answers its repeats): nothing about it is uncertain any more. */
  settle(sessionId: string, operationId: string): void {
    const ops = this.#uncertain.get(sessionId);
    if (!ops?.delete(operationId)) return;
    if (ops.size === 0) this.#uncertain.delete(sessionId);
  }
}
