import {
  hasListSessions,
  hasPrune,
  hasReplaceHistory,
  hasSessionInfo,
  hasTransactions,
} from './capabilities.js';
import { SessionError, SessionErrorCode } from './errors.js';
import { mutateThroughTransactions } from './history-mutations.js';
import { bindSession } from './session.js';
import { unsupported } from './abstract-store.js';
import type {
  BindableStore,
  CallOptions,
  GetItemsOptions,
  HistoryMutationArgs,
  HistoryTransactionArgs,
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
 */
export class ForwardingStore<TItem = SessionItem, TInner = TItem> implements BindableStore<TItem> {
  readonly capabilities: StoreCapabilities;
  protected readonly inner: SessionStore<TInner>;
  #closed = false;

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
    this.capabilities = Object.freeze(capabilities as unknown as StoreCapabilities);
  }

  protected assertOpen(): void {
    if (this.#closed) throw new SessionError(SessionErrorCode.Closed, 'store is closed');
  }

  protected require<K extends keyof StoreCapabilities>(capability: K, operation: string): void {
    this.assertOpen();
    if (!this.capabilities[capability]) throw unsupported(operation);
  }

  async getItems(sessionId: string, options?: GetItemsOptions): Promise<TItem[]> {
    this.assertOpen();
    return this.inner.getItems(sessionId, options) as Promise<unknown> as Promise<TItem[]>;
  }

  async addItems(sessionId: string, items: readonly TItem[], options?: CallOptions): Promise<void> {
    this.assertOpen();
    return this.inner.addItems(sessionId, items as unknown as TInner[], options);
  }

  async popItem(sessionId: string, options?: CallOptions): Promise<TItem | undefined> {
    this.assertOpen();
    return this.inner.popItem(sessionId, options) as Promise<unknown> as Promise<TItem | undefined>;
  }

  async clearSession(sessionId: string, options?: CallOptions): Promise<void> {
    this.assertOpen();
    return this.inner.clearSession(sessionId, options);
  }

  async applyHistoryTransaction(sessionId: string, args: HistoryTransactionArgs<TItem>, options?: CallOptions): Promise<void> {
    this.require('transactions', 'applyHistoryTransaction');
    return this.inner.applyHistoryTransaction!(sessionId, args as unknown as HistoryTransactionArgs<TInner>, options);
  }

  async replaceHistory(sessionId: string, items: readonly TItem[], options?: CallOptions): Promise<void> {
    this.require('replaceHistory', 'replaceHistory');
    return this.inner.replaceHistory!(sessionId, items as unknown as TInner[], options);
  }

  /** Read, apply, and write the changed suffix back through this store's own `applyHistoryTransaction`. */
  async applyHistoryMutations(sessionId: string, args: HistoryMutationArgs<TItem>, options?: CallOptions): Promise<void> {
    this.require('historyMutations', 'applyHistoryMutations');
    return mutateThroughTransactions<TItem>(this, sessionId, args, options);
  }

  listSessions(options?: ListSessionsOptions): AsyncIterable<SessionInfo> {
    this.require('listSessions', 'listSessions');
    return this.inner.listSessions!(options);
  }

  async getSessionInfo(sessionId: string, options?: CallOptions): Promise<SessionInfo | undefined> {
    this.require('sessionInfo', 'getSessionInfo');
    return this.inner.getSessionInfo!(sessionId, options);
  }

  async prune(options: PruneOptions): Promise<number> {
    this.require('prune', 'prune');
    return this.inner.prune!(options);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.inner.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  session(sessionId: string, settings?: SessionSettings): Session<TItem> {
    return bindSession<TItem>(this, sessionId, settings);
  }
}
