// A minimal sessionkit adapter to copy: replace the Map with your backend.
// Every `_`-method receives validated arguments and encoded items (JSON text);
// docs/conformance.md ("Writing an adapter") lists what each must guarantee.
import { SessionError, SessionErrorCode, type SessionInfo, type StoreCapabilities } from '@sessionkit/core';
import { AbstractSessionStore, NO_CAPABILITIES, type EncodedItem } from '@sessionkit/core/adapter';

/** What the backend keeps per session: the items in order, and when it was first and last written. */
interface Row {
  items: EncodedItem[];
  createdAt: number;
  updatedAt: number;
}

export interface MyStoreOptions {
  /** Where the data lives. Default: a new, empty backend of its own. */
  readonly backend?: Map<string, Row>;
}

export class MyStore extends AbstractSessionStore {
  // Declare only what you implement: the kit checks every capability you claim.
  readonly capabilities: StoreCapabilities = { ...NO_CAPABILITIES, sessionInfo: true, listSessions: true, replaceHistory: true };
  readonly backend: Map<string, Row>;

  constructor(options: MyStoreOptions = {}) {
    super();
    this.backend = options.backend ?? new Map();
  }

  /** Newest `limit` items (all when undefined), oldest first. */
  protected async _getItems(sessionId: string, limit: number | undefined): Promise<EncodedItem[]> {
    const items = this.backend.get(sessionId)?.items ?? [];
    return limit === undefined ? [...items] : items.slice(-limit);
  }

  /** The whole batch or nothing: a real backend writes it in one request or one transaction. */
  protected async _addItems(sessionId: string, items: EncodedItem[]): Promise<void> {
    const now = Date.now();
    const row = this.backend.get(sessionId) ?? { items: [], createdAt: now, updatedAt: now };
    row.items = [...row.items, ...items];
    row.updatedAt = now;
    this.backend.set(sessionId, row);
  }

  /** Decode before removing: corrupt data is reported, never deleted by a pop. */
  protected async _popItem<R>(sessionId: string, decode: (encoded: EncodedItem) => R): Promise<R | undefined> {
    const row = this.backend.get(sessionId);
    if (!row || row.items.length === 0) return undefined;
    const value = decode(row.items.at(-1)!);
    row.items = row.items.slice(0, -1);
    row.updatedAt = Date.now();
    if (row.items.length === 0) this.backend.delete(sessionId);
    return value;
  }

  protected async _clearSession(sessionId: string): Promise<void> {
    this.backend.delete(sessionId);
  }

  /** One atomic swap; keeps createdAt unless the session was empty. */
  protected override async _replaceHistory(sessionId: string, items: EncodedItem[]): Promise<void> {
    const now = Date.now();
    if (items.length === 0) return void this.backend.delete(sessionId);
    const createdAt = this.backend.get(sessionId)?.createdAt ?? now;
    this.backend.set(sessionId, { items: [...items], createdAt, updatedAt: now });
  }

  protected override async _getSessionInfo(sessionId: string): Promise<SessionInfo | undefined> {
    const row = this.backend.get(sessionId);
    if (!row || row.items.length === 0) return undefined;
    return { sessionId, itemCount: row.items.length, createdAt: new Date(row.createdAt), updatedAt: new Date(row.updatedAt) };
  }

  /** Every session with items, once; a real backend pages with `pageSize`. */
  protected override async *_listSessions(): AsyncIterable<SessionInfo> {
    for (const sessionId of [...this.backend.keys()]) {
      const info = await this._getSessionInfo(sessionId);
      if (info) yield info;
    }
  }

  protected async _close(): Promise<void> {}

  /** Map your driver's errors: connection failures are BACKEND_UNAVAILABLE (retryable). */
  protected override mapError(error: unknown): SessionError {
    const code = (error as { code?: unknown } | null)?.code;
    if (code === 'ECONNREFUSED' || code === 'ETIMEDOUT') {
      return new SessionError(SessionErrorCode.BackendUnavailable, 'backend unreachable', { cause: error });
    }
    return super.mapError(error);
  }
}
