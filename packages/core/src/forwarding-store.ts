import {
  hasListSessions,
  hasPrune,
  hasReadChanges,
  hasReplaceHistory,
  hasSessionInfo,
  hasTransactions,
} from './capabilities.js';
import { SessionError, SessionErrorCode } from './errors.js';
import { mutateThroughTransactions } from './history-mutations.js';
import { bindSession } from './session.js';
import { appendEncoded, appendEncodedTo, unsupported } from './abstract-store.js';
import { decodeItems, encodeItems, type EncodedItem } from './codec.js';
import type { StoreOperation } from './operations.js';
import { assertAppendOptions, assertSessionId, prepareTransaction, type PreparedTransaction } from './validation.js';
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

/**
 * The base of every decorator: forwards each call to the wrapped store.
 * Subclasses override what they change and pass `drop` for capabilities they
 * cannot honour, so the manifest never claims more than the stack delivers.
 * Closing the decorator closes the wrapped store (a composed stack is closed once, from the top).
 *
 * Three things save a decorator from restating the contract:
 * - {@link around}: every forwarded operation passes through it once, so a
 *   decorator that observes, times or disturbs calls overrides one method,
 *   not ten.
 * - {@link closed} and {@link require}: the open and capability checks.
 * - The validate-then-delegate template ({@link validateCall}, {@link validateItems},
 *   {@link validateTransaction}): a decorator that transforms items validates the
 *   caller's arguments once, in the stores' own words, and works on what was validated.
 */
export class ForwardingStore<TItem = SessionItem, TInner = TItem> implements BindableStore<TItem> {
  readonly capabilities: StoreCapabilities;
  protected readonly inner: SessionStore<TInner>;
  #closed = false;
  #closing: Promise<void> | undefined;
  /** Calls of this layer started and not yet settled: close() lets them finish before closing the store beneath. */
  #inFlight = 0;
  /** Wakes close() when #inFlight drops to 0. */
  #drained: (() => void) | undefined;
  /** A subclass changes appends: a batch core encoded is handed to its `addItems` as items. */
  readonly #ownAddItems: boolean;

  constructor(inner: SessionStore<NoInfer<TInner>>, drop: readonly (keyof StoreCapabilities)[] = []) {
    this.inner = inner;
    const capabilities: Record<string, boolean> = { ...inner.capabilities };
    for (const key of drop) capabilities[key] = false;
    // Re-derive from the inner store's methods so a false manifest can't leak through.
    capabilities.transactions &&= hasTransactions(inner);
    capabilities.transactionPreconditions &&= capabilities.transactions === true;
    capabilities.replaceHistory &&= hasReplaceHistory(inner);
    // Mutations run through this store's own read and transaction (history-mutations.ts), so every
    // decorator gets them right whatever it does to items; they need transactions with preconditions.
    capabilities.historyMutations = !drop.includes('historyMutations') && capabilities.transactions === true && capabilities.transactionPreconditions === true;
    capabilities.listSessions &&= hasListSessions(inner);
    capabilities.sessionInfo &&= hasSessionInfo(inner);
    capabilities.prune &&= hasPrune(inner);
    // Changes are the inner store's items: forwarded only by a layer that reads items as they are, or that
    // answers readChanges itself (a layer that transforms reads must not hand out the inner store's items).
    if (capabilities.readChanges) {
      capabilities.readChanges =
        !drop.includes('readChanges') &&
        hasReadChanges(inner) &&
        (this.getItems === ForwardingStore.prototype.getItems || this.readChanges !== ForwardingStore.prototype.readChanges);
    }
    this.capabilities = Object.freeze(capabilities as unknown as StoreCapabilities);
    this.#ownAddItems = this.addItems !== ForwardingStore.prototype.addItems;
    // Every operation of every layer, the subclass's own overrides included, is counted for close()
    // here, once, instead of in each decorator: a call still in a decorator's own step (sealing,
    // a per-session queue, a journal write) when close() is called finishes instead of meeting a
    // closed store beneath.
    const self = this as unknown as Record<PropertyKey, unknown>;
    for (const name of COUNTED_OPERATIONS) {
      const method = self[name] as ((...args: unknown[]) => Promise<unknown>) | undefined;
      if (typeof method === 'function') self[name] = (...args: unknown[]) => this.#counted(method, args);
    }
  }

  // Made once per store: counting a call allocates no closures of its own.
  readonly #settledWith = (value: unknown): unknown => {
    this.#settled();
    return value;
  };
  readonly #settledThrowing = (error: unknown): never => {
    this.#settled();
    throw error;
  };

  #counted(method: (...args: unknown[]) => Promise<unknown>, args: unknown[]): Promise<unknown> {
    this.#inFlight++;
    let result: Promise<unknown>;
    try {
      result = method.apply(this, args);
    } catch (error) {
      this.#settled();
      throw error;
    }
    return result.then(this.#settledWith, this.#settledThrowing);
  }

  /**
   * Runs `work` counted as in flight: close() waits for it before closing the
   * store beneath. Every operation already runs so; a decorator passes its
   * own background work that uses the stores (a resync) through it too.
   */
  protected inFlight<R>(work: () => Promise<R>): Promise<R> {
    this.#inFlight++;
    let result: Promise<R>;
    try {
      result = work();
    } catch (error) {
      this.#settled();
      throw error;
    }
    return result.then(this.#settledWith, this.#settledThrowing) as Promise<R>;
  }

  #settled(): void {
    if (--this.#inFlight === 0) this.#drained?.();
  }

  /** True once `close()` was called; every operation then fails with CLOSED. */
  get closed(): boolean {
    return this.#closed;
  }

  protected assertOpen(): void {
    if (this.#closed) throw new SessionError(SessionErrorCode.Closed, 'store is closed');
  }

  protected require<K extends keyof StoreCapabilities>(capability: K, operation: string): void {
    this.assertOpen();
    if (!this.capabilities[capability]) throw unsupported(operation);
  }

  /**
   * The per-operation hook: every operation this class forwards runs as
   * `around(operation, sessionId, call)`, after the open and capability
   * checks and with the inner store's call as `call`. Override it to observe,
   * time, bound or disturb calls; the default just calls.
   *
   * `sessionId` is undefined for `listSessions` and `prune`. A listing is one
   * operation: `around` is entered at the first `next()`, and its `call`
   * settles when the listing ends (exhausted, stopped early, or failed),
   * resolving with the number of sessions listed. `applyHistoryMutations`
   * is one call through `around`, and the `getItems` and
   * `applyHistoryTransaction` it runs (this store's own, so a decorator's
   * item transform applies) pass through it as well.
   *
   * `written` is the number of items a write hands over (addItems,
   * replaceHistory, a transaction's items), when the arguments are well-formed.
   */
  protected around<R>(
    operation: StoreOperation,
    sessionId: string | undefined,
    call: () => Promise<R>,
    written?: number,
  ): Promise<R> {
    void operation;
    void sessionId;
    void written;
    return call();
  }

  /**
   * Validate-then-delegate, step one: the open check, the capability check
   * for optional operations, and the session id, as every store checks them.
   */
  protected validateCall(operation: StoreOperation, sessionId: unknown): asserts sessionId is string {
    const capability = OPTIONAL_CAPABILITY[operation];
    if (capability !== undefined) this.require(capability, operation);
    else this.assertOpen();
    assertSessionId(sessionId);
  }

  /** Validates a batch as every store would and returns each item's encoded form (encode once, reuse it). */
  protected validateItems(items: readonly TItem[]): EncodedItem[] {
    return encodeItems(items);
  }

  /** Validates a transaction's arguments and items as every store would; the result carries their encoded forms. */
  protected validateTransaction(args: HistoryTransactionArgs<TItem>): PreparedTransaction {
    return prepareTransaction(args as HistoryTransactionArgs);
  }

  async getItems(sessionId: string, options?: GetItemsOptions): Promise<TItem[]> {
    this.assertOpen();
    return this.around('getItems', sessionId, () => this.inner.getItems(sessionId, options) as Promise<unknown> as Promise<TItem[]>);
  }

  async addItems(sessionId: string, items: readonly TItem[], options?: AddItemsOptions): Promise<void> {
    this.assertOpen();
    assertAppendOptions(options, this.capabilities);
    return this.around('addItems', sessionId, () => this.inner.addItems(sessionId, items as unknown as TInner[], options), lengthOf(items));
  }

  /**
   * `addItems` of a batch core already validated and encoded (see
   * {@link appendEncoded}): forwarded as text through {@link around} when
   * this layer appends as it is, decoded and handed to its own `addItems`
   * when a subclass changes appends (it then sees items, as always).
   */
  async [appendEncoded](sessionId: string, encoded: EncodedItem[], options?: AddItemsOptions): Promise<void> {
    if (this.#ownAddItems) return this.addItems(sessionId, decodeItems<TItem>(encoded), options);
    this.assertOpen();
    assertAppendOptions(options, this.capabilities);
    return this.around('addItems', sessionId, () => appendEncodedTo(this.inner, sessionId, encoded, options), encoded.length);
  }

  async popItem(sessionId: string, options?: CallOptions): Promise<TItem | undefined> {
    this.assertOpen();
    return this.around('popItem', sessionId, () => this.inner.popItem(sessionId, options) as Promise<unknown> as Promise<TItem | undefined>);
  }

  async clearSession(sessionId: string, options?: CallOptions): Promise<void> {
    this.assertOpen();
    return this.around('clearSession', sessionId, () => this.inner.clearSession(sessionId, options));
  }

  async applyHistoryTransaction(sessionId: string, args: HistoryTransactionArgs<TItem>, options?: CallOptions): Promise<void> {
    this.require('transactions', 'applyHistoryTransaction');
    return this.around('applyHistoryTransaction', sessionId, () =>
      this.inner.applyHistoryTransaction!(sessionId, args as unknown as HistoryTransactionArgs<TInner>, options),
      writtenBy(args),
    );
  }

  async replaceHistory(sessionId: string, items: readonly TItem[], options?: CallOptions): Promise<void> {
    this.require('replaceHistory', 'replaceHistory');
    return this.around('replaceHistory', sessionId, () => this.inner.replaceHistory!(sessionId, items as unknown as TInner[], options), lengthOf(items));
  }

  /** Read, apply, and write the changed suffix back through this store's own `applyHistoryTransaction`. */
  async applyHistoryMutations(sessionId: string, args: HistoryMutationArgs<TItem>, options?: CallOptions): Promise<void> {
    this.require('historyMutations', 'applyHistoryMutations');
    return this.around('applyHistoryMutations', sessionId, () => mutateThroughTransactions<TItem>(this, sessionId, args, options));
  }

  listSessions(options?: ListSessionsOptions): AsyncIterable<SessionInfo> {
    this.require('listSessions', 'listSessions');
    // Asked now, so bad options fail at the call as they do on every store.
    const source = this.inner.listSessions!(options);
    return listThrough(source, (call) => this.around('listSessions', undefined, call));
  }

  async getSessionInfo(sessionId: string, options?: CallOptions): Promise<SessionInfo | undefined> {
    this.require('sessionInfo', 'getSessionInfo');
    return this.around('getSessionInfo', sessionId, () => this.inner.getSessionInfo!(sessionId, options));
  }

  async readChanges(sessionId: string, since?: HistoryVersion, options?: CallOptions): Promise<HistoryChanges<TItem>> {
    this.require('readChanges', 'readChanges');
    return this.around('readChanges', sessionId, () => this.inner.readChanges!(sessionId, since, options) as Promise<unknown> as Promise<HistoryChanges<TItem>>);
  }

  async prune(options: PruneOptions): Promise<number> {
    this.require('prune', 'prune');
    return this.around('prune', undefined, () => this.inner.prune!(options));
  }

  /**
   * Idempotent; concurrent calls share one close. Calls of this layer started
   * before it run to their end first, then the store beneath is closed.
   * Calls made after it fail with CLOSED at once.
   */
  close(): Promise<void> {
    if (!this.#closing) {
      this.#closed = true;
      this.#closing = this.#drain().then(() => this.inner.close());
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

  session(sessionId: string, settings?: SessionSettings): Session<TItem> {
    return bindSession<TItem>(this, sessionId, settings);
  }
}

/** What close() waits for: every operation that returns a promise (a listing is idle between pages). */
const COUNTED_OPERATIONS: readonly PropertyKey[] = [
  'getItems',
  'addItems',
  appendEncoded,
  'popItem',
  'clearSession',
  'applyHistoryTransaction',
  'replaceHistory',
  'applyHistoryMutations',
  'getSessionInfo',
  'readChanges',
  'prune',
];

/** The capability each optional operation needs. */
const OPTIONAL_CAPABILITY: Partial<Record<StoreOperation, keyof StoreCapabilities>> = {
  applyHistoryTransaction: 'transactions',
  replaceHistory: 'replaceHistory',
  applyHistoryMutations: 'historyMutations',
  listSessions: 'listSessions',
  getSessionInfo: 'sessionInfo',
  readChanges: 'readChanges',
  prune: 'prune',
};

/**
 * A listing that runs as one call through `wrap`: the call starts at the
 * first `next()`, hands each session to the consumer as it asks, and settles
 * with the count listed when the source ends, the consumer stops, or either fails.
 */
function listThrough(
  source: AsyncIterable<SessionInfo>,
  wrap: (call: () => Promise<number>) => Promise<number>,
): AsyncIterable<SessionInfo> {
  return {
    async *[Symbol.asyncIterator]() {
      // Hand-off between the wrapped call (producer) and this generator (consumer).
      const state: {
        current?: SessionInfo;
        ended: boolean;
        failure?: { error: unknown };
        wake?: () => void;
        resume?: (more: boolean) => void;
      } = { ended: false };
      const signal = () => {
        const wake = state.wake;
        state.wake = undefined;
        wake?.();
      };
      const call = async (): Promise<number> => {
        let listed = 0;
        for await (const info of source) {
          listed++;
          const more = new Promise<boolean>((resolve) => (state.resume = resolve));
          state.current = info;
          signal();
          if (!(await more)) break;
        }
        return listed;
      };
      const done = wrap(call).then(
        () => {
          state.ended = true;
          signal();
        },
        (error: unknown) => {
          state.failure = { error };
          state.ended = true;
          signal();
        },
      );
      let finished = false;
      try {
        for (;;) {
          if (state.current === undefined && !state.ended) await new Promise<void>((resolve) => (state.wake = resolve));
          const info = state.current;
          if (info === undefined) break;
          state.current = undefined;
          yield info;
          const resume = state.resume;
          state.resume = undefined;
          resume?.(true);
        }
        finished = true;
      } finally {
        if (!finished) {
          const resume = state.resume;
          state.resume = undefined;
          resume?.(false);
        }
        await done;
      }
      if (state.failure) throw state.failure.error;
    },
  };
}

function lengthOf(items: unknown): number | undefined {
  return Array.isArray(items) ? items.length : undefined;
}

/** How many items a transaction writes, when its arguments are well-formed. */
function writtenBy(args: HistoryTransactionArgs<unknown> | undefined): number | undefined {
  const tx = (args as { transaction?: { type?: unknown; items?: unknown; replacement?: unknown } } | undefined)?.transaction;
  return tx?.type === 'append_items' ? lengthOf(tx.items) : tx?.type === 'replace_suffix' ? lengthOf(tx.replacement) : undefined;
}
