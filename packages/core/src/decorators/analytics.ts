import { LRUCache } from 'lru-cache';
import { hasSessionInfo } from '../capabilities.js';
import { SessionError, SessionErrorCode } from '../errors.js';
import type { AddItemsOptions, CallOptions, HistoryTransactionArgs, SessionItem, SessionStore } from '../types.js';
import { assertAppendOptions, assertPositiveInteger, assertSessionId, OPERATION_LOG_RETENTION } from '../validation.js';
import { ForwardingStore } from '../forwarding-store.js';
import { assertSessionIdMode, resolveHashSalt, SessionLabeler, type SessionIdMode } from '../session-label.js';
import { isToolCall, isToolOutput, itemRole, itemType } from '../item-kinds.js';
import { estimateItemTokens, heuristicTokenizer, type Tokenizer } from '../token-estimate.js';

/** Figures for one session's current history. */
export interface SessionAnalytics {
  /** Items now in the history. */
  readonly items: number;
  /** Message items by role (`user`, `assistant`, `system`, ...). */
  readonly byRole: Readonly<Record<string, number>>;
  /** Items by type; messages without a `type` count as `message`. */
  readonly byType: Readonly<Record<string, number>>;
  /** Turns: user messages. */
  readonly turns: number;
  /** Tool calls issued by the model (function, hosted, computer, shell, apply_patch, tool search, program). */
  readonly toolCalls: number;
  /** Tool calls by tool name, where the item names the tool. */
  readonly toolCallsByName: Readonly<Record<string, number>>;
  /** Tool results given back to the model. */
  readonly toolOutputs: number;
  /** Agent names carried by items (see `agentOf`), sorted. Empty when items carry none. */
  readonly agents: readonly string[];
  /** Sum of the tokenizer's estimate over every item. */
  readonly estimatedTokens: number;
  /** First write of the current history (the store's `createdAt` when it has session info). */
  readonly firstActivity?: Date;
  /** Last write (append, pop, transaction) seen. */
  readonly lastActivity?: Date;
}

/** The change one write made, with removals negative. */
export interface AnalyticsDelta {
  readonly items: number;
  readonly byRole: Readonly<Record<string, number>>;
  readonly byType: Readonly<Record<string, number>>;
  readonly turns: number;
  readonly toolCalls: number;
  readonly toolOutputs: number;
  readonly estimatedTokens: number;
  /** Agents named by the added items. */
  readonly agents: readonly string[];
}

/** What the event sink receives after each successful write. Item content only with `includeContent`. */
export interface AnalyticsEvent<TItem = SessionItem> {
  readonly type: 'items_added' | 'item_popped' | 'session_cleared' | 'history_transaction' | 'history_replaced';
  /** The session, as `sessionIds` says: a salted hash by default, the raw id, or absent. */
  readonly session?: string;
  readonly at: Date;
  /** For `history_transaction`: which kind. */
  readonly transaction?: 'append_items' | 'replace_suffix';
  /**
   * Figures added (positive) and removed (negative); absent for
   * `session_cleared`. For `history_replaced`: the figures of the whole new
   * history (the old figures are gone with the old history).
   */
  readonly delta?: AnalyticsDelta;
  /** Items added, popped, replacing a suffix or the new history — only with `includeContent: true`. */
  readonly content?: readonly TItem[];
}

export interface AnalyticsOptions<TItem = SessionItem> {
  /** Token counter used for `estimatedTokens`. Default: {@link heuristicTokenizer} (characters / 4). */
  readonly tokenizer?: Tokenizer;
  /**
   * Names the agent an item came from. Default: an `agent` field (string or
   * `{ name }`), else `providerData.agent` / `providerData.agentName`. The
   * Agents SDK does not stamp items with an agent today; tag them yourself
   * (e.g. in `providerData`) to fill `agents`.
   */
  readonly agentOf?: (item: TItem) => string | undefined;
  /**
   * Called after each successful write; its return value is ignored (a
   * returned promise is not awaited, its rejection goes to `onEventError`).
   * Errors it throws never reach the caller. Default: none.
   */
  readonly onEvent?: (event: AnalyticsEvent<TItem>) => unknown;
  /** Receives errors thrown by `onEvent`. Default: they are dropped. */
  readonly onEventError?: (error: unknown) => void;
  /** Put the items themselves in events. Default: `false` — events carry figures only. */
  readonly includeContent?: boolean;
  /**
   * How events name the session: `'hash'` (first 16 hex chars of SHA-256
   * of salt, NUL, id), `'raw'`, or `'omit'`. Default: `'hash'`.
   */
  readonly sessionIds?: SessionIdMode;
  /**
   * Salt for hashed session ids. Default: 16 random bytes per decorator
   * instance, so hashes of guessable ids cannot be reversed; labels then
   * differ between processes and restarts. Give a secret salt to keep labels
   * stable across them.
   */
  readonly hashSalt?: string;
  /** Sessions whose figures are kept in memory (least recently used evicted). Default: 10 000. */
  readonly maxSessions?: number;
}

export interface GetAnalyticsOptions {
  /** Recompute from the store even if figures are cached (e.g. other processes write too). Default: false. */
  readonly refresh?: boolean;
}

interface Tally {
  items: number;
  byRole: Map<string, number>;
  byType: Map<string, number>;
  turns: number;
  toolCalls: number;
  toolCallsByName: Map<string, number>;
  toolOutputs: number;
  agents: Map<string, number>;
  estimatedTokens: number;
  firstActivity?: number;
  lastActivity?: number;
}

/**
 * What is running on one session through the decorator; kept only while
 * something runs. `generation` moves whenever a write ends, so a recount
 * that finds it where it started knows no write finished meanwhile (and
 * `writes` says whether one is still running).
 */
interface Activity {
  /** Writes in flight. */
  writes: number;
  /** Of those, resets: writes the figures do not follow by a delta (clear, replaceHistory, transactions). */
  resets: number;
  /** Recounts running (an outdated one may still run beside a newer one). */
  recounts: number;
  /** Bumped when a write ends (succeeded or failed). */
  generation: number;
  /** The newest recount and the generation it started at: shared only while that is still current. */
  recount?: { readonly generation: number; result?: Promise<Tally> };
}

function emptyTally(): Tally {
  return {
    items: 0,
    byRole: new Map(),
    byType: new Map(),
    turns: 0,
    toolCalls: 0,
    toolCallsByName: new Map(),
    toolOutputs: 0,
    agents: new Map(),
    estimatedTokens: 0,
  };
}

function bump(map: Map<string, number>, key: string, by: number): void {
  const next = (map.get(key) ?? 0) + by;
  if (next === 0) map.delete(key);
  else map.set(key, next);
}

function defaultAgentOf(item: SessionItem): string | undefined {
  if (typeof item !== 'object' || item === null) return undefined;
  const agent = (item as { agent?: unknown }).agent;
  if (typeof agent === 'string') return agent;
  if (typeof agent === 'object' && agent !== null && typeof (agent as { name?: unknown }).name === 'string') {
    return (agent as { name: string }).name;
  }
  const data = (item as { providerData?: unknown }).providerData;
  if (typeof data === 'object' && data !== null) {
    const named = (data as { agent?: unknown; agentName?: unknown }).agent ?? (data as { agentName?: unknown }).agentName;
    if (typeof named === 'string') return named;
  }
  return undefined;
}

/** A tally read as a delta; agents are those with a positive count. */
function deltaOf(tally: Tally): AnalyticsDelta {
  return {
    items: tally.items,
    byRole: fromMap(tally.byRole),
    byType: fromMap(tally.byType),
    turns: tally.turns,
    toolCalls: tally.toolCalls,
    toolOutputs: tally.toolOutputs,
    estimatedTokens: tally.estimatedTokens,
    agents: [...tally.agents].filter(([, n]) => n > 0).map(([name]) => name).sort(),
  };
}

function fromMap(map: Map<string, number>): Record<string, number> {
  return Object.fromEntries([...map].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * Keeps per-session figures about the conversation stored below it. Figures
 * are computed from the history on the first `getAnalytics` of a session
 * (one full read), then maintained incrementally for writes made through
 * this decorator; transactions, failed writes and writes racing a clear or
 * replacement drop the cached figures so the next call recomputes. Nothing
 * is stored in the backend.
 */
export class AnalyticsStore<TItem = SessionItem> extends ForwardingStore<TItem> {
  readonly #tokenizer: Tokenizer;
  readonly #agentOf: (item: TItem) => string | undefined;
  readonly #options: AnalyticsOptions<TItem>;
  readonly #labels: SessionLabeler;
  readonly #tallies: LRUCache<string, Tally>;
  // Writes and recounts running per session, with the write generation (see Activity); idle sessions have none.
  readonly #activity = new Map<string, Activity>();
  // Operation ids applied through this decorator, per session (newest last): a repeat is a no-op in the
  // store and must emit nothing. Bounded like the stores' own operation logs.
  readonly #applied: LRUCache<string, Set<string>>;

  constructor(inner: SessionStore<TItem>, options: AnalyticsOptions<TItem> = {}) {
    super(inner);
    const maxSessions = options.maxSessions ?? 10_000;
    assertPositiveInteger(maxSessions, 'maxSessions');
    assertSessionIdMode(options.sessionIds);
    this.#labels = new SessionLabeler(options.sessionIds, resolveHashSalt(options.hashSalt));
    this.#options = options;
    this.#tokenizer = options.tokenizer ?? heuristicTokenizer;
    this.#agentOf = options.agentOf ?? defaultAgentOf;
    this.#tallies = new LRUCache({ max: maxSessions });
    this.#applied = new LRUCache({ max: maxSessions });
  }

  /**
   * Figures for the session's current history. The first call per session
   * (and any call with `refresh`) reads the whole history: O(history); later
   * calls are O(1) until a transaction, a failed write or a write racing a
   * clear or replacement invalidates them.
   */
  async getAnalytics(sessionId: string, options: GetAnalyticsOptions = {}): Promise<SessionAnalytics> {
    this.assertOpen();
    assertSessionId(sessionId);
    let tally = options.refresh ? undefined : this.#tallies.get(sessionId);
    if (!tally) tally = await this.#rebuild(sessionId);
    return this.#snapshot(tally);
  }

  /** Drops cached figures (one session, or all); the next `getAnalytics` recomputes. */
  forget(sessionId?: string): void {
    if (sessionId === undefined) this.#tallies.clear();
    else this.#tallies.delete(sessionId);
  }

  /**
   * Recounts from the store. A recount already running is shared only if no
   * write ended since it began: a caller whose write has resolved never gets
   * figures read before that write. The result is cached only if no write
   * ended during it and none is in flight at its end, so a write's delta is
   * never missed nor counted twice.
   */
  #rebuild(sessionId: string): Promise<Tally> {
    const activity = this.#enter(sessionId);
    const running = activity.recount;
    if (running?.result && running.generation === activity.generation) {
      this.#leave(sessionId, activity);
      return running.result;
    }
    activity.recounts++;
    const generation = activity.generation;
    const recount: { readonly generation: number; result?: Promise<Tally> } = { generation };
    activity.recount = recount;
    recount.result = (async () => {
      try {
        const [items, info] = await Promise.all([
          this.inner.getItems(sessionId),
          hasSessionInfo(this.inner) ? this.inner.getSessionInfo(sessionId) : Promise.resolve(undefined),
        ]);
        const tally = emptyTally();
        this.#apply(tally, items, 1);
        if (info) {
          tally.firstActivity = info.createdAt.getTime();
          tally.lastActivity = info.updatedAt.getTime();
        }
        if (activity.generation === generation && activity.writes === 0) this.#tallies.set(sessionId, tally);
        return tally;
      } finally {
        if (activity.recount === recount) delete activity.recount;
        activity.recounts--;
        this.#leave(sessionId, activity);
      }
    })();
    return recount.result;
  }

  /** The session's activity record, created when it is idle. */
  #enter(sessionId: string): Activity {
    let activity = this.#activity.get(sessionId);
    if (!activity) this.#activity.set(sessionId, (activity = { writes: 0, resets: 0, recounts: 0, generation: 0 }));
    return activity;
  }

  /** Drops the record once nothing runs on the session (a later one starts afresh: nothing holds the old). */
  #leave(sessionId: string, activity: Activity): void {
    if (activity.writes === 0 && activity.recounts === 0 && this.#activity.get(sessionId) === activity) {
      this.#activity.delete(sessionId);
    }
  }

  #snapshot(tally: Tally): SessionAnalytics {
    return {
      items: tally.items,
      byRole: fromMap(tally.byRole),
      byType: fromMap(tally.byType),
      turns: tally.turns,
      toolCalls: tally.toolCalls,
      toolCallsByName: fromMap(tally.toolCallsByName),
      toolOutputs: tally.toolOutputs,
      agents: [...tally.agents.keys()].sort(),
      estimatedTokens: tally.estimatedTokens,
      ...(tally.firstActivity !== undefined ? { firstActivity: new Date(tally.firstActivity) } : {}),
      ...(tally.lastActivity !== undefined ? { lastActivity: new Date(tally.lastActivity) } : {}),
    };
  }

  /** Adds (sign 1) or removes (sign -1) items' figures; returns the delta. */
  #apply(tally: Tally, items: readonly TItem[], sign: 1 | -1): AnalyticsDelta {
    const delta = emptyTally();
    for (const item of items) {
      delta.items++;
      bump(delta.byType, itemType(item), 1);
      const role = itemRole(item);
      if (role !== undefined) {
        bump(delta.byRole, role, 1);
        if (role === 'user') delta.turns++;
      }
      if (isToolCall(item)) {
        delta.toolCalls++;
        const name = (item as { name?: unknown }).name;
        if (typeof name === 'string') bump(delta.toolCallsByName, name, 1);
      }
      if (isToolOutput(item)) delta.toolOutputs++;
      const agent = this.#agentOf(item);
      if (agent !== undefined) bump(delta.agents, agent, 1);
      delta.estimatedTokens += estimateItemTokens(item, this.#tokenizer);
    }
    this.#merge(tally, delta, sign);
    if (sign === -1) {
      const negated = emptyTally();
      this.#merge(negated, delta, -1);
      return deltaOf(negated);
    }
    return deltaOf(delta);
  }

  #merge(target: Tally, source: Tally, sign: 1 | -1): void {
    target.items += sign * source.items;
    target.turns += sign * source.turns;
    target.toolCalls += sign * source.toolCalls;
    target.toolOutputs += sign * source.toolOutputs;
    target.estimatedTokens += sign * source.estimatedTokens;
    for (const [key, n] of source.byRole) bump(target.byRole, key, sign * n);
    for (const [key, n] of source.byType) bump(target.byType, key, sign * n);
    for (const [key, n] of source.toolCallsByName) bump(target.toolCallsByName, key, sign * n);
    for (const [key, n] of source.agents) bump(target.agents, key, sign * n);
  }

  #sessionLabel(sessionId: string): string | undefined {
    return this.#labels.label(sessionId);
  }

  #emit(sessionId: string, at: number, fields: Omit<AnalyticsEvent<TItem>, 'session' | 'at'>, content: readonly TItem[]): void {
    const sink = this.#options.onEvent;
    if (!sink) return;
    const session = this.#sessionLabel(sessionId);
    const event: AnalyticsEvent<TItem> = {
      ...fields,
      ...(session !== undefined ? { session } : {}),
      at: new Date(at),
      ...(this.#options.includeContent ? { content } : {}),
    };
    const report = (error: unknown) => {
      try {
        this.#options.onEventError?.(error);
      } catch {
        // A failing error handler must not fail the write either.
      }
    };
    try {
      const result = sink(event);
      if (result && typeof (result as PromiseLike<unknown>).then === 'function') (result as PromiseLike<unknown>).then(undefined, report);
    } catch (error) {
      report(error);
    }
  }

  /**
   * Runs a write, moving the session's write generation when it ends (which
   * outdates running recounts); on failure the cached figures are dropped.
   * `after` gets the cached figures to update, or none when they were dropped
   * because this write raced a reset (`reset`: clear, replace, transaction),
   * whose order against it in the store is unknown: a write ending while a
   * reset is in flight drops them, and so does a reset ending while another
   * write is in flight. Every write overlapping a reset ends one way or the
   * other, and nothing caches figures while a write is in flight. Appends and
   * pops racing each other keep the figures: their deltas commute.
   */
  async #write<R>(
    sessionId: string,
    reset: boolean,
    write: () => Promise<R>,
    after: (result: R, tally: Tally | undefined, at: number) => void,
  ): Promise<R> {
    const activity = this.#enter(sessionId);
    activity.writes++;
    if (reset) activity.resets++;
    try {
      let result: R;
      try {
        result = await write();
      } catch (error) {
        // The outcome may be unknown (e.g. a timeout after commit): recompute next time.
        this.#tallies.delete(sessionId);
        throw error;
      }
      const at = Date.now();
      const unordered = reset ? activity.writes > 1 : activity.resets > 0;
      if (unordered) this.#tallies.delete(sessionId);
      after(result, unordered ? undefined : this.#tallies.get(sessionId), at);
      return result;
    } finally {
      activity.writes--;
      if (reset) activity.resets--;
      activity.generation++;
      this.#leave(sessionId, activity);
    }
  }

  override async addItems(sessionId: string, items: readonly TItem[], options?: AddItemsOptions): Promise<void> {
    this.assertOpen();
    assertAppendOptions(options, this.capabilities);
    await this.#write(
      sessionId,
      false,
      () => this.inner.addItems(sessionId, items, options),
      (_, tally, at) => {
        if (items.length === 0) return;
        const target = tally ?? emptyTally();
        if (tally) {
          if (tally.items === 0) tally.firstActivity = at;
          tally.lastActivity = at;
        }
        const delta = this.#apply(target, items, 1);
        this.#emit(sessionId, at, { type: 'items_added', delta }, items);
      },
    );
  }

  override async popItem(sessionId: string, options?: CallOptions): Promise<TItem | undefined> {
    this.assertOpen();
    return this.#write(
      sessionId,
      false,
      () => this.inner.popItem(sessionId, options),
      (item, tally, at) => {
        if (item === undefined) return;
        if (tally) tally.lastActivity = at;
        const delta = this.#apply(tally ?? emptyTally(), [item], -1);
        if (tally && tally.items === 0) {
          delete tally.firstActivity;
          delete tally.lastActivity;
        }
        this.#emit(sessionId, at, { type: 'item_popped', delta }, [item]);
      },
    );
  }

  override async clearSession(sessionId: string, options?: CallOptions): Promise<void> {
    this.assertOpen();
    await this.#write(
      sessionId,
      true,
      () => this.inner.clearSession(sessionId, options),
      (_, tally, at) => {
        // No figures here when another write raced the clear (see #write): the next read recomputes.
        if (tally) this.#tallies.set(sessionId, emptyTally());
        // Clearing forgets the session's operations in the store too (the contract): an id may apply again.
        this.#applied.delete(sessionId);
        this.#emit(sessionId, at, { type: 'session_cleared' }, []);
      },
    );
  }

  override async applyHistoryTransaction(
    sessionId: string,
    args: HistoryTransactionArgs<TItem>,
    options?: CallOptions,
  ): Promise<void> {
    this.require('transactions', 'applyHistoryTransaction');
    await this.#write(
      sessionId,
      true,
      () => this.inner.applyHistoryTransaction!(sessionId, args, options),
      (_, _tally, at) => {
        // A repeat of an operation applied through this decorator changed nothing: no event, figures stand.
        // (Two concurrent calls with one id that both succeed: exactly one applied, the first to finish reports.)
        if (!this.#firstApplication(sessionId, args.operationId)) return;
        // A repeat of an operation applied elsewhere (another process) is also a silent no-op in the store,
        // so the exact change is unknown here: recompute on the next read instead.
        this.#tallies.delete(sessionId);
        const tx = args.transaction;
        const added = tx.type === 'append_items' ? tx.items : tx.replacement;
        const removed = tx.type === 'append_items' ? [] : tx.expectedSuffix;
        // Net change: the replacement in, the expected suffix out.
        const net = emptyTally();
        this.#apply(net, added, 1);
        this.#apply(net, removed, -1);
        this.#emit(sessionId, at, { type: 'history_transaction', transaction: tx.type, delta: deltaOf(net) }, added);
      },
    );
  }

  /**
   * The figures become those of the new items: computed here from the
   * replacement, not read back. Creation time is kept (the store keeps
   * createdAt) unless the history was empty; so is the record of applied
   * operations (the store keeps its operation log).
   */
  override async replaceHistory(sessionId: string, items: readonly TItem[], options?: CallOptions): Promise<void> {
    this.require('replaceHistory', 'replaceHistory');
    await this.#write(
      sessionId,
      true,
      () => this.inner.replaceHistory!(sessionId, items, options),
      (_, tally, at) => {
        const next = emptyTally();
        const figures = this.#apply(next, items, 1);
        // No figures here when another write raced the replacement (see #write): the next read recomputes.
        if (tally) {
          if (items.length > 0) {
            next.firstActivity = tally.items > 0 && tally.firstActivity !== undefined ? tally.firstActivity : at;
            next.lastActivity = at;
          }
          this.#tallies.set(sessionId, next);
        }
        this.#emit(sessionId, at, { type: 'history_replaced', delta: figures }, items);
      },
    );
  }

  /** Records that `operationId` succeeded on the session; false when it had already (a repeat). */
  #firstApplication(sessionId: string, operationId: string): boolean {
    let ids = this.#applied.get(sessionId);
    if (ids?.has(operationId)) return false;
    if (!ids) this.#applied.set(sessionId, (ids = new Set()));
    ids.add(operationId);
    // Bounded like the built-in stores' default operation log.
    if (ids.size > OPERATION_LOG_RETENTION) ids.delete(ids.values().next().value!);
    return true;
  }

  override async close(): Promise<void> {
    try {
      // Calls in flight finish first (and update figures): cleared after them.
      await super.close();
    } finally {
      this.#tallies.clear();
      this.#applied.clear();
    }
  }
}

/**
 * Per-session analytics (counts by role and type, turns, tool calls, agents,
 * estimated tokens, activity) and an event sink that carries figures, not
 * content. See docs/decorators/analytics.md.
 */
export function withAnalytics<TItem = SessionItem>(
  options: AnalyticsOptions<NoInfer<TItem>> = {},
): (store: SessionStore<TItem>) => AnalyticsStore<TItem> {
  return (store) => new AnalyticsStore<TItem>(store, options);
}
