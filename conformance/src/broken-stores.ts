import { inspect } from 'node:util';
import {
  AbstractSessionStore,
  SessionError,
  SessionErrorCode,
  checkExpectedLength,
  conflicts,
  normalizeTtl,
  suffixMatches,
  type CallOptions,
  type EncodedItem,
  type GetItemsOptions,
  type PreparedTransaction,
  type SessionInfo,
  type StoreCapabilities,
} from '@sessionkit/core';
import type { ConformanceHarness } from './harness.js';

/**
 * Deliberate defects, each one a mistake real adapters make. The kit's
 * self-tests run the suite against a store with each flaw and require that
 * the tests named in `caughtBy` fail, and that the same tests pass without
 * the flaw: a suite that cannot fail proves nothing.
 */
export const BROKEN_STORES = {
  'loses-concurrent-batch': {
    description: 'appends by read-modify-write, so a concurrent batch overwrites another',
    caughtBy: ['concurrency.parallel-batches'],
  },
  'oldest-instead-of-newest': {
    description: 'getItems({ limit }) returns the oldest items instead of the newest',
    caughtBy: ['limit.tail'],
  },
  'ignores-session-id': { description: 'keeps every session in one history', caughtBy: ['ids.isolation'] },
  'prefix-collision': {
    description: 'maps ids to keys by replacing non-alphanumerics, so a/b and a_b share data',
    caughtBy: ['ids.prefix-collisions'],
  },
  'skips-corrupt-data': { description: 'silently drops items it cannot decode', caughtBy: ['corrupt.read-reports'] },
  'pop-deletes-corrupt': { description: 'removes the newest item before decoding it', caughtBy: ['corrupt.pop-keeps'] },
  'reapplies-transaction': { description: 'has no operation log: a repeated transaction applies twice', caughtBy: ['tx.idempotent'] },
  'ignores-suffix': { description: 'replace_suffix never checks the expected suffix', caughtBy: ['tx.suffix-mismatch'] },
  'ignores-expected-length': {
    description: 'declares transactionPreconditions but never checks expectedLength',
    caughtBy: ['tx.expected-length'],
  },
  'length-checked-before-log': {
    description: 'checks expectedLength before the operation log, so a retried operation that had landed answers CONFLICT',
    caughtBy: ['tx.identity'],
  },
  'partial-batch-on-bad-input': {
    description: 'writes items one by one, so a bad item leaves the batch half written',
    caughtBy: ['input.invalid-items'],
  },
  'pops-oldest': { description: 'popItem removes the oldest item', caughtBy: ['basic.pop-newest'] },
  'limit-zero-returns-all': { description: 'treats limit 0 as "no limit"', caughtBy: ['limit.zero'] },
  'accepts-negative-limit': { description: 'answers a negative limit with [] instead of refusing it', caughtBy: ['limit.invalid'] },
  'untyped-errors': { description: 'throws a plain RangeError for a bad limit', caughtBy: ['limit.invalid'] },
  'usable-after-close': { description: 'keeps working after close()', caughtBy: ['lifecycle.closed'] },
  'forgets-on-reopen': { description: 'declares persistent but a reopened handle sees nothing', caughtBy: ['persistence.reopen'] },
  'lists-empty-sessions': { description: 'lists sessions that were cleared or popped empty', caughtBy: ['list.excludes-empty'] },
  'lists-duplicates': { description: 'repeats a session across page boundaries', caughtBy: ['list.every-session-once'] },
  'normalizes-unicode': { description: 'stores text NFC-normalised, changing what was written', caughtBy: ['fidelity.unicode'] },
  'ignores-ttl': { description: 'declares ttl but sessions never expire', caughtBy: ['ttl.expires'] },
  'racy-pop': { description: 'pops by read, await, then delete, so concurrent pops return the same item', caughtBy: ['concurrency.parallel-pops'] },
  'clear-keeps-operation-log': { description: 'clearSession leaves the operation log behind', caughtBy: ['tx.clear-forgets-log'] },
  'prunes-everything': { description: 'prune deletes every session whatever the cutoff', caughtBy: ['prune.older-than'] },
  'leaks-content-in-errors': { description: 'puts the refused items into the error message', caughtBy: ['input.errors-are-typed'] },
  'created-at-moves': { description: 'sets createdAt on every write', caughtBy: ['info.lifecycle'] },
} as const satisfies Record<string, { description: string; caughtBy: readonly string[] }>;

export type BrokenStoreFlaw = keyof typeof BROKEN_STORES;

interface Entry {
  items: EncodedItem[];
  created: number;
  updated: number;
}

/** What a harness keeps between handles: the "backend". */
interface Backend {
  sessions: Map<string, Entry>;
  /** Per-session operation logs: operation id → fingerprint. */
  ops: Map<string, Map<string, string>>;
}

const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 1));

/**
 * An in-memory store that is correct unless given a flaw. Without a flaw it
 * must pass the whole suite (the self-tests check that too).
 */
class FlawedStore extends AbstractSessionStore {
  readonly capabilities: StoreCapabilities = {
    transactions: true,
    listSessions: true,
    sessionInfo: true,
    prune: true,
    ttl: true,
    persistent: true,
    atomicReadModifyWrite: true,
    transactionPreconditions: true,
  };
  readonly #ttl: number | undefined;

  constructor(
    private readonly backend: Backend,
    private readonly flaw: BrokenStoreFlaw | undefined,
    ttl?: number,
  ) {
    super();
    this.#ttl = normalizeTtl(ttl);
  }

  #key(sessionId: string): string {
    if (this.flaw === 'ignores-session-id') return 'everyone';
    if (this.flaw === 'prefix-collision') return sessionId.replace(/[^A-Za-z0-9]/g, '_');
    return sessionId;
  }

  #live(sessionId: string): Entry | undefined {
    const key = this.#key(sessionId);
    const entry = this.backend.sessions.get(key);
    if (entry && this.#ttl !== undefined && this.flaw !== 'ignores-ttl' && Date.now() - entry.updated >= this.#ttl) {
      this.backend.sessions.delete(key);
      this.backend.ops.delete(key);
      return undefined;
    }
    return entry;
  }

  #entry(sessionId: string): Entry {
    const now = Date.now();
    let entry = this.#live(sessionId);
    if (!entry) this.backend.sessions.set(this.#key(sessionId), (entry = { items: [], created: now, updated: now }));
    entry.updated = now;
    if (this.flaw === 'created-at-moves') entry.created = now;
    return entry;
  }

  #dropIfEmpty(sessionId: string, entry: Entry): void {
    if (entry.items.length === 0 && this.flaw !== 'lists-empty-sessions') this.backend.sessions.delete(this.#key(sessionId));
  }

  override async getItems(sessionId: string, options?: GetItemsOptions): Promise<unknown[]> {
    const limit = options?.limit;
    if (this.flaw === 'limit-zero-returns-all' && limit === 0) return super.getItems(sessionId);
    if (this.flaw === 'accepts-negative-limit' && typeof limit === 'number' && limit < 0) return [];
    if (this.flaw === 'untyped-errors' && limit !== undefined && !Number.isSafeInteger(limit)) throw new RangeError('bad limit');
    return super.getItems(sessionId, options);
  }

  override async addItems(sessionId: string, items: readonly unknown[], options?: CallOptions): Promise<void> {
    if (this.flaw === 'partial-batch-on-bad-input' && Array.isArray(items)) {
      for (const item of items) await super.addItems(sessionId, [item], options);
      return;
    }
    try {
      await super.addItems(sessionId, items, options);
    } catch (error) {
      if (this.flaw !== 'leaks-content-in-errors') throw error;
      throw new SessionError(SessionErrorCode.InvalidItem, `cannot store ${inspect(items)} in ${sessionId}`);
    }
  }

  override async close(): Promise<void> {
    if (this.flaw !== 'usable-after-close') await super.close();
  }

  protected async _getItems(sessionId: string, limit: number | undefined): Promise<EncodedItem[]> {
    let items = [...(this.#live(sessionId)?.items ?? [])];
    if (this.flaw === 'skips-corrupt-data') {
      items = items.filter((item) => {
        try {
          JSON.parse(item);
          return true;
        } catch {
          return false;
        }
      });
    }
    if (limit === undefined) return items;
    return this.flaw === 'oldest-instead-of-newest' ? items.slice(0, limit) : items.slice(-limit);
  }

  protected async _addItems(sessionId: string, items: EncodedItem[]): Promise<void> {
    const stored = this.flaw === 'normalizes-unicode' ? items.map((item) => item.normalize('NFC')) : items;
    if (this.flaw === 'loses-concurrent-batch') {
      const before = [...(this.#live(sessionId)?.items ?? [])];
      await tick();
      this.#entry(sessionId).items = [...before, ...stored];
      return;
    }
    this.#entry(sessionId).items.push(...stored);
  }

  protected async _popItem<R>(sessionId: string, decode: (encoded: EncodedItem) => R): Promise<R | undefined> {
    const entry = this.#live(sessionId);
    if (!entry || entry.items.length === 0) return undefined;
    if (this.flaw === 'racy-pop') {
      const last = entry.items.at(-1)!;
      await tick();
      entry.items.pop();
      this.#entry(sessionId);
      this.#dropIfEmpty(sessionId, entry);
      return decode(last);
    }
    if (this.flaw === 'pop-deletes-corrupt') {
      const last = entry.items.pop()!;
      this.#dropIfEmpty(sessionId, entry);
      return decode(last);
    }
    const index = this.flaw === 'pops-oldest' ? 0 : entry.items.length - 1;
    const value = decode(entry.items[index]!);
    entry.items.splice(index, 1);
    this.#entry(sessionId);
    this.#dropIfEmpty(sessionId, entry);
    return value;
  }

  protected async _clearSession(sessionId: string): Promise<void> {
    const key = this.#key(sessionId);
    if (this.flaw === 'lists-empty-sessions') {
      const entry = this.backend.sessions.get(key);
      if (entry) entry.items = [];
    } else this.backend.sessions.delete(key);
    if (this.flaw !== 'clear-keeps-operation-log') this.backend.ops.delete(key);
  }

  protected override async _applyHistoryTransaction(sessionId: string, tx: PreparedTransaction): Promise<void> {
    const key = this.#key(sessionId);
    const entry = this.#live(sessionId);
    let log = this.backend.ops.get(key);
    const count = entry?.items.length ?? 0;
    if (this.flaw === 'length-checked-before-log') checkExpectedLength(tx, count);
    const seen = log?.get(tx.operationId);
    if (seen !== undefined && this.flaw !== 'reapplies-transaction') {
      if (seen === tx.fingerprint) return;
      throw conflicts.operationReused();
    }
    if (this.flaw !== 'ignores-expected-length') checkExpectedLength(tx, count);
    const items = entry?.items ?? [];
    const keep = items.length - tx.expectedSuffix.length;
    if (this.flaw !== 'ignores-suffix' && (keep < 0 || !suffixMatches(items.slice(keep), tx.expectedSuffix))) {
      throw conflicts.suffixMismatch();
    }
    const next = [...items.slice(0, Math.max(0, keep)), ...tx.replacement];
    const target = this.#entry(sessionId);
    target.items = next;
    if (!log) this.backend.ops.set(key, (log = new Map()));
    log.set(tx.operationId, tx.fingerprint);
    this.#dropIfEmpty(sessionId, target);
  }

  protected override async *_listSessions(pageSize: number): AsyncIterable<SessionInfo> {
    const ids = [...this.backend.sessions.keys()];
    for (let start = 0; start < ids.length; start += pageSize) {
      // A buggy paginator that re-reads the last entry of the previous page.
      const from = this.flaw === 'lists-duplicates' && start > 0 ? start - 1 : start;
      for (const id of ids.slice(from, start + pageSize)) {
        const info = this.#info(id);
        if (info) yield info;
      }
    }
  }

  #info(sessionId: string): SessionInfo | undefined {
    const entry = this.#live(sessionId);
    if (!entry || (entry.items.length === 0 && this.flaw !== 'lists-empty-sessions')) return undefined;
    return {
      sessionId,
      itemCount: entry.items.length,
      createdAt: new Date(entry.created),
      updatedAt: new Date(entry.updated),
      ...(this.#ttl !== undefined ? { expiresAt: new Date(entry.updated + this.#ttl) } : {}),
    };
  }

  protected override async _getSessionInfo(sessionId: string): Promise<SessionInfo | undefined> {
    return this.#info(sessionId);
  }

  protected override async _prune(olderThanMs: number): Promise<number> {
    let deleted = 0;
    for (const [key, entry] of [...this.backend.sessions]) {
      if (this.flaw === 'prunes-everything' || entry.updated < olderThanMs) {
        this.backend.sessions.delete(key);
        this.backend.ops.delete(key);
        deleted++;
      }
    }
    return deleted;
  }

  protected async _close(): Promise<void> {}
}

/**
 * A harness for an in-memory store with one deliberate `flaw` (or none: the
 * correct reference, which passes every test). Used by the kit's
 * self-tests; a third party can use it to check its own additions to a suite.
 */
export function brokenStoreHarness(flaw?: BrokenStoreFlaw): ConformanceHarness {
  const backends = new WeakMap<object, Backend>();
  const ttls = new WeakMap<object, number | undefined>();
  const open = (backend: Backend, ttl: number | undefined) => {
    const store = new FlawedStore(backend, flaw, ttl);
    backends.set(store, backend);
    ttls.set(store, ttl);
    return store;
  };
  const backendOf = (store: object) => {
    const backend = backends.get(store);
    if (!backend) throw new Error('store was not created by this harness');
    return backend;
  };
  return {
    create: (options = {}) => open({ sessions: new Map(), ops: new Map() }, options.ttl),
    reopen: (store) =>
      open(flaw === 'forgets-on-reopen' ? { sessions: new Map(), ops: new Map() } : backendOf(store), ttls.get(store)),
    async injectCorruptItem(store, sessionId) {
      const backend = backendOf(store);
      const key = flaw === 'prefix-collision' ? sessionId.replace(/[^A-Za-z0-9]/g, '_') : flaw === 'ignores-session-id' ? 'everyone' : sessionId;
      const entry = backend.sessions.get(key);
      if (!entry) throw new Error('inject into an existing session');
      entry.items.push('{"role": "user", "content": ');
      entry.updated = Date.now();
    },
  };
}

