import { AbstractSessionStore } from './abstract-store.js';
import type { EncodedItem } from './codec.js';
import type { AddItemsOptions, HistoryVersion, SessionInfo, SessionItem, StoreCapabilities } from './types.js';
import {
  assertPositiveInteger,
  checkExpectedLength,
  conflicts,
  OPERATION_LOG_RETENTION,
  suffixMatches,
  type PreparedTransaction,
} from './validation.js';
import { normalizeTtl } from './ttl.js';
import { appendedSince, newEpoch, type EncodedChanges } from './history-version.js';

export interface MemoryStoreOptions {
  /** Milliseconds after the last write at which a session expires. Default: never. */
  readonly ttl?: number;
  /**
   * Operation ids remembered per session for transaction idempotency; a
   * positive integer (INVALID_ARGUMENT otherwise). Default: 1000.
   */
  readonly operationLogSize?: number;
}

interface Entry {
  // Items are kept encoded: reads return fresh copies and callers can't mutate stored history.
  items: EncodedItem[];
  createdAt: number;
  updatedAt: number;
  operations: Map<string, string>;
  /** Renewed by every write that is not an append (readChanges). */
  epoch: string;
}

/**
 * The reference store: the contract with nothing else in the way. Not
 * persistent; one process. Appends cost O(batch), tail reads O(limit).
 */
export class MemoryStore<TItem = SessionItem> extends AbstractSessionStore<TItem> {
  readonly capabilities: StoreCapabilities;
  readonly #sessions = new Map<string, Entry>();
  readonly #ttl: number | undefined;
  readonly #operationLogSize: number;

  constructor(options: MemoryStoreOptions = {}) {
    super();
    this.#ttl = normalizeTtl(options.ttl);
    // The same check every adapter runs: 0 or a non-number would silently break idempotency.
    const logSize = options.operationLogSize === undefined ? OPERATION_LOG_RETENTION : options.operationLogSize;
    assertPositiveInteger(logSize, 'operationLogSize');
    this.#operationLogSize = logSize;
    this.capabilities = Object.freeze({
      transactions: true,
      listSessions: true,
      sessionInfo: true,
      prune: true,
      ttl: true,
      persistent: false,
      atomicReadModifyWrite: true,
      transactionPreconditions: true,
      replaceHistory: true,
      historyMutations: true,
      conditionalAppend: true,
      readChanges: true,
    });
  }

  #live(sessionId: string): Entry | undefined {
    const entry = this.#sessions.get(sessionId);
    if (entry && this.#ttl !== undefined && entry.updatedAt + this.#ttl <= Date.now()) {
      this.#sessions.delete(sessionId);
      return undefined;
    }
    return entry;
  }

  #touch(sessionId: string): Entry {
    const now = Date.now();
    let entry = this.#live(sessionId);
    if (!entry || entry.items.length === 0) {
      const operations = entry?.operations ?? new Map();
      entry = { items: [], createdAt: now, updatedAt: now, operations, epoch: newEpoch() };
      this.#sessions.set(sessionId, entry);
    }
    entry.updatedAt = now;
    return entry;
  }

  protected async _getItems(sessionId: string, limit: number | undefined): Promise<EncodedItem[]> {
    const items = this.#live(sessionId)?.items ?? [];
    return limit === undefined ? items.slice() : items.slice(Math.max(0, items.length - limit));
  }

  protected async _addItems(sessionId: string, items: EncodedItem[], options?: AddItemsOptions): Promise<void> {
    checkExpectedLength(options ?? {}, this.#live(sessionId)?.items.length ?? 0);
    const target = this.#touch(sessionId).items;
    for (const item of items) target.push(item);
  }

  protected async _popItem<R>(sessionId: string, decode: (encoded: EncodedItem) => R): Promise<R | undefined> {
    const entry = this.#live(sessionId);
    if (!entry || entry.items.length === 0) return undefined;
    const value = decode(entry.items[entry.items.length - 1]!);
    entry.items.pop();
    entry.updatedAt = Date.now();
    entry.epoch = newEpoch();
    return value;
  }

  protected async _clearSession(sessionId: string): Promise<void> {
    this.#sessions.delete(sessionId);
  }

  protected override async _applyHistoryTransaction(sessionId: string, tx: PreparedTransaction): Promise<void> {
    const existing = this.#live(sessionId);
    const previous = existing?.operations.get(tx.operationId);
    if (previous !== undefined) {
      if (previous !== tx.fingerprint) throw conflicts.operationReused();
      return;
    }
    const items = existing?.items ?? [];
    checkExpectedLength(tx, items.length);
    const start = items.length - tx.expectedSuffix.length;
    if (start < 0 || !suffixMatches(items.slice(start), tx.expectedSuffix)) throw conflicts.suffixMismatch();
    const entry = this.#touch(sessionId);
    if (tx.expectedSuffix.length > 0) entry.epoch = newEpoch();
    entry.items.splice(start, entry.items.length - start, ...tx.replacement);
    entry.operations.set(tx.operationId, tx.fingerprint);
    if (entry.operations.size > this.#operationLogSize) {
      entry.operations.delete(entry.operations.keys().next().value!);
    }
  }

  protected override async _replaceHistory(sessionId: string, items: EncodedItem[]): Promise<void> {
    const entry = this.#touch(sessionId);
    entry.items = items.slice();
    entry.epoch = newEpoch();
  }

  protected override async _readChanges(sessionId: string, since: HistoryVersion | undefined): Promise<EncodedChanges> {
    const entry = this.#live(sessionId);
    const epoch = entry?.epoch ?? '';
    const items = entry?.items ?? [];
    const version = { epoch, length: items.length };
    if (appendedSince(since, epoch, items.length)) return { version, whole: false, items: items.slice(since.length) };
    return { version, whole: true, items: items.slice() };
  }

  #info(sessionId: string, entry: Entry): SessionInfo {
    return {
      sessionId,
      itemCount: entry.items.length,
      createdAt: new Date(entry.createdAt),
      updatedAt: new Date(entry.updatedAt),
      ...(this.#ttl !== undefined ? { expiresAt: new Date(entry.updatedAt + this.#ttl) } : {}),
    };
  }

  protected override async *_listSessions(): AsyncIterable<SessionInfo> {
    // Snapshot the ids so writes during iteration neither skip nor repeat a session.
    for (const sessionId of [...this.#sessions.keys()]) {
      const entry = this.#live(sessionId);
      if (entry && entry.items.length > 0) yield this.#info(sessionId, entry);
    }
  }

  protected override async _getSessionInfo(sessionId: string): Promise<SessionInfo | undefined> {
    const entry = this.#live(sessionId);
    return entry && entry.items.length > 0 ? this.#info(sessionId, entry) : undefined;
  }

  protected override async _prune(olderThanMs: number): Promise<number> {
    // Removes sessions written before the cutoff and sweeps every expired one;
    // counts only those a reader could still see (live and non-empty).
    const now = Date.now();
    let count = 0;
    for (const [sessionId, entry] of this.#sessions) {
      const expired = this.#ttl !== undefined && entry.updatedAt + this.#ttl <= now;
      if (expired || entry.updatedAt < olderThanMs) {
        this.#sessions.delete(sessionId);
        if (!expired && entry.items.length > 0) count++;
      }
    }
    return count;
  }

  protected async _close(): Promise<void> {
    this.#sessions.clear();
  }
}
