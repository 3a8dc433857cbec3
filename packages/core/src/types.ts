/**
 * One stored item. By default `any`, so a bound session is assignable to the
 * Agents SDK's `Session` (whose items are `AgentInputItem`) without a type
 * dependency on the SDK; pass a type argument (e.g. `AgentInputItem`) for
 * stricter typing. At run time items must be JSON values (see the codec).
 */
// biome-ignore lint: the default item type is intentionally open.
export type SessionItem = any;

/**
 * What a store can do, declared up front so callers and the conformance kit
 * never probe with `instanceof` or try/catch. A capability marked `false`
 * means the matching optional method is absent or must not be relied on.
 */
export interface StoreCapabilities {
  /** `applyHistoryTransaction` is available (atomic, idempotent by operation id). */
  readonly transactions: boolean;
  /** `listSessions` is available. */
  readonly listSessions: boolean;
  /** `getSessionInfo` is available. */
  readonly sessionInfo: boolean;
  /** `prune` is available. */
  readonly prune: boolean;
  /** The store honours a `ttl` option: sessions expire after their last write. */
  readonly ttl: boolean;
  /** Data survives `close()` and reopening the same backend. */
  readonly persistent: boolean;
  /**
   * Read-modify-write operations (`popItem`, `replace_suffix`, transaction
   * idempotency) are atomic against concurrent writers, including other
   * processes. Appends are always atomic; this flag covers the rest.
   */
  readonly atomicReadModifyWrite: boolean;
  /** `applyHistoryTransaction` honours `expectedLength` and `identity` (see {@link HistoryTransactionArgs}). */
  readonly transactionPreconditions: boolean;
  /**
   * `replaceHistory` is available: the whole history is swapped in one
   * atomic step (a reader sees the old history or the new one, never an
   * empty or partial one). The Agents SDK's `replaceHistoryWithCompaction`.
   */
  readonly replaceHistory: boolean;
  /**
   * `applyHistoryMutations` is available: the Agents SDK's history rewrites
   * (`replace_function_call`), applied atomically.
   */
  readonly historyMutations: boolean;
  /**
   * `addItems` honours `expectedLength` (see {@link AddItemsOptions}): a
   * compare-and-swap append with no operation log, for layers that must know
   * where a batch lands (withEncryption binds each item's position). Optional
   * in the manifest; absent means `false`, and such a store refuses
   * `expectedLength` with UNSUPPORTED.
   */
  readonly conditionalAppend?: boolean;
  /**
   * `readChanges` is available: what was appended since a version this
   * store handed out, or the whole history when anything else changed it
   * (see {@link HistoryVersion}). What lets a cache in several processes
   * revalidate in O(new items). Optional in the manifest; absent means `false`.
   */
  readonly readChanges?: boolean;
}

/** Per-call context. `runContext` is the Agents SDK's RunContext when a run calls the session. */
export interface CallOptions {
  /** Forwarded from the Agents SDK (`acceptsRunContext`) for multi-tenant routing and tracing. */
  readonly runContext?: unknown;
}

export interface AddItemsOptions extends CallOptions {
  /**
   * Append only if the session holds exactly this many items just before the
   * batch; otherwise CONFLICT and nothing is written. Needs the
   * `conditionalAppend` capability (else UNSUPPORTED). An empty batch writes
   * nothing and skips the comparison; the value is still validated and still
   * needs the capability. Default: no length check.
   */
  readonly expectedLength?: number;
}

export interface GetItemsOptions extends CallOptions {
  /**
   * Return only the most recent `limit` items, in chronological order.
   * `undefined`: the whole history. `0`: an empty array. Negative, fractional,
   * NaN or infinite values are rejected with INVALID_ARGUMENT.
   */
  readonly limit?: number;
}

/** Appends items at the end of the history (the Agents SDK's `append_items`). */
export interface AppendItemsTransaction<TItem = SessionItem> {
  readonly type: 'append_items';
  readonly items: readonly TItem[];
}

/**
 * Replaces the newest `expectedSuffix.length` items with `replacement`, only
 * if they still equal `expectedSuffix` (key order does not matter). An empty
 * `expectedSuffix` appends.
 */
export interface ReplaceSuffixTransaction<TItem = SessionItem> {
  readonly type: 'replace_suffix';
  readonly expectedSuffix: readonly TItem[];
  readonly replacement: readonly TItem[];
}

export type HistoryTransaction<TItem = SessionItem> = AppendItemsTransaction<TItem> | ReplaceSuffixTransaction<TItem>;

/** The Agents SDK's `SessionHistoryTransactionArgs`. */
export interface HistoryTransactionArgs<TItem = SessionItem> {
  /** Not blank (not only whitespace), well formed, at most 256 characters; stable across retries of the same change. */
  readonly operationId: string;
  readonly transaction: HistoryTransaction<TItem>;
  /**
   * Apply only if the session holds exactly this many items just before the
   * change; otherwise CONFLICT and nothing is written. A repeat of an
   * already-applied `operationId` is still recognised first. Needs the
   * `transactionPreconditions` capability (else UNSUPPORTED). Default: no
   * length check.
   */
  readonly expectedLength?: number;
  /**
   * What makes a repeat of `operationId` the same change: when given, the
   * store recognises a repeat by this string instead of by the stored forms
   * of the items. For layers whose stored form of an item depends on where it
   * lands (withEncryption binds each item's position), so a retry re-encodes
   * the same change differently. At most 1024 characters; needs
   * `transactionPreconditions`. Default: the stored forms identify it.
   */
  readonly identity?: string;
}

/**
 * Replaces the first stored `function_call` item whose `callId` is `callId`
 * with `replacement`; later `function_call` items with that `callId` are
 * dropped, their outputs and every other item stay (the Agents SDK's
 * `replace_function_call`). No matching item: nothing changes.
 */
export interface ReplaceFunctionCallMutation<TItem = SessionItem> {
  readonly type: 'replace_function_call';
  /** Non-empty. */
  readonly callId: string;
  /** The item stored in place of the first match: a storable item of type `'function_call'` (INVALID_ITEM otherwise). */
  readonly replacement: TItem;
}

export type HistoryMutation<TItem = SessionItem> = ReplaceFunctionCallMutation<TItem>;

/** The Agents SDK's `SessionHistoryRewriteArgs`: mutations applied in order, all or none. */
export interface HistoryMutationArgs<TItem = SessionItem> {
  readonly mutations: readonly HistoryMutation<TItem>[];
}

/**
 * A point in one session's history, as `readChanges` reports it. `epoch`
 * names a run of appends: every write that is not an append (pop, clear, a
 * `replace_suffix` transaction, replaceHistory, expiry, prune) gives the
 * session a new epoch, never one used before, and a session that does not
 * exist has the epoch `''`. So while the epoch is the same, the history is
 * the one seen then plus appended items, and `length` says where they start.
 * Opaque: hand it back to the store that made it, compare nothing else.
 */
export interface HistoryVersion {
  readonly epoch: string;
  /** Items in the session at this version. */
  readonly length: number;
}

/** What `readChanges` returns, read in one atomic step. */
export interface HistoryChanges<TItem = SessionItem> {
  /** The session's version now: pass it as `since` to the next call. */
  readonly version: HistoryVersion;
  /**
   * `false`: `items` are the items appended since `since` (positions
   * `since.length` to `version.length - 1`; possibly none). `true`: `items`
   * is the whole history — no `since`, or the session changed otherwise.
   */
  readonly whole: boolean;
  readonly items: TItem[];
}

export interface SessionInfo {
  readonly sessionId: string;
  /** Number of items now stored. */
  readonly itemCount: number;
  /** First write since the session was created or last cleared. */
  readonly createdAt: Date;
  /** Last write (append, pop, transaction). */
  readonly updatedAt: Date;
  /** When the session expires, for stores with a `ttl`. */
  readonly expiresAt?: Date;
}

export interface ListSessionsOptions {
  /** How many sessions to fetch from the backend per round trip. Default: store-specific (100 for built-ins). */
  readonly pageSize?: number;
}

export interface PruneOptions {
  /** Delete every session whose last write is strictly before this instant. */
  readonly olderThan: Date;
}

/**
 * A storage backend holding many conversations. Every method takes the
 * session id first; ids are opaque strings (1–512 UTF-16 code units, well
 * formed) and never interpreted as backend syntax.
 */
export interface SessionStore<TItem = SessionItem> {
  readonly capabilities: StoreCapabilities;
  getItems(sessionId: string, options?: GetItemsOptions): Promise<TItem[]>;
  /** Atomic: the batch lands whole, contiguous and in order, or not at all. */
  addItems(sessionId: string, items: readonly TItem[], options?: AddItemsOptions): Promise<void>;
  /** Removes and returns the newest item; `undefined` when the session is empty. */
  popItem(sessionId: string, options?: CallOptions): Promise<TItem | undefined>;
  clearSession(sessionId: string, options?: CallOptions): Promise<void>;
  applyHistoryTransaction?(
    sessionId: string,
    args: HistoryTransactionArgs<TItem>,
    options?: CallOptions,
  ): Promise<void>;
  /**
   * Atomically replaces the whole history with `items` (which may be empty),
   * keeping the session's identity: `createdAt` and the transaction log stay.
   * Invalid items are refused before anything changes.
   */
  replaceHistory?(sessionId: string, items: readonly TItem[], options?: CallOptions): Promise<void>;
  /** Applies every mutation atomically, in order; a mutation that matches nothing changes nothing. */
  applyHistoryMutations?(sessionId: string, args: HistoryMutationArgs<TItem>, options?: CallOptions): Promise<void>;
  /** Every session with at least one item, each exactly once, in no promised order. */
  listSessions?(options?: ListSessionsOptions): AsyncIterable<SessionInfo>;
  /**
   * The items appended since `since` (a version this store returned for this
   * session), or the whole history when there is no `since` or the session
   * changed other than by appends since then; with the current version. One
   * atomic read: O(new items) when only appends happened.
   */
  readChanges?(sessionId: string, since?: HistoryVersion, options?: CallOptions): Promise<HistoryChanges<TItem>>;
  /** `undefined` when the session has no items. */
  getSessionInfo?(sessionId: string, options?: CallOptions): Promise<SessionInfo | undefined>;
  /** Deletes sessions last written before `olderThan`; returns how many. */
  prune?(options: PruneOptions): Promise<number>;
  /** Releases what the store owns. Idempotent; every later call fails with CLOSED. */
  close(): Promise<void>;
}

/** Settings for a bound session. */
export interface SessionSettings {
  /**
   * Default `limit` for `getItems()` called without one. Default: none — the
   * whole history, as the Agents SDK's runner expects.
   */
  readonly limit?: number;
}

/**
 * One conversation, bound to one id: structurally the Agents SDK's `Session`
 * (and `RunContextAwareSession`), so `run(agent, input, { session })` takes it.
 * The optional methods are present exactly when the store declares the
 * matching capability, so the SDK's feature detection sees the truth:
 * `applyHistoryTransaction` (`SessionHistoryTransactionAwareSession`),
 * `replaceHistoryWithCompaction` and `applyHistoryMutations`
 * (`SessionHistoryRewriteAwareSession`).
 */
export interface Session<TItem = SessionItem> {
  readonly acceptsRunContext: true;
  getSessionId(): Promise<string>;
  getItems(limit?: number, runContext?: unknown): Promise<TItem[]>;
  addItems(items: TItem[], runContext?: unknown): Promise<void>;
  popItem(runContext?: unknown): Promise<TItem | undefined>;
  clearSession(runContext?: unknown): Promise<void>;
  applyHistoryTransaction?(args: HistoryTransactionArgs<TItem>, runContext?: unknown): Promise<void>;
  replaceHistoryWithCompaction?(items: TItem[], runContext?: unknown): Promise<void>;
  applyHistoryMutations?(args: HistoryMutationArgs<TItem>, runContext?: unknown): Promise<void>;
}

/** Anything that can hand out bound sessions: every built-in and decorated store. */
export interface SessionFactory<TItem = SessionItem> {
  session(sessionId: string, settings?: SessionSettings): Session<TItem>;
}

/** A store that also binds sessions: what built-in stores and decorators return. */
export type BindableStore<TItem = SessionItem> = SessionStore<TItem> & SessionFactory<TItem>;
