import { inspect } from 'node:util';
import {
  SessionError,
  SessionErrorCode,
  type AddItemsOptions,
  type CallOptions,
  type GetItemsOptions,
  type HistoryMutationArgs,
  type SessionInfo,
  type StoreCapabilities,
} from '@sessionkit/core';
import {
  AbstractSessionStore,
  appendedSince,
  assertSessionId,
  checkExpectedLength,
  conflicts,
  decodeItems,
  encodeItems,
  newEpoch,
  normalizeSince,
  normalizeTtl,
  SessionQueue,
  suffixMatches,
  type EncodedChanges,
  type EncodedItem,
  type HistoryVersion,
  type PreparedTransaction,
} from '@sessionkit/core/adapter';
import { keyFor, tick, type Backend, type Entry } from './backend.js';
import type { BrokenStoreFlaw } from './flaws.js';
import { depthOf, isCallItem, mapDeep, replaceCalls, rewrite, sortKeys } from './values.js';

/** `clear-globs`, `pop-globs`: an id read as a glob pattern, or undefined when it holds no glob characters. */
function globOf(sessionId: string): RegExp | undefined {
  if (!/[*?[\]]/.test(sessionId)) return undefined;
  const source = sessionId.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  try {
    return new RegExp(`^${source}$`, 's');
  } catch {
    return undefined;
  }
}

/** Whether core would refuse `sessionId` (`*-accepts-bad-id` flaws skip that check). */
function invalidId(sessionId: unknown): boolean {
  try {
    assertSessionId(sessionId as string);
    return false;
  } catch {
    return true;
  }
}

/**
 * An in-memory store that is correct unless given a flaw. Without a flaw it
 * must pass the whole suite (the self-tests check that too).
 */
export class FlawedStore extends AbstractSessionStore {
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
    conditionalAppend: true,
    readChanges: true,
  };
  readonly #ttl: number | undefined;
  /** `per-handle-lock`: serialises this handle's read-modify-writes only. */
  readonly #queue = new SessionQueue();
  /** `shared-write-buffer`: one staging area for every session. */
  #pending: EncodedItem[] = [];
  /** `close-abandons-calls`: the "connection" was dropped by close(). */
  #released = false;
  /** `handle-cache`: whole histories this handle read, dropped only by its own writes. */
  readonly #cache = new Map<string, EncodedItem[]>();
  /** `epoch-in-handle`: the epochs this handle has seen and made. */
  readonly #handleEpochs = new Map<string, string>();
  /** `caches-decoded-items`: decoded items handed out as they are, by their JSON. */
  readonly #decoded = new Map<string, unknown>();
  /** `epoch-survives-prune`: the epochs of pruned sessions, given back when they are written again. */
  readonly #prunedEpochs = new Map<string, string>();

  constructor(
    private readonly backend: Backend,
    private readonly flaw: BrokenStoreFlaw | undefined,
    ttl?: number,
  ) {
    super();
    this.#ttl = normalizeTtl(ttl);
    if (flaw === 'non-boolean-capability') this.capabilities = { ...this.capabilities, persistent: 1 as unknown as boolean };
    if (flaw === 'truthy-capability') this.capabilities = { ...this.capabilities, transactionPreconditions: 1 as unknown as boolean };
    if (flaw === 'truthy-optional-capability') this.capabilities = { ...this.capabilities, readChanges: 1 as unknown as boolean };
    if (flaw === 'missing-capability-keys') {
      const { replaceHistory: _replace, historyMutations: _mutations, ...rest } = this.capabilities;
      this.capabilities = rest as StoreCapabilities;
    }
    if (flaw === 'capability-without-method') Object.defineProperty(this, 'replaceHistory', { value: undefined });
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
    if (!entry) {
      const epoch = (this.flaw === 'epoch-survives-prune' && this.#prunedEpochs.get(this.#key(sessionId))) || newEpoch();
      this.backend.sessions.set(this.#key(sessionId), (entry = { items: [], created: now, updated: now, epoch }));
    }
    entry.updated = now;
    if (this.flaw === 'created-at-moves') entry.created = now;
    return entry;
  }

  /** A write that is not an append: a new epoch (`pop-keeps-epoch` forgets it for pops). */
  #renew(entry: Entry, byPop = false): void {
    if (byPop && this.flaw === 'pop-keeps-epoch') return;
    entry.epoch = newEpoch();
    // `epoch-in-handle`: only this handle learns its own new epochs.
    for (const [key, session] of this.backend.sessions) if (session === entry && this.#handleEpochs.has(key)) this.#handleEpochs.set(key, entry.epoch);
  }

  #dropIfEmpty(sessionId: string, entry: Entry): void {
    if (entry.items.length === 0 && this.flaw !== 'lists-empty-sessions') this.backend.sessions.delete(this.#key(sessionId));
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

  override async addItems(sessionId: string, items: readonly unknown[], options?: AddItemsOptions): Promise<void> {
    if (this.flaw === 'ignores-bad-append-length' && options?.expectedLength !== undefined) {
      const length: unknown = options.expectedLength;
      if (!(typeof length === 'number' && Number.isSafeInteger(length) && length >= 0)) options = {};
    }
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
    // Straight to the backend, past core's checks: the store's open state, or the id.
    if ((this.flaw === 'replace-after-close' && this.closed) || (this.flaw === 'replace-accepts-bad-id' && invalidId(sessionId))) {
      return this._replaceHistory(String(sessionId), encodeItems(items));
    }
    return super.replaceHistory(sessionId, items, options);
  }

  override async applyHistoryMutations(sessionId: string, args: HistoryMutationArgs, options?: CallOptions): Promise<void> {
    // No call with that id in a session it never looked up: nothing to do, and no error.
    if ((this.flaw === 'mutations-after-close' && this.closed) || (this.flaw === 'mutations-accept-bad-id' && invalidId(sessionId))) return;
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
    // Dropped before core's close() waits for the calls in flight: they find no connection.
    if (this.flaw === 'close-abandons-calls') this.#released = true;
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

  protected async _addItems(sessionId: string, items: EncodedItem[], options?: AddItemsOptions): Promise<void> {
    if (this.flaw === 'close-abandons-calls') {
      await tick();
      if (this.#released) throw new SessionError(SessionErrorCode.BackendUnavailable, 'the connection was closed');
    }
    // `length-ignores-ttl`: counts what the backend still holds, expired or not.
    const count = (this.flaw === 'length-ignores-ttl' ? this.backend.sessions.get(this.#key(sessionId)) : this.#live(sessionId))?.items.length ?? 0;
    if (this.flaw === 'leaks-id-in-conflict' && options?.expectedLength !== undefined && options.expectedLength !== count) {
      throw new SessionError(SessionErrorCode.Conflict, `session ${sessionId} holds ${count} items, not ${options.expectedLength}`);
    }
    if (this.flaw !== 'ignores-append-expected-length') checkExpectedLength(options ?? {}, count);
    this.#cache.delete(this.#key(sessionId));
    const stored = this.#stored(items);
    if (this.flaw === 'loses-concurrent-batch') {
      const before = [...(this.#live(sessionId)?.items ?? [])];
      await tick();
      this.#entry(sessionId).items = [...before, ...stored];
      return;
    }
    if (this.flaw === 'per-handle-lock') {
      return this.#queue.run(sessionId, async () => {
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
    else if (this.flaw === 'backend-refuses-long-batch') {
      for (let start = 0; start < stored.length; start += 100) {
        if (start >= 500) throw new SessionError(SessionErrorCode.BackendError, 'the backend refused the request');
        target.items.push(...stored.slice(start, start + 100));
      }
    } else this.#append(target, stored);
    target.appended = (target.appended ?? 0) + stored.length;
  }

  /** Appends `stored`; `too-large-after-partial-write` refuses a big item only after writing the ones before it. */
  #append(target: Entry, stored: readonly EncodedItem[]): void {
    if (this.flaw !== 'too-large-after-partial-write') {
      target.items.push(...stored);
      return;
    }
    for (const item of stored) {
      if (item.length > 512 * 1024) throw new SessionError(SessionErrorCode.TooLarge, 'item is larger than 512 KiB');
      target.items.push(item);
    }
  }

  protected async _popItem<R>(sessionId: string, decode: (encoded: EncodedItem) => R): Promise<R | undefined> {
    this.#cache.delete(this.#key(sessionId));
    const glob = this.flaw === 'pop-globs' ? globOf(sessionId) : undefined;
    if (glob) {
      for (const [key, other] of this.backend.sessions) if (key !== this.#key(sessionId) && glob.test(key)) other.items.pop();
    }
    const entry = this.#live(sessionId);
    if (!entry || entry.items.length === 0 || entry.hidden) return undefined;
    if (this.flaw === 'racy-pop') {
      const last = entry.items.at(-1)!;
      await tick();
      entry.items.pop();
      this.#renew(this.#entry(sessionId), true);
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
        this.#renew(target, true);
        this.#dropIfEmpty(sessionId, target);
        return value;
      };
      return this.flaw === 'per-handle-lock' ? this.#queue.run(sessionId, rewriteTail) : rewriteTail();
    }
    if (this.flaw === 'pop-deletes-corrupt') {
      const last = entry.items.pop()!;
      this.#renew(entry, true);
      this.#dropIfEmpty(sessionId, entry);
      return decode(last);
    }
    const index = this.flaw === 'pops-oldest' ? 0 : entry.items.length - 1;
    const value = decode(entry.items[index]!);
    entry.items.splice(index, 1);
    this.#renew(this.flaw === 'pop-keeps-updated' ? entry : this.#entry(sessionId), true);
    this.#dropIfEmpty(sessionId, entry);
    return value;
  }

  protected async _clearSession(sessionId: string): Promise<void> {
    const key = this.#key(sessionId);
    this.#cache.delete(key);
    const entry = this.backend.sessions.get(key);
    const glob = this.flaw === 'clear-globs' ? globOf(sessionId) : undefined;
    if (glob) {
      for (const other of [...this.backend.sessions.keys()]) {
        if (glob.test(other)) {
          this.backend.sessions.delete(other);
          this.backend.ops.delete(other);
        }
      }
    }
    if (this.flaw === 'clear-unknown-throws' && !entry) throw new SessionError(SessionErrorCode.InvalidArgument, 'no such session');
    if (this.flaw === 'clear-decodes-first') for (const item of entry?.items ?? []) JSON.parse(item);
    if (this.flaw === 'soft-clear') {
      if (entry) entry.hidden = true;
    } else if (this.flaw === 'lists-empty-sessions') {
      if (entry) {
        entry.items = [];
        this.#renew(entry);
      }
    } else this.backend.sessions.delete(key);
    if (this.flaw !== 'clear-keeps-operation-log') this.backend.ops.delete(this.#opsKey(sessionId));
  }

  protected override async _applyHistoryTransaction(sessionId: string, tx: PreparedTransaction): Promise<void> {
    this.#cache.delete(this.#key(sessionId));
    const opsKey = this.#opsKey(sessionId);
    const raw = this.backend.sessions.get(this.#key(sessionId));
    const entry = this.#live(sessionId);
    let log = this.backend.ops.get(opsKey);
    // `length-ignores-ttl`: counts what the backend still held, expired or not.
    const count = (this.flaw === 'length-ignores-ttl' ? raw : entry)?.items.length ?? 0;
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
    if (this.flaw === 'transaction-not-atomic') await tick();
    const updatedBefore = entry?.updated;
    const target = this.#entry(sessionId);
    if (this.flaw === 'tx-keeps-updated' && updatedBefore !== undefined) target.updated = updatedBefore;
    if (tx.expectedSuffix.length > 0 || this.flaw === 'tx-append-prepends') this.#renew(target);
    if (this.flaw === 'tx-append-prepends' && tx.type === 'append_items') target.items = [...tx.replacement, ...kept];
    else {
      target.items = kept;
      this.#append(target, tx.replacement);
    }
    if (!log) this.backend.ops.set(opsKey, (log = new Map()));
    if (this.flaw !== 'log-stops-at-100' || log.size < 100) log.set(tx.operationId, tx.fingerprint);
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
    this.#renew(target);
    target.items = this.flaw === 'replace-appends' ? [...(was?.items ?? [])] : [];
    this.#append(target, stored);
    target.appended = stored.length;
    if (this.flaw !== 'replace-empty-listed') this.#dropIfEmpty(sessionId, target);
  }

  override async readChanges(sessionId: string, since?: HistoryVersion, options?: CallOptions) {
    if ((this.flaw === 'changes-after-close' && this.closed) || (this.flaw === 'changes-accept-bad-id' && invalidId(sessionId))) {
      const changes = await this._readChanges(String(sessionId), since === undefined ? undefined : normalizeSince(since));
      return { ...changes, items: decodeItems(changes.items) };
    }
    if (this.flaw === 'lenient-since') {
      // Core's own check, its refusal swallowed: a malformed since reads as none.
      try {
        normalizeSince(since);
      } catch {
        since = undefined;
      }
    }
    return super.readChanges(sessionId, since, options);
  }

  protected override async _readChanges(sessionId: string, since: HistoryVersion | undefined): Promise<EncodedChanges> {
    let entry: Entry | undefined;
    let items: EncodedItem[];
    if (this.flaw === 'changes-ignore-ttl') {
      entry = this.backend.sessions.get(this.#key(sessionId));
      items = [...(entry?.items ?? [])];
    } else {
      items = await this._getItems(sessionId, undefined);
      entry = this.#live(sessionId);
    }
    let epoch = entry && !entry.hidden ? entry.epoch : '';
    if (this.flaw === 'epoch-in-handle' && epoch !== '') {
      const key = this.#key(sessionId);
      if (!this.#handleEpochs.has(key)) this.#handleEpochs.set(key, epoch);
      epoch = this.#handleEpochs.get(key)!;
    }
    const version = { epoch, length: items.length };
    if (appendedSince(since, epoch, items.length)) {
      const from = this.flaw === 'changes-off-by-one' ? Math.max(0, since.length - 1) : since.length;
      return { version, whole: false, items: items.slice(from) };
    }
    return { version, whole: true, items };
  }

  protected override async *_listSessions(pageSize: number): AsyncIterable<SessionInfo> {
    const ids = [...this.backend.sessions.keys()];
    for (let start = 0; start < ids.length; start += pageSize) {
      // A buggy paginator that re-reads the last entry of the previous page.
      const from = this.flaw === 'lists-duplicates' && start > 0 ? start - 1 : start;
      for (const id of ids.slice(from, start + pageSize)) {
        const info = this.#info(id);
        if (info) yield this.flaw === 'list-info-without-counts' ? { ...info, itemCount: 0 } : info;
        else if (this.flaw === 'replace-empty-listed') {
          const entry = this.#live(id);
          if (entry) yield { sessionId: id, itemCount: 0, createdAt: new Date(entry.created), updatedAt: new Date(entry.updated) };
        }
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
      ...(this.#ttl !== undefined ? { expiresAt: new Date((this.flaw === 'expires-from-created' ? entry.created : entry.updated) + this.#ttl) } : {}),
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
        if (this.flaw === 'epoch-survives-prune') this.#prunedEpochs.set(key, entry.epoch);
        this.backend.sessions.delete(key);
        this.backend.ops.delete(key);
        if (!expired || this.flaw === 'prune-counts-expired') deleted++;
      }
    }
    return deleted;
  }

  protected async _close(): Promise<void> {}
}
