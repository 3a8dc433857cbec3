import { LRUCache } from 'lru-cache';
import { hasReadChanges, hasSessionInfo } from '../capabilities.js';
import { decodeItems, encodeItems, type EncodedItem } from '../codec.js';
import { appendEncoded, appendEncodedTo } from '../abstract-store.js';
import { copyItem, itemSize } from '../item-copy.js';
import { SessionError, SessionErrorCode } from '../errors.js';
import type {
  AddItemsOptions,
  CallOptions,
  GetItemsOptions,
  HistoryTransactionArgs,
  HistoryVersion,
  PruneOptions,
  SessionInfo,
  SessionItem,
  SessionStore,
} from '../types.js';
import { assertAppendOptions, assertPositiveInteger, assertSessionId, normalizeLimit } from '../validation.js';
import { ForwardingStore } from '../forwarding-store.js';

export interface CacheOptions {
  /** Sessions kept at most (least recently used evicted first). Default: 1000. */
  readonly maxSessions?: number;
  /** Approximate bytes of cached items across all sessions (their estimated heap size). Default: 64 MiB. */
  readonly maxBytes?: number;
  /**
   * Bytes one session may hold. A longer history keeps only its newest items
   * that fit (the cache then knows it holds a tail, not the whole history,
   * and full reads of it go to the store). Default: a quarter of `maxBytes`
   * (16 MiB with the default `maxBytes`: about 20,000 items of 300 bytes).
   */
  readonly maxSessionBytes?: number;
  /**
   * Milliseconds an entry is trusted after it was read from the store. Set it
   * when other processes write the same sessions: it bounds how stale a read
   * can be. Appends through this cache keep the entry exact without
   * extending it; `clearSession` and `replaceHistory` restart it, as a fresh
   * read would.
   * Default: none (entries live until evicted or invalidated — right when
   * this process is the only writer of its sessions).
   */
  readonly ttl?: number;
  /**
   * For several processes writing the same sessions, with exact reads: every
   * read asks the store what changed since the entry's version.
   *
   * On a store with `readChanges` (MemoryStore, SQLite, Redis, PostgreSQL, S3,
   * and decorators over them), a read fetches only the items appended since
   * (one small read: O(new items)), or the whole history when the session
   * was popped, cleared, rewritten or expired; writes through this cache
   * leave the entry as it is (the next read fetches them). Exact whatever
   * the clocks; `clockToleranceMs` is not used.
   *
   * Otherwise it asks the store's `getSessionInfo` whether the session
   * changed since the entry was read (its item count, `createdAt` and
   * `updatedAt`) and re-reads the whole history if so. Writes through this
   * cache then drop the entry (the store's new `updatedAt` is unknown) except
   * `clearSession`. `clockToleranceMs`: how far the clocks stamping
   * `updatedAt` (the writers', or the server's) may lag this process's clock
   * plus how long a write may take from its timestamp to its commit; an
   * entry is only trusted if it was read more than that after the session's
   * last write. Needs `readChanges` or `sessionInfo`. Default: off;
   * `true` means `{ clockToleranceMs: 1000 }`.
   */
  readonly revalidate?: boolean | { readonly clockToleranceMs?: number };
}

/** Hit/miss figures and occupancy. */
export interface CacheStats {
  /** `getItems` calls answered from the cache. */
  readonly hits: number;
  /** `getItems` calls that went to the store. */
  readonly misses: number;
  /** hits / (hits + misses), 0 before any read. */
  readonly hitRate: number;
  /** Sessions now cached. */
  readonly sessions: number;
  /** Approximate bytes now cached. */
  readonly bytes: number;
  /** Sessions evicted to respect `maxSessions` / `maxBytes`. */
  readonly evictions: number;
  /** With `revalidate`: entries found changed other than by appends (or, without readChanges, changed at all), and re-read whole. */
  readonly revalidationFailures: number;
}

interface Entry {
  /** The newest items, oldest first, decoded and owned by the cache (callers get deep copies). */
  readonly items: unknown[];
  /** True when `items` is the whole history; otherwise a tail of exactly `items.length` newest items. */
  readonly complete: boolean;
  readonly bytes: number;
  /** Epoch ms after which the entry is not trusted (`ttl` after it was read from the store). */
  readonly trustedUntil: number | undefined;
  /** Epoch ms at which the store expires the session (its own ttl), as far as this process knows. */
  readonly sessionExpiry: number | undefined;
  /** With `revalidate`: the session's info when `items` were read, as {@link versionOf} renders it. */
  readonly version?: string;
  /** With `revalidate` through `readChanges`: the store's version `items` end at. */
  readonly changes?: HistoryVersion;
}

const DEFAULT_CLOCK_TOLERANCE_MS = 1000;
const EMPTY_VERSION = 'empty';

/** What identifies a state of a session for revalidation: its count and timestamps (no session: empty). */
function versionOf(info: SessionInfo | undefined): string {
  return info ? `${info.itemCount}:${info.createdAt.getTime()}:${info.updatedAt.getTime()}` : EMPTY_VERSION;
}

const ITEM_OVERHEAD = 48;
const ENTRY_OVERHEAD = 128;
const sizeOf = (item: unknown) => itemSize(item) + ITEM_OVERHEAD;

function invalid(message: string): SessionError {
  return new SessionError(SessionErrorCode.InvalidArgument, message);
}

const minDefined = (a: number | undefined, b: number | undefined) =>
  a === undefined ? b : b === undefined ? a : Math.min(a, b);

/**
 * An LRU of recent history per session, in front of any store. Reads are
 * answered from the cache only when it provably holds what the store would
 * return (the whole history, or a tail at least `limit` long); writes go to
 * the store first and then update (append) or invalidate (pop, transaction)
 * the entry. Coherent within this process; see `ttl` for several processes.
 */
export class CacheStore<TItem = SessionItem> extends ForwardingStore<TItem> {
  readonly #cache: LRUCache<string, Entry>;
  readonly #maxSessionBytes: number;
  readonly #ttl: number | undefined;
  // Per session: writes in flight, and a version bumped when one starts or ends. A read fills the cache
  // only if no write overlapped it; a write updates the entry only if no other write overlapped it.
  readonly #writing = new Map<string, number>();
  readonly #versions = new Map<string, number>();
  #clock = 0;
  #forgotten = 0;
  // The store's own ttl, learnt from getSessionInfo: 'none' when it has none, unknown until seen.
  #storeTtl: number | 'none' | undefined;
  #hits = 0;
  #misses = 0;
  #evictions = 0;
  #revalidationFailures = 0;
  // With `revalidate`: the clock tolerance in ms; undefined when off.
  readonly #tolerance: number | undefined;
  // With `revalidate` on a store with readChanges: reads fetch what changed since the entry's version.
  readonly #changes: boolean;

  constructor(inner: SessionStore<TItem>, options: CacheOptions = {}) {
    super(inner);
    const maxSessions = options.maxSessions ?? 1000;
    const maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
    assertPositiveInteger(maxSessions, 'maxSessions');
    assertPositiveInteger(maxBytes, 'maxBytes');
    const maxSessionBytes = options.maxSessionBytes ?? Math.max(1, Math.floor(maxBytes / 4));
    assertPositiveInteger(maxSessionBytes, 'maxSessionBytes');
    if (maxSessionBytes > maxBytes) throw invalid('maxSessionBytes must not exceed maxBytes');
    if (options.ttl !== undefined) assertPositiveInteger(options.ttl, 'ttl');
    this.#ttl = options.ttl;
    this.#maxSessionBytes = maxSessionBytes;
    const revalidate = options.revalidate ?? false;
    if (revalidate !== false) {
      if (revalidate !== true && (typeof revalidate !== 'object' || revalidate === null)) {
        throw invalid('revalidate must be a boolean or { clockToleranceMs }');
      }
      const tolerance = revalidate === true ? DEFAULT_CLOCK_TOLERANCE_MS : (revalidate.clockToleranceMs ?? DEFAULT_CLOCK_TOLERANCE_MS);
      if (!Number.isSafeInteger(tolerance) || tolerance < 0) throw invalid('clockToleranceMs must be a non-negative integer');
      this.#changes = hasReadChanges(inner);
      if (!this.#changes && !hasSessionInfo(inner)) {
        throw new SessionError(SessionErrorCode.Unsupported, 'withCache revalidate needs a store with the readChanges or sessionInfo capability');
      }
      this.#tolerance = tolerance;
    } else {
      this.#tolerance = undefined;
      this.#changes = false;
    }
    // A store without ttl never expires sessions, so there is nothing to learn.
    this.#storeTtl = inner.capabilities.ttl ? undefined : 'none';
    this.#cache = new LRUCache<string, Entry>({
      max: maxSessions,
      maxSize: maxBytes,
      sizeCalculation: (entry) => entry.bytes + ENTRY_OVERHEAD,
      dispose: (_entry, _key, reason) => {
        if (reason === 'evict') this.#evictions++;
      },
    });
  }

  /** Hit/miss figures and occupancy. */
  stats(): CacheStats {
    const total = this.#hits + this.#misses;
    return {
      hits: this.#hits,
      misses: this.#misses,
      hitRate: total === 0 ? 0 : this.#hits / total,
      sessions: this.#cache.size,
      bytes: this.#cache.calculatedSize,
      evictions: this.#evictions,
      revalidationFailures: this.#revalidationFailures,
    };
  }

  /** Drops one session's entry, or every entry: the next read goes to the store. */
  invalidate(sessionId?: string): void {
    if (sessionId === undefined) this.#cache.clear();
    else this.#cache.delete(sessionId);
  }

  #entry(sessionId: string): Entry | undefined {
    const entry = this.#cache.get(sessionId);
    const expiresAt = entry && minDefined(entry.trustedUntil, entry.sessionExpiry);
    if (expiresAt !== undefined && expiresAt <= Date.now()) {
      this.#cache.delete(sessionId);
      return undefined;
    }
    return entry;
  }

  /** Stores an entry, keeping only the newest items that fit `maxSessionBytes`. */
  #put(sessionId: string, entry: Entry): void {
    let { items, complete, bytes } = entry;
    let start = 0;
    while (bytes > this.#maxSessionBytes && start < items.length) {
      bytes -= sizeOf(items[start]!);
      start++;
    }
    if (start > 0) {
      if (start === items.length) {
        this.#cache.delete(sessionId);
        return;
      }
      items = items.slice(start);
      complete = false;
    }
    this.#cache.set(sessionId, { ...entry, items, complete, bytes });
  }

  #version(sessionId: string): number {
    return this.#versions.get(sessionId) ?? 0;
  }

  #bump(sessionId: string, writingDelta: number): number {
    const writing = (this.#writing.get(sessionId) ?? 0) + writingDelta;
    if (writing === 0) this.#writing.delete(sessionId);
    else this.#writing.set(sessionId, writing);
    // Versions come from one process-wide counter, so a forgotten session's version never comes back to a value
    // an in-flight read captured earlier.
    const version = ++this.#clock;
    this.#versions.set(sessionId, version);
    if (writing === 0 && this.#versions.size > 10_000) {
      // Bounded memory: forget idle sessions' versions, and make reads in flight skip their fill.
      this.#versions.delete(sessionId);
      this.#forgotten = version;
    }
    return version;
  }

  /**
   * Runs a write to the store. `update` runs on success only if no other
   * write to the session overlapped this one (so the entry reflects the
   * store's order); otherwise, and on any failure (the outcome may be
   * unknown), the entry is dropped.
   */
  async #write<R>(
    sessionId: string,
    write: () => Promise<R>,
    update?: (result: R, startedAt: number) => void,
    // The update knows the session's revalidation version afterwards (clear: empty), so it may run under `revalidate`.
    keepsVersion = false,
  ): Promise<R> {
    // Through readChanges every read asks the store what changed: a write leaves the entry to the next read.
    if (this.#changes) return write();
    const startedAt = Date.now();
    const mine = this.#bump(sessionId, 1);
    let result: R;
    try {
      result = await write();
    } catch (error) {
      this.#bump(sessionId, -1);
      this.#cache.delete(sessionId);
      throw error;
    }
    const alone = this.#version(sessionId) === mine;
    this.#bump(sessionId, -1);
    if (alone && update && (this.#tolerance === undefined || keepsVersion)) update(result, startedAt);
    else this.#cache.delete(sessionId);
    return result;
  }

  /** The session's expiry after a write that started at `startedAt`; null when it cannot be told. */
  #expiryAfterWrite(startedAt: number): number | undefined | null {
    if (this.#storeTtl === undefined) return null;
    // The store restarts its ttl at its own write time, which is no earlier than startedAt.
    return this.#storeTtl === 'none' ? undefined : startedAt + this.#storeTtl;
  }

  override async getItems(sessionId: string, options?: GetItemsOptions): Promise<TItem[]> {
    this.assertOpen();
    assertSessionId(sessionId);
    const limit = normalizeLimit(options?.limit);
    const entry = limit === 0 ? undefined : this.#entry(sessionId);
    const covers = entry !== undefined && (entry.complete || (limit !== undefined && limit <= entry.items.length));
    if (limit === 0) return this.inner.getItems(sessionId, options);
    if (this.#changes) return this.#readChanges(sessionId, entry, limit, options);
    // Under revalidate, the session's info is read first, before any items: a hit needs it to match the entry,
    // and a miss keeps it as the version of what it reads next (a write in between makes it look older, never newer).
    let known: { info: SessionInfo | undefined; at: number } | undefined;
    if (this.#tolerance !== undefined && covers) {
      const at = Date.now();
      const startClock = this.#clock;
      const info = await this.inner.getSessionInfo!(sessionId);
      known = { info, at };
      // Checked again after the await: a write through this cache may have replaced or dropped the entry meanwhile.
      if (this.#cache.peek(sessionId) === entry && this.#version(sessionId) <= startClock && entry!.version === versionOf(info)) {
        return this.#hit(entry!, limit);
      }
      this.#revalidationFailures++;
      if (this.#cache.peek(sessionId) === entry) this.#cache.delete(sessionId);
    } else if (covers) {
      return this.#hit(entry!, limit);
    }
    this.#misses++;
    const startClock = this.#clock;
    const quiet = !this.#writing.has(sessionId);
    const readAt = Date.now();
    let items: TItem[];
    let info: SessionInfo | undefined;
    let asked: boolean;
    if (this.#tolerance !== undefined) {
      if (!known) known = { info: await this.inner.getSessionInfo!(sessionId), at: readAt };
      items = await this.inner.getItems(sessionId, options);
      info = known.info;
      asked = true;
    } else {
      asked = this.#storeTtl !== 'none' && hasSessionInfo(this.inner);
      [items, info] = await Promise.all([
        this.inner.getItems(sessionId, options),
        asked ? this.inner.getSessionInfo!(sessionId) : Promise.resolve(undefined),
      ]);
    }
    // Fill only if no write to this session started or ended while reading.
    if (quiet && this.#version(sessionId) <= startClock && this.#forgotten <= startClock) {
      if (this.#tolerance === undefined) this.#fill(sessionId, items, limit, readAt, asked, info);
      // Trust the version only if the session's last write was stamped safely before the info was read: a later
      // write then carries a later updatedAt even from a lagging clock, so it cannot look like this version.
      else if (!known!.info || known!.info.updatedAt.getTime() + this.#tolerance < known!.at) {
        this.#fill(sessionId, items, limit, readAt, asked, info, versionOf(known!.info));
      }
    }
    return items;
  }

  /**
   * A read under `revalidate` through the store's `readChanges`: the items
   * appended since the entry's version are added to it, or the whole history
   * replaces it; the answer is copies of the entry's newest items. A tail
   * read of a session not cached goes to the store (O(limit), not cached).
   */
  async #readChanges(sessionId: string, entry: Entry | undefined, limit: number | undefined, options: GetItemsOptions | undefined): Promise<TItem[]> {
    // A tail entry answers only tail reads: a full read needs the whole history.
    const base = entry?.changes !== undefined && (entry.complete || limit !== undefined) ? entry : undefined;
    if (base === undefined && limit !== undefined) return this.#tailMiss(sessionId, options);
    // Entries share their items array and appends push into it in place, so what `base` held is its first
    // `baseLength` items: by the time the store answers, another read or a write may have pushed more.
    const baseLength = base?.items.length ?? 0;
    const changes = await this.inner.readChanges!(sessionId, base?.changes, options);
    const appended = !changes.whole && base !== undefined;
    let current: Pick<Entry, 'items' | 'complete'> = base!;
    if (!appended || changes.items.length > 0) {
      let items: unknown[];
      let bytes: number;
      if (appended) {
        // Appended to what the entry holds: O(new items) from the store. In place while the entry is current
        // (#put then makes a new entry object, so a read that started from this one copies instead, only
        // what `base` held: the items pushed since are among `changes.items` too).
        items = this.#cache.peek(sessionId) === base ? base.items : base.items.slice(0, baseLength);
        bytes = base.bytes;
        for (const item of changes.items) {
          items.push(item);
          bytes += sizeOf(item);
        }
      } else {
        // Changed other than by appends since the entry's version (a tail entry asked for a full read is not).
        if (base !== undefined) this.#revalidationFailures++;
        items = changes.items;
        bytes = 0;
        for (const item of items) bytes += sizeOf(item);
      }
      // The items read are this cache's own (fresh from the store's decoding); callers get copies.
      current = { items, complete: appended ? base.complete : true };
      this.#put(sessionId, {
        ...current,
        bytes,
        trustedUntil: this.#ttl === undefined ? undefined : Date.now() + this.#ttl,
        sessionExpiry: undefined,
        changes: changes.version,
      });
    }
    if (!current.complete && limit! > current.items.length) return this.#tailMiss(sessionId, options);
    if (!appended) this.#misses++;
    return this.#hit(current, limit, appended);
  }

  /** A tail read longer than the tail entry holds: from the store, as a miss. */
  #tailMiss(sessionId: string, options: GetItemsOptions | undefined): Promise<TItem[]> {
    this.#misses++;
    return this.inner.getItems(sessionId, options);
  }

  // Deep copies of the cached values (no parse, no validation: they were validated when cached).
  #hit(entry: Pick<Entry, 'items'>, limit: number | undefined, count = true): TItem[] {
    if (count) this.#hits++;
    const all = entry.items;
    const start = limit === undefined || limit >= all.length ? 0 : all.length - limit;
    const out = new Array<TItem>(all.length - start);
    for (let i = start; i < all.length; i++) out[i - start] = copyItem(all[i]) as TItem;
    return out;
  }

  /** `asked`: whether `info` (the session's info, read beside the items; undefined when the session is empty) was asked for. */
  #fill(
    sessionId: string,
    items: readonly TItem[],
    limit: number | undefined,
    readAt: number,
    asked: boolean,
    info: SessionInfo | undefined,
    version?: string,
  ): void {
    let sessionExpiry: number | undefined;
    if (asked) {
      if (info) {
        sessionExpiry = info.expiresAt?.getTime();
        this.#storeTtl = info.expiresAt ? info.expiresAt.getTime() - info.updatedAt.getTime() : 'none';
      }
    } else if (this.#storeTtl === undefined && this.#ttl === undefined) {
      // A ttl-capable store without getSessionInfo: its expiry cannot be seen and no `ttl` bounds trust, so don't cache.
      return;
    }
    // Copies of the newest items that fit the session's budget (the caller owns `items`): a history longer
    // than the budget costs O(budget) here, not O(history).
    let bytes = 0;
    let start = items.length;
    while (start > 0) {
      const size = sizeOf(items[start - 1]);
      if (bytes + size > this.#maxSessionBytes) break;
      bytes += size;
      start--;
    }
    if (start === items.length) {
      this.#cache.delete(sessionId);
      return;
    }
    if (start > 0 && this.#cache.peek(sessionId)) {
      // It does not fit and a (tail) entry is already here and current: keep it rather than copy a new tail.
      return;
    }
    const kept = new Array<unknown>(items.length - start);
    for (let i = start; i < items.length; i++) kept[i - start] = copyItem(items[i]);
    this.#put(sessionId, {
      items: kept,
      complete: start === 0 && (limit === undefined || items.length < limit),
      bytes,
      trustedUntil: this.#ttl === undefined ? undefined : readAt + this.#ttl,
      sessionExpiry,
      ...(version !== undefined ? { version } : {}),
    });
  }

  override async addItems(sessionId: string, items: readonly TItem[], options?: AddItemsOptions): Promise<void> {
    this.assertOpen();
    assertAppendOptions(options, this.capabilities);
    assertSessionId(sessionId);
    // Validated and encoded once, before the write: the store gets, and the cache keeps, exactly what was checked.
    // The layers below take the encoded batch as it is (appendEncoded), so nothing encodes it again.
    const decoded: unknown[] = [];
    const encoded = encodeItems(items, decoded);
    return this.#append(sessionId, encoded, options, decoded);
  }

  override async [appendEncoded](sessionId: string, encoded: EncodedItem[], options?: AddItemsOptions): Promise<void> {
    this.assertOpen();
    assertAppendOptions(options, this.capabilities);
    assertSessionId(sessionId);
    return this.#append(sessionId, encoded, options);
  }

  /** `decoded`: the batch as decoding `encoded` gives it, when already at hand (fresh values the cache may keep). */
  async #append(sessionId: string, encoded: EncodedItem[], options: AddItemsOptions | undefined, decoded?: unknown[]): Promise<void> {
    await this.#write(
      sessionId,
      () => appendEncodedTo(this.inner, sessionId, encoded, options),
      (_, startedAt) => {
        if (encoded.length === 0) return;
        const entry = this.#entry(sessionId);
        if (!entry) return;
        const sessionExpiry = this.#expiryAfterWrite(startedAt);
        if (sessionExpiry === null) {
          this.#cache.delete(sessionId);
          return;
        }
        const added = decoded ?? decodeItems(encoded);
        let bytes = entry.bytes;
        for (const item of added) bytes += sizeOf(item);
        // Append in place (O(batch)); a new entry object makes the LRU recount its size.
        for (const item of added) entry.items.push(item);
        this.#put(sessionId, { ...entry, bytes, sessionExpiry });
      },
    );
  }

  override async popItem(sessionId: string, options?: CallOptions): Promise<TItem | undefined> {
    this.assertOpen();
    return this.#write(sessionId, () => this.inner.popItem(sessionId, options));
  }

  override async clearSession(sessionId: string, options?: CallOptions): Promise<void> {
    this.assertOpen();
    await this.#write(
      sessionId,
      () => this.inner.clearSession(sessionId, options),
      () => this.#putEmpty(sessionId),
      true,
    );
  }

  // An empty session does not expire, and the cache ttl still bounds trust in "empty". Under revalidate,
  // "empty" is exact too: any later write makes the session non-empty, which its info shows.
  #putEmpty(sessionId: string): void {
    this.#put(sessionId, {
      items: [],
      complete: true,
      bytes: 0,
      trustedUntil: this.#ttl === undefined ? undefined : Date.now() + this.#ttl,
      sessionExpiry: undefined,
      ...(this.#tolerance !== undefined ? { version: EMPTY_VERSION } : {}),
    });
  }

  /**
   * Write-through: when no other write to the session overlapped, the entry
   * becomes the new history. Under `revalidate` only an empty replacement is
   * kept (its version is "empty", as after a clear); a non-empty one's new
   * info is known to the store alone, so the entry is dropped and the next
   * read fills it. A failed replacement drops the entry (outcome unknown).
   */
  override async replaceHistory(sessionId: string, items: readonly TItem[], options?: CallOptions): Promise<void> {
    this.require('replaceHistory', 'replaceHistory');
    assertSessionId(sessionId);
    const encoded = encodeItems(items);
    const empty = encoded.length === 0;
    await this.#write(
      sessionId,
      () => this.inner.replaceHistory!(sessionId, decodeItems<TItem>(encoded), options),
      (_, startedAt) => {
        if (empty) return this.#putEmpty(sessionId);
        const sessionExpiry = this.#expiryAfterWrite(startedAt);
        if (sessionExpiry === null) {
          this.#cache.delete(sessionId);
          return;
        }
        const values = decodeItems(encoded);
        let bytes = 0;
        for (const item of values) bytes += sizeOf(item);
        this.#put(sessionId, {
          items: values,
          complete: true,
          bytes,
          trustedUntil: this.#ttl === undefined ? undefined : Date.now() + this.#ttl,
          sessionExpiry,
        });
      },
      empty,
    );
  }

  override async applyHistoryTransaction(
    sessionId: string,
    args: HistoryTransactionArgs<TItem>,
    options?: CallOptions,
  ): Promise<void> {
    this.require('transactions', 'applyHistoryTransaction');
    await this.#write(sessionId, () => this.inner.applyHistoryTransaction!(sessionId, args, options));
  }

  override async prune(options: PruneOptions): Promise<number> {
    this.require('prune', 'prune');
    try {
      return await this.inner.prune!(options);
    } finally {
      // Any session may be gone now.
      this.#cache.clear();
    }
  }

  override async close(): Promise<void> {
    try {
      // Calls in flight finish first (and may fill entries): cleared after them.
      await super.close();
    } finally {
      this.#cache.clear();
    }
  }
}

/**
 * Caches recent history per session in an LRU (by sessions and by bytes),
 * write-through, with exact `limit` semantics. See docs/decorators/cache.md.
 */
export function withCache<TItem = SessionItem>(
  options: CacheOptions = {},
): (store: SessionStore<TItem>) => CacheStore<TItem> {
  return (store) => new CacheStore<TItem>(store, options);
}
