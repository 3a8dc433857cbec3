import type { Cluster, ClusterNode, ClusterOptions, Redis, RedisOptions } from 'ioredis';

/**
 * Options for {@link RedisStore}. Give exactly one connection source:
 * `client` (yours), or `url` and/or `redisOptions` (standalone or Sentinel,
 * owned by the store), or `clusterNodes` (Redis Cluster, owned by the store).
 */
export interface RedisStoreOptions {
  /**
   * An ioredis `Redis` (standalone or Sentinel) or `Cluster` you created and
   * own. The store never closes it. Configure it as docs/redis.md advises
   * (e.g. `autoResendUnfulfilledCommands: false`) so a dropped connection
   * cannot replay a write. Default: none.
   */
  readonly client?: Redis | Cluster;
  /**
   * `redis://` / `rediss://` URL of a standalone server. The store creates,
   * configures and closes the client. Default: none.
   */
  readonly url?: string;
  /**
   * ioredis options for a store-owned standalone client (with `url`, or alone
   * with `host`/`port`), or a Sentinel client (`sentinels` + `name`). Your
   * values override the store's safe defaults (no offline queue, no replay of
   * unanswered commands, fast reconnect). Default: none.
   */
  readonly redisOptions?: RedisOptions;
  /** Startup nodes of a Redis Cluster; the store creates and closes the `Cluster`. Default: none. */
  readonly clusterNodes?: readonly ClusterNode[];
  /** ioredis `Cluster` options, used with `clusterNodes`, over the store's safe defaults. Default: none. */
  readonly clusterOptions?: ClusterOptions;
  /**
   * Prefix of every key the store writes. Use one per application and
   * environment; two stores on the same prefix see the same sessions. It must
   * not be shared with non-sessionkit keys. It must not contain `{` or `}`
   * (nor may an ioredis client's own `keyPrefix`): the store puts each
   * session's hash tag in its keys, and a brace in the prefix would move the
   * slot Redis Cluster hashes. Refused with INVALID_ARGUMENT.
   * Default: `'sessionkit:'`.
   */
  readonly keyPrefix?: string;
  /**
   * Milliseconds after the last write (append, pop, transaction) at which a
   * session expires, applied with Redis PEXPIRE in the same script as the
   * write. Default: none (sessions never expire).
   */
  readonly ttl?: number;
  /**
   * Also refresh the expiry on every `getItems` (which then runs as a script).
   * Only meaningful with `ttl`. Default: `false`.
   */
  readonly slidingTtl?: boolean;
  /** Operation ids remembered per session for transaction idempotency. Default: 1000 (`OPERATION_LOG_RETENTION`). */
  readonly operationLogSize?: number;
  /**
   * Longest time in ms any store call waits for Redis, including waiting for a
   * store-owned client to (re)connect. Past it the call fails with
   * BACKEND_UNAVAILABLE; a write that timed out may or may not have been
   * applied (use transactions with an operation id to retry safely).
   * `0` disables the limit. Default: `5000`.
   */
  readonly commandTimeout?: number;
}
