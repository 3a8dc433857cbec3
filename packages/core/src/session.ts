import type { HistoryMutationArgs, HistoryTransactionArgs, Session, SessionItem, SessionSettings, SessionStore } from './types.js';
import { hasHistoryMutations, hasReplaceHistory, hasTransactions } from './capabilities.js';
import { assertSessionId, normalizeLimit } from './validation.js';

/** The Agents SDK passes its RunContext as the last argument to sessions that accept it. */
function ctx(runContext: unknown) {
  return runContext === undefined ? undefined : { runContext };
}

class BoundSession<TItem> implements Session<TItem> {
  readonly acceptsRunContext = true as const;
  readonly #store: SessionStore<TItem>;
  readonly #sessionId: string;
  readonly #defaultLimit: number | undefined;
  declare applyHistoryTransaction?: Session<TItem>['applyHistoryTransaction'];
  declare replaceHistoryWithCompaction?: Session<TItem>['replaceHistoryWithCompaction'];
  declare applyHistoryMutations?: Session<TItem>['applyHistoryMutations'];

  constructor(store: SessionStore<TItem>, sessionId: string, defaultLimit: number | undefined) {
    this.#store = store;
    this.#sessionId = sessionId;
    this.#defaultLimit = defaultLimit;
    // Optional methods exist only when the store declares them, so the Agents
    // SDK's feature detection (`typeof session.x === 'function'`) sees the truth.
    if (hasTransactions(store)) {
      this.applyHistoryTransaction = (args: HistoryTransactionArgs<TItem>, runContext?: unknown) =>
        store.applyHistoryTransaction(sessionId, args, ctx(runContext));
    }
    if (hasReplaceHistory(store)) {
      this.replaceHistoryWithCompaction = (items: TItem[], runContext?: unknown) =>
        store.replaceHistory(sessionId, items, ctx(runContext));
    }
    if (hasHistoryMutations(store)) {
      this.applyHistoryMutations = (args: HistoryMutationArgs<TItem>, runContext?: unknown) =>
        store.applyHistoryMutations(sessionId, args, ctx(runContext));
    }
  }

  async getSessionId(): Promise<string> {
    return this.#sessionId;
  }

  getItems(limit?: number, runContext?: unknown): Promise<TItem[]> {
    return this.#store.getItems(this.#sessionId, { limit: limit ?? this.#defaultLimit, ...ctx(runContext) });
  }

  addItems(items: TItem[], runContext?: unknown): Promise<void> {
    return this.#store.addItems(this.#sessionId, items, ctx(runContext));
  }

  popItem(runContext?: unknown): Promise<TItem | undefined> {
    return this.#store.popItem(this.#sessionId, ctx(runContext));
  }

  clearSession(runContext?: unknown): Promise<void> {
    return this.#store.clearSession(this.#sessionId, ctx(runContext));
  }
}

/**
 * Binds any `SessionStore` (built-in, decorated or third-party) to one id.
 * The result has `applyHistoryTransaction`, `replaceHistoryWithCompaction`
 * and `applyHistoryMutations` exactly when the store declares
 * `transactions`, `replaceHistory` and `historyMutations`.
 */
export function bindSession<TItem = SessionItem>(
  store: SessionStore<TItem>,
  sessionId: string,
  settings: SessionSettings = {},
): Session<TItem> {
  assertSessionId(sessionId);
  const limit = normalizeLimit(settings.limit);
  return new BoundSession(store, sessionId, limit);
}

type WithMethod<K extends keyof Session> = Session<any> & Required<Pick<Session<any>, K>>;

/** True when a bound session offers `applyHistoryTransaction`. */
export function isTransactionalSession<S extends Session<any>>(session: S): session is S & WithMethod<'applyHistoryTransaction'> {
  return typeof session.applyHistoryTransaction === 'function';
}
