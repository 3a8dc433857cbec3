import { inspect } from 'node:util';
import {
  SessionError,
  SessionErrorCode,
  type CallOptions,
  type GetItemsOptions,
  type HistoryMutationArgs,
  type SessionInfo,
  type StoreCapabilities,
} from '@sessionkit/core';
import {
  AbstractSessionStore,
  checkExpectedLength,
  conflicts,
  normalizeTtl,
  suffixMatches,
  type EncodedItem,
  type PreparedTransaction,
} from '@sessionkit/core/adapter';
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
  'non-boolean-capability': { description: 'declares persistent as 1 instead of true', caughtBy: ['basic.capabilities'] },
  'clear-unknown-throws': { description: 'clearSession of a session that was never written throws', caughtBy: ['basic.empty-session'] },
  'prepends-batches': { description: 'puts each new batch before the older items', caughtBy: ['basic.append-read'] },
  'empty-batch-clears': { description: 'treats an empty batch as "the history is now empty"', caughtBy: ['basic.empty-batch'] },
  'soft-clear': {
    description: 'clearSession only hides the items, and the next write brings them back',
    caughtBy: ['basic.clear'],
  },
  'caches-decoded-items': {
    description: 'hands out the objects of its own read cache, so a caller changing a returned item changes later reads',
    caughtBy: ['basic.no-aliasing'],
  },
  'session-factory-ignores-id': { description: 'store.session(id) binds every session to one fixed id', caughtBy: ['basic.bound-session'] },
  'limit-off-by-one': {
    description: 'computes the tail as slice(length - limit), so a limit larger than the history wraps around',
    caughtBy: ['limit.larger-than-history'],
  },
  'pop-forgets-count': {
    description: 'takes the tail from a count of appended items that pops do not lower',
    caughtBy: ['limit.after-pop-and-append'],
  },
  'tail-within-first-page': { description: 'finds the tail within the first 256 items only', caughtBy: ['limit.long-history'] },
  'truncates-long-ids': { description: 'keys sessions by the first 255 code units of the id', caughtBy: ['ids.hostile'] },
  'accepts-empty-id': { description: 'reads the empty id as an unknown session instead of refusing it', caughtBy: ['ids.invalid'] },
  'drops-provider-data': { description: 'strips providerData from the items it stores', caughtBy: ['fidelity.sdk-items'] },
  'sorts-keys': { description: 'stores items with their keys sorted, as a JSONB column does', caughtBy: ['fidelity.json-values'] },
  'rounds-numbers': { description: 'stores numbers with 15 significant digits (0.1 + 0.2 reads back as 0.3)', caughtBy: ['fidelity.numbers'] },
  'bytes-become-arrays': { description: 'returns Uint8Array values as plain arrays of numbers', caughtBy: ['fidelity.bytes'] },
  'undefined-becomes-null': { description: 'stores properties whose value is undefined as null', caughtBy: ['fidelity.undefined-properties'] },
  'truncates-big-strings': { description: 'cuts strings longer than 65 535 characters, as a TEXT column does', caughtBy: ['fidelity.large-items'] },
  'nesting-limit': {
    description: 'refuses items nested more than 100 levels deep, as BSON does',
    caughtBy: ['fidelity.deep-nesting'],
  },
  'accepts-array-likes': { description: 'turns an array-like object into a batch instead of refusing it', caughtBy: ['input.not-an-array'] },
  'coerces-operation-id': { description: 'accepts a number as operationId by converting it to text', caughtBy: ['input.transaction-arguments'] },
  'shared-write-buffer': {
    description: 'stages every batch in one buffer shared by all sessions, so parallel writes to two sessions swap items',
    caughtBy: ['concurrency.parallel-sessions'],
  },
  'pop-rewrites-history': {
    description: 'pops by reading the history, awaiting, and writing it back shortened, so an append in between is lost',
    caughtBy: ['concurrency.pop-with-append'],
  },
  'per-handle-lock': {
    description: 'serialises its read-modify-writes with a lock inside each handle only, so two handles lose batches and pop twice',
    caughtBy: ['concurrency.two-handles', 'concurrency.two-handle-pops'],
  },
  'transaction-not-atomic': {
    description: 'checks the suffix, awaits, then writes what it computed before, so a racing append is lost',
    caughtBy: ['concurrency.transaction-vs-append'],
  },
  'handle-cache': {
    description: 'caches each session in the handle, so it never sees another handle’s pops and clears',
    caughtBy: ['persistence.shared-handles'],
  },
  'forgets-log-on-reopen': {
    description: 'keeps the operation log in the handle: a reopened handle applies a repeated transaction again',
    caughtBy: ['persistence.transaction-log'],
  },
  'ignores-bad-expected-length': {
    description: 'ignores an expectedLength that is not a non-negative integer instead of refusing it',
    caughtBy: ['tx.preconditions-validated'],
  },
  'tx-append-prepends': { description: 'append_items inserts the items before the history', caughtBy: ['tx.append'] },
  'suffix-compared-as-text': {
    description: 'compares the expected suffix to the stored text, so equal items with another key order never match',
    caughtBy: ['tx.replace-suffix'],
  },
  'log-ignores-fingerprint': {
    description: 'treats any transaction under a used operation id as the repeat, even a different one',
    caughtBy: ['tx.conflicting-reuse'],
  },
  'global-operation-log': { description: 'keeps one operation log for all sessions', caughtBy: ['tx.per-session-log'] },
  'short-operation-log': { description: 'remembers only the newest 10 operation ids', caughtBy: ['tx.recent-log'] },
  'list-info-without-counts': { description: 'lists sessions with itemCount 0, as a bare key scan would', caughtBy: ['list.info'] },
  'lenient-page-size': { description: 'answers an invalid page size with the default page size', caughtBy: ['list.invalid-page-size'] },
  'prune-accepts-numbers': { description: 'accepts olderThan as epoch milliseconds', caughtBy: ['prune.invalid'] },
  'prune-counts-expired': {
    description: 'counts sessions that ttl had already expired in the number prune returns',
    caughtBy: ['prune.ttl-expired'],
  },
  'ttl-from-creation': { description: 'counts the ttl from the session’s first write, not its last', caughtBy: ['ttl.refreshed-by-writes'] },
  'replace-appends': { description: 'replaceHistory appends the new items after the old ones', caughtBy: ['replace.read-back'] },
  'replace-empty-ignored': {
    description: 'treats an empty replacement as "nothing to do" and keeps the old history',
    caughtBy: ['replace.empty'],
  },
  'replace-resets-created-at': {
    description: 'replaceHistory recreates the session, so createdAt becomes the time of the replacement',
    caughtBy: ['replace.keeps-created-at'],
  },
  'replace-forgets-operation-log': {
    description: 'replaceHistory clears the session first, operation log included, so a replayed transaction applies again',
    caughtBy: ['replace.keeps-operation-log'],
  },
  'replace-partial-on-bad-input': {
    description: 'replaceHistory clears, then appends item by item, so a bad item at the end leaves a partial history',
    caughtBy: ['replace.refused-changes-nothing'],
  },
  'mutation-replaces-every-call': {
    description: 'replace_function_call replaces every call with the callId instead of dropping the later duplicates',
    caughtBy: ['mutations.replace-first-call'],
  },
  'mutation-appends-when-missing': {
    description: 'replace_function_call appends the replacement when no call has the callId',
    caughtBy: ['mutations.missing-call-id'],
  },
  'mutation-validates-lazily': {
    description: 'applies mutations one by one, checking each only when it is reached, so an invalid one leaves the earlier ones applied',
    caughtBy: ['mutations.invalid-args'],
  },
  'mutation-rewrites-history': {
    description: 'applies mutations by read, await, replace the whole history, so an append in between is lost',
    caughtBy: ['mutations.concurrent-appends'],
  },
  'clear-decodes-first': {
    description: 'decodes every item before clearing (to report what it deletes), so a corrupt session cannot be cleared',
    caughtBy: ['corrupt.clear-recovers'],
  },
} as const satisfies Record<string, { description: string; caughtBy: readonly string[] }>;

export type BrokenStoreFlaw = keyof typeof BROKEN_STORES;

interface Entry {
  items: EncodedItem[];
  created: number;
  updated: number;
  /** `soft-clear`: cleared, but the items are still there. */
  hidden?: boolean;
  /** `pop-forgets-count`: items ever appended (pops do not lower it). */
  appended?: number;
}

/** What a harness keeps between handles: the "backend". */
interface Backend {
  sessions: Map<string, Entry>;
  /** Per-session operation logs: operation id → fingerprint. */
  ops: Map<string, Map<string, string>>;
}

const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 1));

const isCallItem = (item: unknown, callId: string) =>
  (item as { type?: unknown } | null)?.type === 'function_call' && (item as { callId?: unknown }).callId === callId;

/** The mutation flaws' own replace_function_call: the first match replaced, later ones dropped (or, with `every`, all replaced). */
function replaceCalls(items: unknown[], callId: string, replacement: unknown, every: boolean): unknown[] {
  let seen = false;
  const out: unknown[] = [];
  for (const item of items) {
    if (!isCallItem(item, callId)) out.push(item);
    else if (every || !seen) out.push(structuredClone(replacement));
    seen ||= isCallItem(item, callId);
  }
  return out;
}

/** Where a flawed store keeps `sessionId` (the harness injects corrupt items there too). */
function keyFor(flaw: BrokenStoreFlaw | undefined, sessionId: string): string {
  if (flaw === 'ignores-session-id') return 'everyone';
  if (flaw === 'prefix-collision') return sessionId.replace(/[^A-Za-z0-9]/g, '_');
  if (flaw === 'truncates-long-ids') return sessionId.slice(0, 255);
  return sessionId;
}

/** Re-encodes a stored JSON text through `reviver`: how the value-changing flaws alter what they keep. */
const rewrite = (encoded: EncodedItem, reviver: (key: string, value: unknown) => unknown): EncodedItem =>
  JSON.stringify(JSON.parse(encoded, reviver)) as EncodedItem;

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  // fromEntries defines own properties, so "__proto__" stays a key.
  return Object.fromEntries(Object.keys(value).sort().map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]));
}

function depthOf(value: unknown): number {
  let depth = 0;
  let level: unknown[] = [value];
  while (level.length) {
    level = level.flatMap((v) => (v !== null && typeof v === 'object' ? Object.values(v as object) : []));
    if (level.length) depth++;
  }
  return depth;
}

function mapDeep(value: unknown, fn: (value: unknown) => unknown): unknown {
  const mapped = fn(value);
  if (mapped !== value) return mapped;
  if (Array.isArray(value)) return value.map((v) => mapDeep(v, fn));
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapDeep(v, fn)]));
}

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
    replaceHistory: true,
    historyMutations: true,
  };
  readonly #ttl: number | undefined;
  /** `per-handle-lock`: serialises this handle's read-modify-writes only. */
  #queue: Promise<unknown> = Promise.resolve();
  /** `shared-write-buffer`: one staging area for every session. */
  #pending: EncodedItem[] = [];
  /** `handle-cache`: whole histories this handle read, dropped only by its own writes. */
  readonly #cache = new Map<string, EncodedItem[]>();
  /** `caches-decoded-items`: decoded items handed out as they are, by their JSON. */
  readonly #decoded = new Map<string, unknown>();

  constructor(
    private readonly backend: Backend,
    private readonly flaw: BrokenStoreFlaw | undefined,
    ttl?: number,
  ) {
    super();
    this.#ttl = normalizeTtl(ttl);
    if (flaw === 'non-boolean-capability') this.capabilities = { ...this.capabilities, persistent: 1 as unknown as boolean };
  }

  #key(sessionId: string): string {
    return keyFor(this.flaw, sessionId);
  }

  #expired(entry: Entry, now = Date.now()): boolean {
    if (this.#ttl === undefined || this.flaw === 'ignores-ttl') return false;
    return now - (this.flaw === 'ttl-from-creation' ? entry.created : entry.updated) >= this.#ttl;
  }

  #live(sessionId: string): Entry | undefined {
    const key = this.#key(sessionId);
    const entry = this.backend.sessions.get(key);
    if (entry && this.#expired(entry)) {
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

  #serialised<R>(task: () => Promise<R>): Promise<R> {
    const next = this.#queue.then(task, task);
    this.#queue = next.catch(() => {});
    return next;
  }

  #opsKey(sessionId: string): string {
    return this.flaw === 'global-operation-log' ? '*all*' : this.#key(sessionId);
  }

  override async getItems(sessionId: string, options?: GetItemsOptions): Promise<unknown[]> {
    const limit = options?.limit;
    if (this.flaw === 'limit-zero-returns-all' && limit === 0) return super.getItems(sessionId);
    if (this.flaw === 'accepts-negative-limit' && typeof limit === 'number' && limit < 0) return [];
    if (this.flaw === 'untyped-errors' && limit !== undefined && !Number.isSafeInteger(limit)) throw new RangeError('bad limit');
    if (this.flaw === 'accepts-empty-id' && sessionId === '') return [];
    const items = await super.getItems(sessionId, options);
    if (this.flaw === 'bytes-become-arrays') return items.map((item) => mapDeep(item, (v) => (v instanceof Uint8Array ? Array.from(v) : v)));
    if (this.flaw === 'caches-decoded-items') {
      return items.map((item) => {
        const json = JSON.stringify(item);
        if (!this.#decoded.has(json)) this.#decoded.set(json, item);
        return this.#decoded.get(json);
      });
    }
    return items;
  }

  override async addItems(sessionId: string, items: readonly unknown[], options?: CallOptions): Promise<void> {
    if (this.flaw === 'partial-batch-on-bad-input' && Array.isArray(items)) {
      for (const item of items) await super.addItems(sessionId, [item], options);
      return;
    }
    if (this.flaw === 'empty-batch-clears' && Array.isArray(items) && items.length === 0) {
      this.backend.sessions.delete(this.#key(sessionId));
      return;
    }
    if (this.flaw === 'accepts-array-likes' && items && typeof items === 'object' && !Array.isArray(items) && 'length' in items) {
      items = Array.from(items as ArrayLike<unknown>);
    }
    if (this.flaw === 'undefined-becomes-null' && Array.isArray(items)) {
      items = items.map((item) =>
        mapDeep(item, (v) =>
          v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array)
            ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, x === undefined ? null : x]))
            : v,
        ),
      );
    }
    try {
      await super.addItems(sessionId, items, options);
    } catch (error) {
      if (this.flaw !== 'leaks-content-in-errors') throw error;
      throw new SessionError(SessionErrorCode.InvalidItem, `cannot store ${inspect(items)} in ${sessionId}`);
    }
  }

  override applyHistoryTransaction(sessionId: string, args: Parameters<AbstractSessionStore['applyHistoryTransaction']>[1], options?: CallOptions) {
    const raw = args as unknown as Record<string, unknown> | null | undefined;
    if (this.flaw === 'coerces-operation-id' && raw && typeof raw.operationId === 'number') {
      args = { ...args, operationId: String(raw.operationId) };
    }
    if (this.flaw === 'ignores-bad-expected-length' && raw && 'expectedLength' in raw) {
      const length = raw.expectedLength;
      if (!(typeof length === 'number' && Number.isSafeInteger(length) && length >= 0)) {
        const { expectedLength: _dropped, ...rest } = args;
        args = rest;
      }
    }
    return super.applyHistoryTransaction(sessionId, args, options);
  }

  override async replaceHistory(sessionId: string, items: readonly unknown[], options?: CallOptions): Promise<void> {
    if (this.flaw === 'replace-partial-on-bad-input' && Array.isArray(items)) {
      await super.replaceHistory(sessionId, [], options);
      for (const item of items) await super.addItems(sessionId, [item], options);
      return;
    }
    if (this.flaw === 'replace-empty-ignored' && Array.isArray(items) && items.length === 0) return;
    return super.replaceHistory(sessionId, items, options);
  }

  override async applyHistoryMutations(sessionId: string, args: HistoryMutationArgs, options?: CallOptions): Promise<void> {
    switch (this.flaw) {
      case 'mutation-validates-lazily': {
        const mutations = (args as { mutations?: unknown } | undefined)?.mutations;
        if (!Array.isArray(mutations)) return super.applyHistoryMutations(sessionId, args, options);
        for (const mutation of mutations) await super.applyHistoryMutations(sessionId, { mutations: [mutation] }, options);
        return;
      }
      case 'mutation-rewrites-history': {
        const items = await this.getItems(sessionId, options);
        await tick();
        let next = items;
        for (const m of args.mutations) next = replaceCalls(next, m.callId, m.replacement, false);
        await this.replaceHistory(sessionId, next, options);
        return;
      }
      case 'mutation-replaces-every-call':
      case 'mutation-appends-when-missing': {
        let next = await this.getItems(sessionId, options);
        for (const m of args.mutations) {
          const found = next.some((item) => isCallItem(item, m.callId));
          next = replaceCalls(next, m.callId, m.replacement, this.flaw === 'mutation-replaces-every-call');
          if (!found && this.flaw === 'mutation-appends-when-missing') next = [...next, m.replacement];
        }
        await this.replaceHistory(sessionId, next, options);
        return;
      }
      default:
        return super.applyHistoryMutations(sessionId, args, options);
    }
  }

  override listSessions(options: Parameters<AbstractSessionStore['listSessions']>[0] = {}) {
    const size = options.pageSize;
    if (this.flaw === 'lenient-page-size' && size !== undefined && !(Number.isSafeInteger(size) && size > 0)) return super.listSessions({});
    return super.listSessions(options);
  }

  override prune(options: Parameters<AbstractSessionStore['prune']>[0]) {
    const olderThan = (options as { olderThan?: unknown } | undefined)?.olderThan;
    if (this.flaw === 'prune-accepts-numbers' && typeof olderThan === 'number') return super.prune({ olderThan: new Date(olderThan) });
    return super.prune(options);
  }

  override session(sessionId: string, settings?: Parameters<AbstractSessionStore['session']>[1]) {
    return super.session(this.flaw === 'session-factory-ignores-id' ? 'default' : sessionId, settings);
  }

  override async close(): Promise<void> {
    if (this.flaw !== 'usable-after-close') await super.close();
  }

  protected async _getItems(sessionId: string, limit: number | undefined): Promise<EncodedItem[]> {
    const key = this.#key(sessionId);
    if (this.flaw === 'handle-cache' && limit === undefined && this.#cache.has(key)) return [...this.#cache.get(key)!];
    const entry = this.#live(sessionId);
    if (entry?.hidden) return [];
    let items = [...(entry?.items ?? [])];
    if (this.flaw === 'handle-cache' && limit === undefined) this.#cache.set(key, [...items]);
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
    switch (this.flaw) {
      case 'oldest-instead-of-newest':
        return items.slice(0, limit);
      case 'limit-off-by-one':
        return items.slice(items.length - limit);
      case 'pop-forgets-count': {
        const end = entry?.appended ?? items.length;
        return items.slice(Math.max(0, end - limit), end);
      }
      case 'tail-within-first-page':
        return items.slice(0, 256).slice(-limit);
      default:
        return items.slice(-limit);
    }
  }

  #stored(items: EncodedItem[]): EncodedItem[] {
    switch (this.flaw) {
      case 'normalizes-unicode':
        return items.map((item) => item.normalize('NFC'));
      case 'drops-provider-data':
        return items.map((item) => rewrite(item, (key, value) => (key === 'providerData' ? undefined : value)));
      case 'sorts-keys':
        return items.map((item) => JSON.stringify(sortKeys(JSON.parse(item))));
      case 'rounds-numbers':
        return items.map((item) => rewrite(item, (_, value) => (typeof value === 'number' ? Number(value.toPrecision(15)) : value)));
      case 'truncates-big-strings':
        return items.map((item) => rewrite(item, (_, value) => (typeof value === 'string' ? value.slice(0, 65_535) : value)));
      case 'nesting-limit':
        for (const item of items) {
          if (depthOf(JSON.parse(item)) > 100) throw new SessionError(SessionErrorCode.InvalidItem, 'item is nested too deeply');
        }
        return items;
      default:
        return items;
    }
  }

  protected async _addItems(sessionId: string, items: EncodedItem[]): Promise<void> {
    this.#cache.delete(this.#key(sessionId));
    const stored = this.#stored(items);
    if (this.flaw === 'loses-concurrent-batch') {
      const before = [...(this.#live(sessionId)?.items ?? [])];
      await tick();
      this.#entry(sessionId).items = [...before, ...stored];
      return;
    }
    if (this.flaw === 'per-handle-lock') {
      return this.#serialised(async () => {
        const before = [...(this.#live(sessionId)?.items ?? [])];
        await tick();
        this.#entry(sessionId).items = [...before, ...stored];
      });
    }
    if (this.flaw === 'shared-write-buffer') {
      this.#pending = stored;
      await tick();
      this.#entry(sessionId).items.push(...this.#pending);
      return;
    }
    const target = this.#entry(sessionId);
    if (target.hidden) target.hidden = false; // soft-clear: the hidden items come back
    if (this.flaw === 'prepends-batches') target.items.unshift(...stored);
    else target.items.push(...stored);
    target.appended = (target.appended ?? 0) + stored.length;
  }

  protected async _popItem<R>(sessionId: string, decode: (encoded: EncodedItem) => R): Promise<R | undefined> {
    this.#cache.delete(this.#key(sessionId));
    const entry = this.#live(sessionId);
    if (!entry || entry.items.length === 0 || entry.hidden) return undefined;
    if (this.flaw === 'racy-pop') {
      const last = entry.items.at(-1)!;
      await tick();
      entry.items.pop();
      this.#entry(sessionId);
      this.#dropIfEmpty(sessionId, entry);
      return decode(last);
    }
    if (this.flaw === 'pop-rewrites-history' || this.flaw === 'per-handle-lock') {
      const rewriteTail = async () => {
        const before = [...(this.#live(sessionId)?.items ?? [])];
        if (before.length === 0) return undefined;
        const value = decode(before.at(-1)!);
        await tick();
        const target = this.#entry(sessionId);
        target.items = before.slice(0, -1);
        this.#dropIfEmpty(sessionId, target);
        return value;
      };
      return this.flaw === 'per-handle-lock' ? this.#serialised(rewriteTail) : rewriteTail();
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
    this.#cache.delete(key);
    const entry = this.backend.sessions.get(key);
    if (this.flaw === 'clear-unknown-throws' && !entry) throw new SessionError(SessionErrorCode.InvalidArgument, 'no such session');
    if (this.flaw === 'clear-decodes-first') for (const item of entry?.items ?? []) JSON.parse(item);
    if (this.flaw === 'soft-clear') {
      if (entry) entry.hidden = true;
    } else if (this.flaw === 'lists-empty-sessions') {
      if (entry) entry.items = [];
    } else this.backend.sessions.delete(key);
    if (this.flaw !== 'clear-keeps-operation-log') this.backend.ops.delete(this.#opsKey(sessionId));
  }

  protected override async _applyHistoryTransaction(sessionId: string, tx: PreparedTransaction): Promise<void> {
    this.#cache.delete(this.#key(sessionId));
    const opsKey = this.#opsKey(sessionId);
    const entry = this.#live(sessionId);
    let log = this.backend.ops.get(opsKey);
    const count = entry?.items.length ?? 0;
    if (this.flaw === 'length-checked-before-log') checkExpectedLength(tx, count);
    const seen = log?.get(tx.operationId);
    if (seen !== undefined && this.flaw !== 'reapplies-transaction') {
      if (seen === tx.fingerprint || this.flaw === 'log-ignores-fingerprint') return;
      throw conflicts.operationReused();
    }
    if (this.flaw !== 'ignores-expected-length') checkExpectedLength(tx, count);
    const items = entry?.items ?? [];
    const keep = items.length - tx.expectedSuffix.length;
    const matches =
      keep >= 0 &&
      (this.flaw === 'suffix-compared-as-text'
        ? items.slice(keep).every((item, i) => item === tx.expectedSuffix[i])
        : suffixMatches(items.slice(keep), tx.expectedSuffix));
    if (this.flaw !== 'ignores-suffix' && !matches) throw conflicts.suffixMismatch();
    const kept = items.slice(0, Math.max(0, keep));
    const next =
      this.flaw === 'tx-append-prepends' && tx.type === 'append_items' ? [...tx.replacement, ...kept] : [...kept, ...tx.replacement];
    if (this.flaw === 'transaction-not-atomic') await tick();
    const target = this.#entry(sessionId);
    target.items = next;
    if (!log) this.backend.ops.set(opsKey, (log = new Map()));
    log.set(tx.operationId, tx.fingerprint);
    if (this.flaw === 'short-operation-log' && log.size > 10) log.delete(log.keys().next().value!);
    this.#dropIfEmpty(sessionId, target);
  }

  protected override async _replaceHistory(sessionId: string, items: EncodedItem[]): Promise<void> {
    this.#cache.delete(this.#key(sessionId));
    const stored = this.#stored(items);
    if (this.flaw === 'replace-forgets-operation-log') this.backend.ops.delete(this.#opsKey(sessionId));
    const was = this.#live(sessionId);
    if (this.flaw === 'replace-resets-created-at' || !was || was.items.length === 0 || was.hidden) {
      this.backend.sessions.delete(this.#key(sessionId));
    }
    const target = this.#entry(sessionId);
    target.hidden = false;
    target.items = this.flaw === 'replace-appends' ? [...(was?.items ?? []), ...stored] : stored;
    target.appended = stored.length;
    this.#dropIfEmpty(sessionId, target);
  }

  protected override async *_listSessions(pageSize: number): AsyncIterable<SessionInfo> {
    const ids = [...this.backend.sessions.keys()];
    for (let start = 0; start < ids.length; start += pageSize) {
      // A buggy paginator that re-reads the last entry of the previous page.
      const from = this.flaw === 'lists-duplicates' && start > 0 ? start - 1 : start;
      for (const id of ids.slice(from, start + pageSize)) {
        const info = this.#info(id);
        if (info) yield this.flaw === 'list-info-without-counts' ? { ...info, itemCount: 0 } : info;
      }
    }
  }

  #info(sessionId: string): SessionInfo | undefined {
    const entry = this.#live(sessionId);
    if (!entry || entry.hidden || (entry.items.length === 0 && this.flaw !== 'lists-empty-sessions')) return undefined;
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

  /** Deletes what was last written before the cutoff; counts only sessions ttl had not already expired. */
  protected override async _prune(olderThanMs: number): Promise<number> {
    let deleted = 0;
    const now = Date.now();
    for (const [key, entry] of [...this.backend.sessions]) {
      const expired = this.#expired(entry, now);
      if (expired || this.flaw === 'prunes-everything' || entry.updated < olderThanMs) {
        this.backend.sessions.delete(key);
        this.backend.ops.delete(key);
        if (!expired || this.flaw === 'prune-counts-expired') deleted++;
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
  const reopened = (backend: Backend): Backend => {
    if (flaw === 'forgets-on-reopen') return { sessions: new Map(), ops: new Map() };
    if (flaw === 'forgets-log-on-reopen') return { sessions: backend.sessions, ops: new Map() };
    return backend;
  };
  return {
    create: (options = {}) => open({ sessions: new Map(), ops: new Map() }, options.ttl),
    reopen: (store) => open(reopened(backendOf(store)), ttls.get(store)),
    async injectCorruptItem(store, sessionId) {
      const entry = backendOf(store).sessions.get(keyFor(flaw, sessionId));
      if (!entry) throw new Error('inject into an existing session');
      entry.items.push('{"role": "user", "content": ');
      entry.updated = Date.now();
    },
  };
}
