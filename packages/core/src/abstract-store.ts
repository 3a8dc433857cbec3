import { decodeItem, decodeItems, encodeItems, type EncodedItem } from './codec.js';
import { SessionError, SessionErrorCode } from './errors.js';
import { mutateThroughTransactions, validateMutations } from './history-mutations.js';
import { normalizeSince, type EncodedChanges } from './history-version.js';
import { bindSession } from './session.js';
import type {
  AddItemsOptions,
  BindableStore,
  CallOptions,
  GetItemsOptions,
  HistoryChanges,
  HistoryMutationArgs,
  HistoryTransactionArgs,
  HistoryVersion,
  ListSessionsOptions,
  PruneOptions,
  Session,
  SessionInfo,
  SessionItem,
  SessionSettings,
  SessionStore,
  StoreCapabilities,
} from './types.js';
import {
  assertAppendOptions,
  assertPositiveInteger,
  assertSessionId,
  normalizeLimit,
  normalizePruneOptions,
  prepareTransaction,
  type PreparedTransaction,
} from './validation.js';

/**
 * Reads a store's items as stored, without decoding them: what
 * {@link AbstractSessionStore.getItems} reads before it parses. Core's own
 * layers use it (withEncryption recognises envelopes it already opened by
 * their exact stored text, before parsing any); not part of the contract.
 */
export const readEncoded: unique symbol = Symbol('sessionkit.readEncoded');

/**
 * Appends items already validated and encoded by the codec (each
 * `encodeItem`'s output), without encoding them again. Core's own layers
 * pass a batch down this way: withCache encodes once and hands the text to
 * withMonitoring, withEncryption seals that text and hands its envelopes'
 * text to the store. Not part of the contract: a layer without it gets the
 * decoded items through `addItems` (see {@link appendEncodedTo}).
 */
export const appendEncoded: unique symbol = Symbol('sessionkit.appendEncoded');

/** A layer that takes encoded batches ({@link appendEncoded}). */
export interface EncodedAppender {
  [appendEncoded](sessionId: string, encoded: EncodedItem[], options?: AddItemsOptions): Promise<void>;
}

/** Appends an encoded batch to `store`: as it is when the store takes encoded batches, else decoded through `addItems`. */
export function appendEncodedTo(store: SessionStore<any>, sessionId: string, encoded: EncodedItem[], options?: AddItemsOptions): Promise<void> {
  const appender = store as Partial<EncodedAppender>;
  return appender[appendEncoded] !== undefined
    ? appender[appendEncoded](sessionId, encoded, options)
    : store.addItems(sessionId, decodeItems(encoded), options);
}

/** A store with {@link readEncoded}: every store built on AbstractSessionStore. */
export interface EncodedReader {
  [readEncoded](sessionId: string, options?: GetItemsOptions): Promise<EncodedItem[]>;
}

/** Default page size for `listSessions` in built-in stores. */
export const DEFAULT_LIST_PAGE_SIZE = 100;

/**
 * The base every built-in adapter extends (after abstract-level): public
 * methods validate arguments, encode items, check `close()`, and map errors;
 * subclasses implement the `_`-prefixed methods on encoded items only.
 * Validation therefore happens once, the same way, before any backend call.
 */
export abstract class AbstractSessionStore<TItem = SessionItem> implements BindableStore<TItem> {
  abstract readonly capabilities: StoreCapabilities;
  #closed = false;
  #closing: Promise<void> | undefined;
  /**
   * Calls started and not yet settled (each counted whole, however many
   * backend requests it makes): close() lets them finish before `_close`
   * releases what they use. A count, not a Set of promises: per call it
   * costs nothing the garbage collector sees.
   */
  #inFlight = 0;
  /** Wakes close() when #inFlight drops to 0. */
  #drained: (() => void) | undefined;

  /** Newest `limit` items (all when undefined; never called with 0), oldest first. */
  protected abstract _getItems(sessionId: string, limit: number | undefined, options?: CallOptions): Promise<EncodedItem[]>;
  /**
   * Appends a non-empty, validated batch atomically. A store declaring
   * `conditionalAppend` checks `options.expectedLength` (already validated)
   * in the same atomic step: `checkExpectedLength(options, itemCount)`.
   */
  protected abstract _addItems(sessionId: string, items: EncodedItem[], options?: AddItemsOptions): Promise<void>;
  /**
   * Removes and returns the newest item, atomically. Must call `decode` on it
   * before removing it, and leave it in place if `decode` throws: corrupt data
   * is reported, never deleted by a pop.
   */
  protected abstract _popItem<R>(
    sessionId: string,
    decode: (encoded: EncodedItem) => R,
    options?: CallOptions,
  ): Promise<R | undefined>;
  protected abstract _clearSession(sessionId: string, options?: CallOptions): Promise<void>;
  protected abstract _close(): Promise<void>;

  /** Atomic, idempotent by operation id; record the operation with the change. */
  protected _applyHistoryTransaction?(sessionId: string, tx: PreparedTransaction, options?: CallOptions): Promise<void>;
  /**
   * Replaces the whole history with `items` (possibly empty) in one atomic
   * step; keeps `createdAt` (unless the session was empty) and the operation log.
   */
  protected _replaceHistory?(sessionId: string, items: EncodedItem[], options?: CallOptions): Promise<void>;
  protected _listSessions?(pageSize: number): AsyncIterable<SessionInfo>;
  protected _getSessionInfo?(sessionId: string, options?: CallOptions): Promise<SessionInfo | undefined>;
  /**
   * One atomic read of the session's epoch, length and either the items
   * appended since `since` (already checked; use `appendedSince`) or the
   * whole history. A store declaring `readChanges` gives every created
   * session, and every write that is not an append, a `newEpoch()`.
   */
  protected _readChanges?(sessionId: string, since: HistoryVersion | undefined, options?: CallOptions): Promise<EncodedChanges>;
  /** Deletes sessions last written before `olderThanMs` (epoch ms); returns how many. */
  protected _prune?(olderThanMs: number): Promise<number>;

  /**
   * Turns a backend's own error into a SessionError. Override to recognise
   * connection failures (BACKEND_UNAVAILABLE); the default is BACKEND_ERROR.
   */
  protected mapError(error: unknown): SessionError {
    return new SessionError(SessionErrorCode.BackendError, 'backend operation failed', { cause: error });
  }

  /** True once `close()` has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  protected assertOpen(): void {
    if (this.#closed) throw new SessionError(SessionErrorCode.Closed, 'store is closed');
  }

  #toSessionError(error: unknown): SessionError {
    return SessionError.is(error) ? error : this.mapError(error);
  }

  /** Runs one call's backend work: counted in flight for close(), its errors mapped. Callers check `assertOpen` just before, synchronously. */
  async #run<R>(fn: () => Promise<R>): Promise<R> {
    this.#inFlight++;
    try {
      return await fn();
    } catch (error) {
      throw this.#toSessionError(error);
    } finally {
      if (--this.#inFlight === 0) this.#drained?.();
    }
  }

  async getItems(sessionId: string, options?: GetItemsOptions): Promise<TItem[]> {
    return decodeItems<TItem>(await this[readEncoded](sessionId, options));
  }

  /** `getItems` without the decoding: the same checks and errors, the stored strings as they are. */
  async [readEncoded](sessionId: string, options?: GetItemsOptions): Promise<EncodedItem[]> {
    this.assertOpen();
    assertSessionId(sessionId);
    const limit = normalizeLimit(options?.limit);
    if (limit === 0) return [];
    return this.#run(() => this._getItems(sessionId, limit, options));
  }

  async addItems(sessionId: string, items: readonly TItem[], options?: AddItemsOptions): Promise<void> {
    this.assertOpen();
    assertSessionId(sessionId);
    assertAppendOptions(options, this.capabilities);
    const encoded = encodeItems(items);
    if (encoded.length === 0) return;
    await this.#run(() => this._addItems(sessionId, encoded, options));
  }

  /** `addItems` of items the codec already encoded: the same checks and errors, no second encoding. */
  async [appendEncoded](sessionId: string, encoded: EncodedItem[], options?: AddItemsOptions): Promise<void> {
    this.assertOpen();
    assertSessionId(sessionId);
    assertAppendOptions(options, this.capabilities);
    if (encoded.length === 0) return;
    await this.#run(() => this._addItems(sessionId, encoded, options));
  }

  async popItem(sessionId: string, options?: CallOptions): Promise<TItem | undefined> {
    this.assertOpen();
    assertSessionId(sessionId);
    return this.#run(() => this._popItem(sessionId, (encoded) => decodeItem(encoded) as TItem, options));
  }

  async clearSession(sessionId: string, options?: CallOptions): Promise<void> {
    this.assertOpen();
    assertSessionId(sessionId);
    await this.#run(() => this._clearSession(sessionId, options));
  }

  async applyHistoryTransaction(
    sessionId: string,
    args: HistoryTransactionArgs<TItem>,
    options?: CallOptions,
  ): Promise<void> {
    this.assertOpen();
    const apply = this._applyHistoryTransaction;
    if (!this.capabilities.transactions || !apply) throw unsupported('applyHistoryTransaction');
    assertSessionId(sessionId);
    const tx = prepareTransaction(args);
    assertPreconditionsSupported(args, this.capabilities);
    await this.#run(() => apply.call(this, sessionId, tx, options));
  }

  async replaceHistory(sessionId: string, items: readonly TItem[], options?: CallOptions): Promise<void> {
    this.assertOpen();
    const replace = this._replaceHistory;
    if (!this.capabilities.replaceHistory || !replace) throw unsupported('replaceHistory');
    assertSessionId(sessionId);
    const encoded = encodeItems(items);
    await this.#run(() => replace.call(this, sessionId, encoded, options));
  }

  /**
   * Built on `getItems` and `applyHistoryTransaction` with `expectedLength`
   * (see history-mutations.ts), so a store declares `historyMutations` exactly
   * when it has transactions with preconditions.
   */
  async applyHistoryMutations(sessionId: string, args: HistoryMutationArgs<TItem>, options?: CallOptions): Promise<void> {
    this.assertOpen();
    if (!this.capabilities.historyMutations || !this.capabilities.transactionPreconditions) {
      throw unsupported('applyHistoryMutations');
    }
    assertSessionId(sessionId);
    validateMutations(args);
    await mutateThroughTransactions(this, sessionId, args, options);
  }

  listSessions(options?: ListSessionsOptions): AsyncIterable<SessionInfo> {
    this.assertOpen();
    const list = this._listSessions;
    if (!this.capabilities.listSessions || !list) throw unsupported('listSessions');
    // `?.`: null options (from JavaScript) mean none, as for every other call's options.
    const pageSize = options?.pageSize ?? DEFAULT_LIST_PAGE_SIZE;
    assertPositiveInteger(pageSize, 'pageSize');
    const iterable = list.call(this, pageSize);
    const store = this;
    return {
      async *[Symbol.asyncIterator]() {
        const iterator = iterable[Symbol.asyncIterator]();
        try {
          while (true) {
            store.assertOpen();
            let step: IteratorResult<SessionInfo>;
            // One page at a time, in flight like any call (between pages nothing is).
            step = await store.#run(() => iterator.next());
            if (step.done) return;
            yield step.value;
          }
        } finally {
          await iterator.return?.();
        }
      },
    };
  }

  async getSessionInfo(sessionId: string, options?: CallOptions): Promise<SessionInfo | undefined> {
    this.assertOpen();
    const info = this._getSessionInfo;
    if (!this.capabilities.sessionInfo || !info) throw unsupported('getSessionInfo');
    assertSessionId(sessionId);
    return this.#run(() => info.call(this, sessionId, options));
  }

  async readChanges(sessionId: string, since?: HistoryVersion, options?: CallOptions): Promise<HistoryChanges<TItem>> {
    this.assertOpen();
    const read = this._readChanges;
    if (!this.capabilities.readChanges || !read) throw unsupported('readChanges');
    assertSessionId(sessionId);
    const from = normalizeSince(since);
    const changes = await this.#run(() => read.call(this, sessionId, from, options));
    return { version: changes.version, whole: changes.whole, items: decodeItems<TItem>(changes.items) };
  }

  async prune(options: PruneOptions): Promise<number> {
    this.assertOpen();
    const prune = this._prune;
    if (!this.capabilities.prune || !prune) throw unsupported('prune');
    const cutoff = normalizePruneOptions(options);
    return this.#run(() => prune.call(this, cutoff));
  }

  /**
   * Idempotent; concurrent calls share one close. Calls started before it
   * run to their end first (a call waiting to retry may end with CLOSED
   * instead of trying again); then `_close` releases the backend. Calls
   * made after it fail with CLOSED at once.
   */
  close(): Promise<void> {
    if (!this.#closing) {
      this.#closed = true;
      this.#closing = this.#drain().then(async () => {
        try {
          await this._close();
        } catch (error) {
          throw this.#toSessionError(error);
        }
      });
    }
    return this.#closing;
  }

  async #drain(): Promise<void> {
    while (this.#inFlight > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
    this.#drained = undefined;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** A Session bound to one id, ready for `run(agent, input, { session })`. */
  session(sessionId: string, settings?: SessionSettings): Session<TItem> {
    return bindSession(this, sessionId, settings);
  }
}

export function unsupported(operation: string): SessionError {
  return new SessionError(SessionErrorCode.Unsupported, `this store does not support ${operation}`);
}

/** Refuses `expectedLength` / `identity` with UNSUPPORTED unless the manifest declares transactionPreconditions: never ignored. */
export function assertPreconditionsSupported(args: HistoryTransactionArgs<unknown>, capabilities: StoreCapabilities): void {
  if ((args.expectedLength !== undefined || args.identity !== undefined) && !capabilities.transactionPreconditions) {
    throw unsupported('applyHistoryTransaction with expectedLength or identity');
  }
}
