import type { Database } from 'better-sqlite3';

/**
 * Options for {@link SqliteStore}. Give exactly one of `path` (the store opens
 * and closes the database) or `database` (yours; the store never closes it).
 */
export interface SqliteStoreOptions {
  /**
   * File to open (created if missing) in WAL mode, or `':memory:'` for a
   * private in-memory database that disappears on `close()`. Several
   * processes may open the same file at once. Default: none.
   */
  readonly path?: string;
  /**
   * A better-sqlite3 `Database` you opened and own. The store creates its
   * tables in it but never closes it and leaves its pragmas alone (set WAL and
   * a busy timeout yourself), except `busy_timeout` when you also pass
   * `busyTimeout`. Default: none.
   */
  readonly database?: Database;
  /**
   * Prefix of the store's table and index names. It is an SQL identifier, so
   * it must match `/^[A-Za-z_][A-Za-z0-9_]{0,62}$/` (INVALID_ARGUMENT
   * otherwise); never build it from untrusted input. Two stores with the same
   * prefix on the same file see the same sessions. Default: `'sessionkit_'`.
   */
  readonly tablePrefix?: string;
  /**
   * Milliseconds after the last write (append, pop, transaction) at which a
   * session expires. Expired sessions read as empty at once; their rows are
   * deleted by the next write to that session or by `prune()`.
   * Default: none (sessions never expire).
   */
  readonly ttl?: number;
  /**
   * SQLite's `busy_timeout` in milliseconds: how long one statement waits
   * inside SQLite for another connection's lock before reporting
   * SQLITE_BUSY. better-sqlite3 is synchronous, so this wait blocks the
   * thread; keep it short and let `maxBusyWait` do the rest without
   * blocking. Applied to a `database` you pass only when given.
   * Default: `250`.
   */
  readonly busyTimeout?: number;
  /**
   * Longest total time in milliseconds one store call keeps retrying (with
   * jittered exponential backoff, without blocking the event loop) while the
   * database stays locked by other connections. Past it the call fails with
   * BACKEND_UNAVAILABLE and nothing of it was written. `0` fails after the
   * first busy attempt. Default: `10000`.
   */
  readonly maxBusyWait?: number;
  /**
   * SQLite's `synchronous` setting for a database the store opens. `'full'`
   * syncs every commit to disk (a committed write survives power loss);
   * `'normal'` is faster in WAL mode and still never corrupts the file, but
   * the last commits may roll back after an OS crash or power loss.
   * Default: `'full'`.
   */
  readonly synchronous?: 'full' | 'normal';
  /** Operation ids remembered per session for transaction idempotency. Default: 1000 (`OPERATION_LOG_RETENTION`). */
  readonly operationLogSize?: number;
}

/** Default table prefix. */
export const DEFAULT_TABLE_PREFIX = 'sessionkit_';
/** Default `busyTimeout` (ms). */
export const DEFAULT_BUSY_TIMEOUT = 250;
/** Default `maxBusyWait` (ms). */
export const DEFAULT_MAX_BUSY_WAIT = 10_000;

/** What a table prefix must look like: an unquoted SQL identifier, 63 characters at most. */
export const TABLE_PREFIX_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
