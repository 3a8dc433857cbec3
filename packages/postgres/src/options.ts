import type { Pool, PoolConfig } from 'pg';

/**
 * Options for {@link PostgresStore}. Give exactly one of `connectionString`
 * (the store opens a `pg.Pool` and closes it on `close()`) or `pool` (yours;
 * the store never ends it).
 */
export interface PostgresStoreOptions {
  /** `postgres://user:pass@host:port/db` for a pool the store opens and owns. Default: none. */
  readonly connectionString?: string;
  /**
   * Extra `pg.Pool` settings for a pool the store opens (`max`, `ssl`,
   * `connectionTimeoutMillis`, ...). Ignored with `pool`.
   * Default: `{ max: 10, connectionTimeoutMillis: 10000 }`.
   */
  readonly poolConfig?: Omit<PoolConfig, 'connectionString'>;
  /** A `pg.Pool` you created and own. The store creates its tables through it but never calls `end()`. Default: none. */
  readonly pool?: Pool;
  /**
   * The PostgreSQL schema holding the store's tables, created when missing.
   * An identifier matching `/^[A-Za-z_][A-Za-z0-9_]{0,62}$/` (quoted in SQL,
   * so case is kept); INVALID_ARGUMENT otherwise. Default: `'public'`.
   */
  readonly schema?: string;
  /**
   * Prefix of the store's table and index names, same rule as `schema`; with
   * the longest suffix the names stay within PostgreSQL's 63 bytes, so at most
   * 40 characters. Stores with the same schema and prefix share sessions.
   * Default: `'sessionkit_'`.
   */
  readonly tablePrefix?: string;
  /**
   * Milliseconds after the last write (append, pop, transaction, replace) at
   * which a session expires. Expired sessions read as empty at once; their
   * rows are deleted by the next write to that session or by `prune()`.
   * Default: none (sessions never expire).
   */
  readonly ttl?: number;
  /**
   * Send statements as named (protocol-level) prepared statements, so the
   * server plans each once per connection instead of on every call. Works
   * directly and behind PgBouncer 1.21+ with `max_prepared_statements` > 0.
   * Behind a pooler that does not track them (older PgBouncer in transaction
   * mode) the store notices the first refusal (26000 / 42P05, raised before
   * anything runs) and goes on with unnamed statements; set `false` to start
   * that way. Default: `true`.
   */
  readonly preparedStatements?: boolean;
  /** Operation ids remembered per session for transaction idempotency. Default: 1000 (`OPERATION_LOG_RETENTION`). */
  readonly operationLogSize?: number;
  /**
   * Milliseconds one statement may wait for the server's answer (pg's
   * `query_timeout`, set on each of the store's statements, so it also holds
   * on a pool you pass). Past it the call fails with BACKEND_UNAVAILABLE and
   * the connection is closed rather than reused, which rolls back an open
   * transaction; a single-statement write may still have landed, as with any
   * outage. Without it a server that stops answering (a stalled host, a
   * network that drops packets) hangs calls until the operating system gives
   * up on the socket. Schema setup in `ready()` is not limited (an index
   * build may take long). 0 turns the limit off. Default: 30000.
   */
  readonly queryTimeout?: number;
}

/** Default `queryTimeout` (ms). */
export const DEFAULT_QUERY_TIMEOUT = 30_000;

/** Default schema. */
export const DEFAULT_SCHEMA = 'public';
/** Default table prefix. */
export const DEFAULT_TABLE_PREFIX = 'sessionkit_';
/** What a schema name must look like: an SQL identifier of at most 63 characters. */
export const SCHEMA_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
/** What a table prefix must look like: its longest derived name (`<prefix>operations_by_seq`) fits 63 bytes. */
export const TABLE_PREFIX_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,39}$/;
