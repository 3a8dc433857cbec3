import type {
  HistoryTransactionArgs,
  Session,
  SessionItem,
  SessionSettings,
  SessionStore,
  TransactionalSession,
} from './types.js';
import { hasTransactions } from './capabilities.js';
import { assertSessionId, normalizeLimit } from './validation.js';

/** The Agents SDK passes its RunContext as the last argument to sessions that accept it. */
function ctx(runContext: unknown) {
  return runContext === undefined ? undefined : { runContext };
}

class BoundSession<TItem> implements Session<TItem> {
  readonly acceptsRunContext = true as const;
  protected readonly store: SessionStore<TItem>;
  protected readonly sessionId: string;
  readonly #defaultLimit: number | undefined;

  constructor(store: SessionStore<TItem>, sessionId: string, defaultLimit: number | undefined) {
    this.store = store;
    this.sessionId = sessionId;
    this.#defaultLimit = defaultLimit;
  }

  async getSessionId(): Promise<string> {
    return this.sessionId;
  }

  getItems(limit?: number, runContext?: unknown): Promise<TItem[]> {
    return this.store.getItems(this.sessionId, { limit: limit ?? this.#defaultLimit, ...ctx(runContext) });
  }

  addItems(items: TItem[], runContext?: unknown): Promise<void> {
    return this.store.addItems(this.sessionId, items, ctx(runContext));
  }

  popItem(runContext?: unknown): Promise<TItem | undefined> {
    return this.store.popItem(this.sessionId, ctx(runContext));
  }

  clearSession(runContext?: unknown): Promise<void> {
    return this.store.clearSession(this.sessionId, ctx(runContext));
  }
}

class TransactionalBoundSession<TItem> extends BoundSession<TItem> implements TransactionalSession<TItem> {
  applyHistoryTransaction(args: HistoryTransactionArgs<TItem>, runContext?: unknown): Promise<void> {
    return this.store.applyHistoryTransaction!(this.sessionId, args, ctx(runContext));
  }
}

/**
 * Binds any `SessionStore` (built-in, decorated or third-party) to one id.
 * The result has `applyHistoryTransaction` exactly when the store declares
 * the `transactions` capability, so the Agents SDK's feature detection sees
 * the truth.
 */
export function bindSession<TItem = SessionItem>(
  store: SessionStore<TItem>,
  sessionId: string,
  settings: SessionSettings = {},
): Session<TItem> | TransactionalSession<TItem> {
  assertSessionId(sessionId);
  const limit = normalizeLimit(settings.limit);
  return hasTransactions(store)
    ? new TransactionalBoundSession(store, sessionId, limit)
    : new BoundSession(store, sessionId, limit);
}

/** True when a bound session offers `applyHistoryTransaction`. */
export function isTransactionalSession<TItem>(session: Session<TItem>): session is TransactionalSession<TItem> {
  return typeof (session as Partial<TransactionalSession<TItem>>).applyHistoryTransaction === 'function';
}
