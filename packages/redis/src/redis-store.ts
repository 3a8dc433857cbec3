import { createHash } from 'node:crypto';
import {
  SessionError,
  SessionErrorCode,
  type AddItemsOptions,
  type CallOptions,
  type SessionInfo,
  type SessionItem,
  type StoreCapabilities,
} from '@sessionkit/core';
import {
  AbstractSessionStore,
  assertPositiveInteger,
  checkExpectedLength,
  Deadlines,
  conflicts,
  isPlainObject,
  newEpoch,
  normalizeMilliseconds,
  normalizeTtl,
  OPERATION_LOG_RETENTION,
  retryOnConflict,
  suffixMatches,
  type EncodedChanges,
  type HistoryVersion,
  type EncodedItem,
  type PreparedTransaction,
} from '@sessionkit/core/adapter';
import { Cluster, Redis } from 'ioredis';
import { metaKeyPattern, sessionIdFromMetaKey, sessionKeys, type SessionKeys } from './keys.js';
import { loginRefusal, mapRedisError } from './map-error.js';
import type { RedisStoreOptions } from './options.js';
import * as lua from './scripts.js';

type Client = Redis | Cluster;

/** Default `keyPrefix`. */
export const DEFAULT_KEY_PREFIX = 'sessionkit:';
/** Default `commandTimeout` in ms. */
export const DEFAULT_COMMAND_TIMEOUT = 5000;

// How often a transaction or pop may find the session changed between its two
// round trips (only taken on the rare paths) before giving up with CONFLICT.
/** Thrown inside a retried attempt when the session changed under it: try again (core's retry budget). */
const lostRace = new Error('the session changed during the attempt');
const isLostRace = (error: unknown): boolean => error === lostRace;

/** A script loaded once per server (EVALSHA), re-sent with EVAL only after NOSCRIPT. */
class Script {
  readonly sha: string;
  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  // Not ioredis's defineCommand: that would add methods to a caller-owned client.
  run(client: Client, keys: SessionKeys, args: readonly (string | number)[]): Promise<unknown> {
    return this.runOn(client, [keys.items, keys.meta, keys.ops, keys.opQueue], args);
  }

  /** With only the keys this call touches (the script must not reach any other: cluster routing). */
  async runOn(client: Client, keyList: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await client.evalsha(this.sha, keyList.length, ...keyList, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return client.eval(this.source, keyList.length, ...keyList, ...args);
    }
  }
}

const scripts = {
  append: new Script(lua.APPEND),
  pop: new Script(lua.POP),
  popIfTail: new Script(lua.POP_IF_TAIL),
  transaction: new Script(lua.TRANSACTION),
  replace: new Script(lua.REPLACE),
  info: new Script(lua.INFO),
  readSliding: new Script(lua.READ_SLIDING),
  prune: new Script(lua.PRUNE),
  readChanges: new Script(lua.READ_CHANGES),
};

function invalidOptions(message: string): SessionError {
  return new SessionError(SessionErrorCode.InvalidArgument, message);
}

/**
 * Refuses `{` and `}` in a key prefix. Redis Cluster hashes the text between
 * the first `{` and the next `}`: a brace in the prefix moves that window off
 * the session's tag (`{}` even makes it empty, so each key hashes whole), and
 * the session's keys could land in different slots (CROSSSLOT).
 */
function assertNoBraces(prefix: unknown, what: string): void {
  if (prefix === undefined || prefix === null) return;
  const text = Buffer.isBuffer(prefix) ? prefix.toString('latin1') : prefix;
  if (typeof text !== 'string') throw invalidOptions(`${what} must be a string`);
  if (text.includes('{') || text.includes('}')) {
    throw invalidOptions(`${what} must not contain '{' or '}': the store places each session's hash tag itself`);
  }
}

/** True for an ioredis Cluster, also one from another copy of ioredis (where `instanceof` fails). */
function isCluster(client: Client): client is Cluster {
  return (client as { isCluster?: unknown }).isCluster === true;
}

/** Every keyPrefix ioredis may prepend to the store's keys (the cluster's own and its nodes'). */
function clientKeyPrefixes(client: Client): unknown[] {
  const options = (client.options ?? {}) as { keyPrefix?: unknown; redisOptions?: { keyPrefix?: unknown } };
  return isCluster(client) ? [options.keyPrefix, options.redisOptions?.keyPrefix] : [options.keyPrefix];
}

function timeoutError(ms: number): SessionError {
  return new SessionError(SessionErrorCode.BackendUnavailable, `redis did not answer within ${ms} ms`);
}

// Safe defaults for clients the store owns: a command is never queued while
// disconnected (it would run later, after its caller was told it failed) and
// never replayed after a dropped connection (the server may already have run
// it), so a write is either reported or known-unknown, never duplicated.
// No ioredis commandTimeout: the store's own deadline (#call) already bounds
// every call, and a second timer per command cost a pop several percent.
function ownedRedisDefaults(commandTimeout: number) {
  return {
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    ...(commandTimeout > 0 ? { connectTimeout: commandTimeout } : {}),
    retryStrategy: (times: number) => Math.min(50 * 2 ** Math.min(times, 5), 1000),
  };
}

/** Checks the connection options' types, so a wrong one fails here and not as BACKEND_UNAVAILABLE on the first call. */
function assertConnectionOptions(options: RedisStoreOptions): void {
  const { client, url, redisOptions, clusterNodes, clusterOptions } = options;
  if (client !== undefined && (typeof client !== 'object' || client === null)) throw invalidOptions('client must be an ioredis Redis or Cluster');
  if (url !== undefined && typeof url !== 'string') throw invalidOptions('url must be a string');
  if (redisOptions !== undefined && !isPlainObject(redisOptions)) throw invalidOptions('redisOptions must be a plain object');
  if (clusterNodes !== undefined) {
    // A string would be spread into one "node" per character.
    if (!Array.isArray(clusterNodes) || clusterNodes.length === 0) throw invalidOptions('clusterNodes must be a non-empty array');
    for (const node of clusterNodes as unknown[]) {
      if (typeof node !== 'string' && typeof node !== 'number' && (typeof node !== 'object' || node === null)) {
        throw invalidOptions('each of clusterNodes must be a "host:port" string, a port number or a { host, port } object');
      }
    }
  }
  if (clusterOptions !== undefined) {
    if (!isPlainObject(clusterOptions)) throw invalidOptions('clusterOptions must be a plain object');
    if (clusterOptions.redisOptions !== undefined && !isPlainObject(clusterOptions.redisOptions)) {
      throw invalidOptions('clusterOptions.redisOptions must be a plain object');
    }
  }
}

function createClient(options: RedisStoreOptions, commandTimeout: number): Client {
  assertConnectionOptions(options);
  const sources = [options.client, options.url ?? options.redisOptions, options.clusterNodes].filter((s) => s !== undefined);
  if (sources.length !== 1) {
    throw invalidOptions('RedisStore needs exactly one of: client, url/redisOptions, clusterNodes');
  }
  if (options.client) return options.client;
  if (options.clusterNodes) {
    const user = options.clusterOptions ?? {};
    const { retryStrategy: _ignored, enableOfflineQueue: _alsoIgnored, ...nodeDefaults } = ownedRedisDefaults(commandTimeout);
    return new Cluster([...options.clusterNodes], {
      enableOfflineQueue: false,
      // Re-sending after "Connection is closed" could run a write twice.
      retryDelayOnFailover: 0,
      ...user,
      redisOptions: { ...nodeDefaults, ...user.redisOptions },
    });
  }
  const redisOptions = { ...ownedRedisDefaults(commandTimeout), ...options.redisOptions };
  return options.url ? new Redis(options.url, redisOptions) : new Redis(redisOptions);
}

/**
 * A session store on Redis (standalone, Sentinel or Cluster) through ioredis.
 * Each session is a list of encoded items plus a meta hash and an operation
 * log, all under one hash tag; every operation is one atomic round trip.
 * See docs/redis.md for the layout and guarantees.
 */
export class RedisStore<TItem = SessionItem> extends AbstractSessionStore<TItem> {
  readonly capabilities: StoreCapabilities = Object.freeze({
    transactions: true,
    listSessions: true,
    sessionInfo: true,
    prune: true,
    ttl: true,
    persistent: true,
    atomicReadModifyWrite: true,
    transactionPreconditions: true,
    conditionalAppend: true,
    replaceHistory: true,
    historyMutations: true,
    readChanges: true,
  });
  /** The key prefix this store writes under. */
  readonly keyPrefix: string;
  readonly #client: Client;
  readonly #owned: boolean;
  #connecting: Promise<void> | undefined;
  /** Set while an owned client's connection attempts fail at the login: a call timing out then says so. */
  #loginRefused: SessionError | undefined;
  readonly #ttl: number | undefined;
  readonly #sliding: boolean;
  readonly #logSize: number;
  readonly #timeout: number;
  readonly #deadlines: Deadlines | undefined;
  #mastersSettled = false;
  // The keys of the session used last: a loop on one session builds them once.
  #lastSessionId: string | undefined;
  #lastKeys: SessionKeys | undefined;
  #lastWriteKeys: readonly string[] = [];

  constructor(options: RedisStoreOptions) {
    super();
    if (typeof options !== 'object' || options === null) throw invalidOptions('RedisStore options must be an object');
    this.#ttl = normalizeTtl(options.ttl);
    this.#sliding = options.slidingTtl ?? false;
    if (typeof this.#sliding !== 'boolean') throw invalidOptions('slidingTtl must be a boolean');
    this.#logSize = options.operationLogSize ?? OPERATION_LOG_RETENTION;
    assertPositiveInteger(this.#logSize, 'operationLogSize');
    this.#timeout = normalizeMilliseconds(options.commandTimeout, 'commandTimeout', DEFAULT_COMMAND_TIMEOUT);
    const ms = this.#timeout;
    this.#deadlines = ms > 0 ? new Deadlines(ms, { onTimeout: () => this.#loginRefused ?? timeoutError(ms), signal: false }) : undefined;
    this.keyPrefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
    if (typeof this.keyPrefix !== 'string') throw invalidOptions('keyPrefix must be a string');
    assertNoBraces(this.keyPrefix, 'keyPrefix');
    this.#client = createClient(options, this.#timeout);
    this.#owned = options.client === undefined;
    try {
      for (const prefix of clientKeyPrefixes(this.#client)) assertNoBraces(prefix, "the ioredis client's keyPrefix");
    } catch (error) {
      // A client we created for a store that will not exist must not keep a socket open.
      if (this.#owned) this.#client.disconnect();
      throw error;
    }
    // Connection errors surface on each call as BACKEND_UNAVAILABLE; without a
    // listener ioredis would print every reconnect failure. A refused login is
    // remembered, so a call that times out meanwhile does not blame the network.
    if (this.#owned) {
      this.#client.on('error', (error: unknown) => (this.#loginRefused = loginRefusal(error)));
      this.#client.on('ready', () => (this.#loginRefused = undefined));
    }
    // After the cluster reconnects its node connections are new: settle them again before the next call.
    if (this.#owned && isCluster(this.#client)) this.#client.on('close', () => (this.#mastersSettled = false));
  }

  /** The ioredis client or cluster in use (yours if you passed `client`). */
  get client(): Client {
    return this.#client;
  }

  protected override mapError(error: unknown): SessionError {
    return mapRedisError(error);
  }

  #keys(sessionId: string): SessionKeys {
    if (sessionId !== this.#lastSessionId || this.#lastKeys === undefined) {
      const keys = sessionKeys(this.keyPrefix, sessionId);
      this.#lastKeys = keys;
      this.#lastSessionId = sessionId;
      // A pop or an append touches the items and the meta hash and, only to refresh their expiry, the other keys.
      this.#lastWriteKeys = this.#ttl === undefined ? [keys.items, keys.meta] : [keys.items, keys.meta, keys.ops, keys.opQueue];
    }
    return this.#lastKeys;
  }

  /** The keys a pop or append script is given for `sessionId` (see #keys): fewer arguments are part of their cost. */
  #writeKeys(sessionId: string): readonly string[] {
    this.#keys(sessionId);
    return this.#lastWriteKeys;
  }

  /**
   * Runs one backend call under the store's deadline. A store-owned client
   * (no offline queue) is first given until the deadline to (re)connect.
   * ioredis takes no AbortSignal: a timed-out command is abandoned, not cancelled.
   */
  #call<R>(operation: () => Promise<R>): Promise<R> {
    const run = this.#owned && !this.#connected() ? () => this.#whenConnected().then(operation) : operation;
    return this.#deadlines === undefined ? run() : this.#deadlines.run(run);
  }

  // One wait shared by every call that arrives while (re)connecting: a burst of
  // calls adds one pair of listeners to the client, not one per call (which
  // would trip Node's MaxListenersExceededWarning and cost O(calls) per event).
  #whenConnected(): Promise<void> {
    if (this.#connecting === undefined) {
      this.#connecting = this.#ensureReady().finally(() => {
        this.#connecting = undefined;
      });
      // Callers that gave up at their deadline no longer listen; the rejection is theirs, not the process's.
      this.#connecting.catch(() => {});
    }
    return this.#connecting;
  }

  /**
   * The client is ready for commands; on a cluster, its masters have also each
   * finished their first connection attempt since the cluster (re)connected.
   * Not "every master is ready": one master down must not stop calls for
   * sessions on the others (ioredis routes each call to its slot's master).
   */
  #connected(): boolean {
    if (this.#client.status !== 'ready') return false;
    return !isCluster(this.#client) || this.#mastersSettled;
  }

  // A cluster reports ready before it has connected to each master; without an
  // offline queue, a burst of commands on a fresh cluster would otherwise be
  // refused with "Connection is closed" by nodes still connecting. So once per
  // (re)connect, wait until each master is ready or has failed — never for a
  // dead master to come back, which is what the caller's deadline is for.
  async #ensureReady(): Promise<void> {
    const client = this.#client;
    await whenReady(client);
    if (isCluster(client) && !this.#mastersSettled) {
      await Promise.all(client.nodes('master').map((node) => whenSettled(node)));
      // Still the same connection of the cluster (no close meanwhile): its masters are settled.
      if (client.status === 'ready') this.#mastersSettled = true;
    }
  }

  #now(): string {
    return String(Date.now());
  }

  #ttlArg(): number {
    return this.#ttl ?? 0;
  }

  protected async _getItems(sessionId: string, limit: number | undefined): Promise<EncodedItem[]> {
    const keys = this.#keys(sessionId);
    const start = limit === undefined ? 0 : -limit;
    // LRANGE from a negative start walks from the tail: O(limit), not O(history).
    if (this.#sliding && this.#ttl !== undefined) {
      return (await this.#call(() => scripts.readSliding.run(this.#client, keys, [start, this.#ttl!]))) as string[];
    }
    return this.#call(() => this.#client.lrange(keys.items, start, -1));
  }

  protected async _addItems(sessionId: string, items: EncodedItem[], options?: AddItemsOptions): Promise<void> {
    const keyList = this.#writeKeys(sessionId);
    const expected = options?.expectedLength ?? -1;
    const length = (await this.#call(() =>
      scripts.append.runOn(this.#client, keyList, [this.#now(), this.#ttlArg(), newEpoch(), expected, ...items]),
    )) as number;
    if (length < 0) checkExpectedLength({ expectedLength: expected }, -length - 1);
  }

  protected async _popItem<R>(sessionId: string, decode: (encoded: EncodedItem) => R): Promise<R | undefined> {
    const keyList = this.#writeKeys(sessionId);
    const reply = await this.#pop(keyList);
    if (reply === null) return undefined;
    // Popped only after the script proved the text is JSON that JSON.parse accepts.
    if (typeof reply === 'string') return decode(reply);
    return this.#popUnvouched(keyList, reply, decode);
  }

  #pop(keyList: readonly string[]): Promise<PopReply> {
    return this.#call(() => scripts.pop.runOn(this.#client, keyList, [this.#now(), this.#ttlArg(), newEpoch()])) as Promise<PopReply>;
  }

  /**
   * The rare path: the script could not vouch for the newest item and left it.
   * Decode it here: a corrupt item throws and stays; one the codec accepts is
   * removed only if it is still the newest, else the pop starts over.
   */
  #popUnvouched<R>(keyList: readonly string[], first: [string], decode: (encoded: EncodedItem) => R): Promise<R | undefined> {
    let reply: PopReply = first;
    return retryOnConflict(async (attempt) => {
      if (attempt > 0) reply = await this.#pop(keyList);
      if (reply === null) return undefined;
      if (typeof reply === 'string') return decode(reply);
      const item = reply[0];
      const value = decode(item);
      const removed = await this.#call(() =>
        scripts.popIfTail.runOn(this.#client, keyList, [this.#now(), this.#ttlArg(), newEpoch(), item]),
      );
      if (removed === 1) return value;
      throw lostRace;
    }, { isConflict: isLostRace, operation: 'popItem' });
  }

  protected async _clearSession(sessionId: string): Promise<void> {
    const keys = this.#keys(sessionId);
    await this.#call(() => this.#client.del(keys.items, keys.meta, keys.ops, keys.opQueue));
  }

  protected override async _applyHistoryTransaction(sessionId: string, tx: PreparedTransaction): Promise<void> {
    const keys = this.#keys(sessionId);
    // First try: the caller's items as the codec writes them, which is what the
    // list holds when they were stored by sessionkit (or read back from it).
    let expected: readonly string[] = tx.expectedEncoded;
    await retryOnConflict(async () => {
      const args = [
        this.#now(),
        this.#ttlArg(),
        newEpoch(),
        this.#logSize,
        tx.operationId,
        tx.fingerprint,
        tx.expectedLength ?? -1,
        expected.length,
        ...expected,
        ...tx.replacement,
      ];
      const reply = (await this.#call(() => scripts.transaction.run(this.#client, keys, args))) as [string, string[]?];
      switch (reply[0]) {
        case 'ok':
        case 'done':
          return;
        case 'reused':
          throw conflicts.operationReused();
        case 'length':
          throw conflicts.lengthMismatch();
        case 'short':
          throw conflicts.suffixMismatch();
        case 'tail': {
          const stored = reply[1] ?? [];
          // Key order differs: compare canonical forms here (CORRUPT_DATA if a stored item is not JSON).
          if (!suffixMatches(stored, tx.expectedSuffix)) throw conflicts.suffixMismatch();
          // Equal in content: retry as a compare-and-swap on the exact stored bytes.
          expected = stored;
          throw lostRace;
        }
        default:
          throw new SessionError(SessionErrorCode.BackendError, 'unexpected reply from transaction script');
      }
    }, { isConflict: isLostRace, operation: 'applyHistoryTransaction' });
  }

  protected override async _replaceHistory(sessionId: string, items: EncodedItem[]): Promise<void> {
    const keys = this.#keys(sessionId);
    await this.#call(() => scripts.replace.run(this.#client, keys, [this.#now(), this.#ttlArg(), newEpoch(), ...items]));
  }

  protected override async _readChanges(sessionId: string, since: HistoryVersion | undefined): Promise<EncodedChanges> {
    const keys = this.#keys(sessionId);
    // With slidingTtl a read refreshes every key's expiry, as getItems does: the script then needs all four.
    const sliding = this.#sliding && this.#ttl !== undefined;
    const keyList = sliding ? [keys.items, keys.meta, keys.ops, keys.opQueue] : [keys.items, keys.meta];
    const args = [since?.epoch ?? '', since?.length ?? -1, sliding ? this.#ttl! : 0];
    const reply = await this.#call(() => scripts.readChanges.runOn(this.#client, keyList, args));
    const [epoch, length, whole, items] = reply as [string, number, number, string[]];
    return { version: { epoch, length }, whole: whole !== 0, items };
  }

  #info(sessionId: string, reply: unknown): SessionInfo | undefined {
    if (reply === null) return undefined;
    const [count, created, updated, pttl] = reply as [number, string, string, number];
    const createdAt = Number(created);
    const updatedAt = Number(updated);
    if (!created || !updated || !Number.isFinite(createdAt) || !Number.isFinite(updatedAt)) {
      throw new SessionError(SessionErrorCode.CorruptData, 'session metadata is missing or malformed');
    }
    let expiresAt: Date | undefined;
    if (this.#ttl !== undefined && pttl > 0) {
      // Without sliding refresh the expiry is exactly last write + ttl; with it, what Redis says now.
      expiresAt = new Date(this.#sliding ? Date.now() + pttl : updatedAt + this.#ttl);
    }
    return {
      sessionId,
      itemCount: count,
      createdAt: new Date(createdAt),
      updatedAt: new Date(updatedAt),
      ...(expiresAt ? { expiresAt } : {}),
    };
  }

  protected override async _getSessionInfo(sessionId: string, _options?: CallOptions): Promise<SessionInfo | undefined> {
    const keys = this.#keys(sessionId);
    return this.#info(sessionId, await this.#call(() => scripts.info.run(this.#client, keys, [])));
  }

  /** Masters to scan: every master of a cluster, or the one server. */
  async #scanTargets(): Promise<Redis[]> {
    // A cluster knows its masters only once connected: wait, then refuse to list an empty topology.
    await this.#call(async () => undefined);
    if (!isCluster(this.#client)) return [this.#client];
    const masters = this.#client.nodes('master');
    if (masters.length === 0) {
      throw new SessionError(SessionErrorCode.BackendUnavailable, 'redis cluster has no known masters yet');
    }
    // ioredis drops a node it cannot reach from nodes(): scanning only the rest
    // would list part of the sessions as if it were all of them. Every slot's
    // master must be among those scanned.
    const scanned = new Set(masters.map((node) => `${node.options.host}:${node.options.port}`));
    for (const owners of this.#client.slots) {
      const master = owners?.[0];
      if (master !== undefined && !scanned.has(master)) {
        throw new SessionError(SessionErrorCode.BackendUnavailable, 'a redis cluster master is unreachable; listing would be incomplete');
      }
    }
    return masters;
  }

  /** The prefix as keys appear on the server (ioredis's own `keyPrefix` is prepended to ours). */
  #serverPrefix(): string {
    const clientPrefix = (this.#client.options as { keyPrefix?: string | Buffer }).keyPrefix ?? '';
    return (Buffer.isBuffer(clientPrefix) ? clientPrefix.toString('utf8') : clientPrefix) + this.keyPrefix;
  }

  /**
   * Every session id under the prefix, each once, by SCAN over each master's
   * keyspace (O(keys in the database), off the hot path). SCAN may repeat a
   * key, and a resharding cluster may show one on two nodes: ids seen are kept
   * in a Set.
   */
  async *#scanSessionIds(pageSize: number): AsyncGenerator<string[]> {
    const serverPrefix = this.#serverPrefix();
    const pattern = metaKeyPattern(serverPrefix);
    const seen = new Set<string>();
    const count = Math.max(pageSize, 1000);
    for (const node of await this.#scanTargets()) {
      let cursor = '0';
      do {
        const [next, keys] = await this.#call(() => node.scan(cursor, 'MATCH', pattern, 'COUNT', count));
        cursor = next;
        const ids: string[] = [];
        for (const key of keys) {
          const sessionId = sessionIdFromMetaKey(serverPrefix, key);
          if (sessionId === undefined || seen.has(sessionId)) continue;
          seen.add(sessionId);
          ids.push(sessionId);
        }
        for (let i = 0; i < ids.length; i += pageSize) yield ids.slice(i, i + pageSize);
      } while (cursor !== '0');
    }
  }

  protected override async *_listSessions(pageSize: number): AsyncIterable<SessionInfo> {
    for await (const ids of this.#scanSessionIds(pageSize)) {
      // One script per session, sent together: pipelined per connection, routed per slot on a cluster.
      const replies = await this.#call(() =>
        Promise.all(ids.map((id) => scripts.info.run(this.#client, this.#keys(id), []))),
      );
      for (let i = 0; i < ids.length; i++) {
        const info = this.#info(ids[i]!, replies[i]);
        if (info) yield info;
      }
    }
  }

  protected override async _prune(olderThanMs: number): Promise<number> {
    let pruned = 0;
    for await (const ids of this.#scanSessionIds(DEFAULT_PRUNE_BATCH)) {
      const replies = await this.#call(() =>
        Promise.all(ids.map((id) => scripts.prune.run(this.#client, this.#keys(id), [olderThanMs]))),
      );
      for (const reply of replies) if (reply === 1) pruned++;
    }
    return pruned;
  }

  protected async _close(): Promise<void> {
    if (!this.#owned) return;
    const client = this.#client;
    // QUIT lets in-flight replies arrive; a dead server must not make close() hang.
    const bounded = (promise: Promise<unknown>) =>
      Promise.race([promise, new Promise<void>((resolve) => setTimeout(resolve, 1000).unref())]);
    if (client.status !== 'ready') {
      // Not connected: nothing in flight to wait for; this also cancels a pending reconnect.
      client.disconnect();
      return;
    }
    const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
    await bounded(client.quit().catch(() => {}));
    client.disconnect();
    // Resolve close() only once the sockets are gone, so callers can exit cleanly.
    await bounded(ended);
  }
}

const DEFAULT_PRUNE_BATCH = 100;

/** The pop script's reply: nothing, the popped item, or [item] left in place (see scripts.ts POP). */
type PopReply = string | [string] | null;

/**
 * Resolves once a cluster node's connection attempt is over, whichever way:
 * ready, or closed/ended (a node that cannot be reached). Connects a lazy node.
 */
function whenSettled(node: Redis): Promise<void> {
  if (!['wait', 'connecting', 'connect'].includes(node.status)) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const events = ['ready', 'close', 'end'] as const;
    const done = () => {
      for (const event of events) node.off(event, done);
      resolve();
    };
    for (const event of events) node.on(event, done);
    if (node.status === 'wait') node.connect().catch(() => {});
  });
}

/** Resolves when `client` is ready (connecting it if it is lazy); rejects when it has ended. */
function whenReady(client: Redis | Cluster): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const done = () => {
      client.off('ready', onReady);
      client.off('end', onEnd);
    };
    const onReady = () => {
      done();
      resolve();
    };
    const onEnd = () => {
      done();
      reject(new Error('Connection is closed.'));
    };
    if (client.status === 'ready') return onReady();
    if (client.status === 'end') return onEnd();
    client.on('ready', onReady);
    client.on('end', onEnd);
    if (client.status === 'wait') client.connect().catch(() => {});
  });
}
