import pg from 'pg';
import {
  SessionError,
  SessionErrorCode,
  type AddItemsOptions,
  type SessionInfo,
  type SessionItem,
  type StoreCapabilities,
} from '@sessionkit/core';
import {
  AbstractSessionStore,
  assertPositiveInteger,
  checkExpectedLength,
  conflicts,
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
import { changesFromRows, type ChangesRow } from './changes-rows.js';
import { isItemRefused, isPreparedStatementMismatch, isQueryTimeout, isRetryableConflict, mapPostgresError } from './map-error.js';
import {
  DEFAULT_QUERY_TIMEOUT,
  DEFAULT_SCHEMA,
  DEFAULT_TABLE_PREFIX,
  SCHEMA_PATTERN,
  TABLE_PREFIX_PATTERN,
  type PostgresStoreOptions,
} from './options.js';
import { ensureSchema, tableNames, type TableNames } from './schema.js';
import { namedStatements, statementSql, type Statement } from './statements.js';

/** Sessions deleted per statement by prune(), so a large prune never holds many row locks at once. */
export const PRUNE_BATCH = 500;


function invalidArgument(message: string): SessionError {
  return new SessionError(SessionErrorCode.InvalidArgument, message);
}

/** Lost the race for the session row's version: run the operation again. */
class LostRace extends Error {}

const isRace = (error: unknown): boolean => error instanceof LostRace || isRetryableConflict(error);

/** The largest bigint: with 0, the reads' whole-range bounds (see statements.ts). */
const MAX_SEQ = '9223372036854775807';

const idBytes = (sessionId: string): Buffer => Buffer.from(sessionId, 'utf8');

/** pg reads `query_timeout` from a query's config too; its types do not list it. */
type TimedQueryConfig = pg.QueryConfig & { rowMode?: 'array'; query_timeout?: number };

/** Runs one statement and returns its rows: on the pool, or on a transaction's client. */
type Run = <T extends pg.QueryResultRow>(statement: Statement, values: unknown[]) => Promise<T[]>;

interface TxRow {
  sid: string;
  created_at: string;
  updated_at: string;
  item_count: number;
  last_seq: string;
  last_op: string;
  base_op: string;
  fingerprint: string | null;
  newest: string[];
  first_seq: string | null;
}

interface InfoRow {
  session_id: Buffer;
  created_at: string;
  updated_at: string;
  item_count: number;
}

/**
 * A session store on PostgreSQL (node-postgres): one row per item keyed by
 * (session, sequence), so `getItems(limit)` reads `limit` rows through the
 * primary key whatever the history length. Appends are one statement; pops,
 * transactions, replace, clear and prune read once and write once with a
 * statement conditioned on the session's version. Statements are named
 * (protocol-level) prepared statements, planned once per connection; no
 * explicit transactions on the common paths, no advisory locks or LISTEN:
 * safe behind PgBouncer in transaction mode (1.21+ keeps named statements; an
 * older one is detected and the store goes on unnamed). See docs/postgres.md.
 */
export class PostgresStore<TItem = SessionItem> extends AbstractSessionStore<TItem> {
  readonly capabilities: StoreCapabilities;
  /** The validated schema in use. */
  readonly schema: string;
  /** The validated table prefix in use. */
  readonly tablePrefix: string;
  readonly #pool: pg.Pool;
  readonly #owned: boolean;
  readonly #ttl: number | undefined;
  readonly #operationLogSize: number;
  /** pg's `query_timeout` for each statement; undefined: none (the pool's own setting, if any). */
  readonly #queryTimeout: number | undefined;
  readonly #tables: TableNames;
  readonly #sql: { readonly [K in keyof ReturnType<typeof statementSql>]: Statement };
  /** Send statements named (prepared once per connection); false after a pooler refused them. */
  #prepare: boolean;
  #ready: Promise<void> | undefined;
  /** Set once the schema is known to be current: queries then skip the await on `ready()`. */
  #isReady = false;

  constructor(options: PostgresStoreOptions) {
    super();
    if (typeof options !== 'object' || options === null) throw invalidArgument('PostgresStore needs an options object');
    const { connectionString, pool } = options;
    if ((connectionString === undefined) === (pool === undefined)) {
      throw invalidArgument('PostgresStore needs exactly one of `connectionString` or `pool`');
    }
    if (connectionString !== undefined && (typeof connectionString !== 'string' || connectionString === '')) {
      throw invalidArgument('connectionString must be a postgres:// URL');
    }
    if (pool !== undefined && (typeof pool !== 'object' || pool === null || typeof pool.query !== 'function' || typeof pool.connect !== 'function')) {
      throw invalidArgument('pool must be a pg Pool');
    }
    const schema = options.schema ?? DEFAULT_SCHEMA;
    if (typeof schema !== 'string' || !SCHEMA_PATTERN.test(schema)) {
      throw invalidArgument('schema must match /^[A-Za-z_][A-Za-z0-9_]{0,62}$/');
    }
    const prefix = options.tablePrefix ?? DEFAULT_TABLE_PREFIX;
    if (typeof prefix !== 'string' || !TABLE_PREFIX_PATTERN.test(prefix)) {
      throw invalidArgument('tablePrefix must match /^[A-Za-z_][A-Za-z0-9_]{0,39}$/');
    }
    this.#ttl = normalizeTtl(options.ttl);
    const logSize = options.operationLogSize === undefined ? OPERATION_LOG_RETENTION : options.operationLogSize;
    assertPositiveInteger(logSize, 'operationLogSize');
    this.#operationLogSize = logSize;
    const queryTimeout = normalizeMilliseconds(options.queryTimeout, 'queryTimeout', DEFAULT_QUERY_TIMEOUT);
    this.#queryTimeout = queryTimeout > 0 ? queryTimeout : undefined;
    this.schema = schema;
    this.tablePrefix = prefix;
    this.#tables = tableNames(schema, prefix);
    this.#sql = namedStatements(statementSql(this.#tables, this.#ttl !== undefined));
    if (options.preparedStatements !== undefined && typeof options.preparedStatements !== 'boolean') {
      throw invalidArgument('preparedStatements must be a boolean');
    }
    this.#prepare = options.preparedStatements ?? true;
    this.#owned = pool === undefined;
    this.#pool =
      pool ?? new pg.Pool({ max: 10, connectionTimeoutMillis: 10_000, ...options.poolConfig, connectionString });
    // An idle pooled connection that dies (server restart) emits 'error' on the
    // pool; unhandled it would crash the process. The next query reconnects.
    if (this.#owned) this.#pool.on('error', () => undefined);
    this.capabilities = Object.freeze({
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
    });
  }

  /**
   * Creates or migrates the tables (see schema.ts). Runs once, on first use;
   * call it yourself to fail fast at startup. A failure is not cached: the
   * next call tries again (the server may have been down).
   */
  ready(): Promise<void> {
    this.#ready ??= ensureSchema(this.#pool, this.#tables).then(
      () => {
        this.#isReady = true;
      },
      (error: unknown) => {
        this.#ready = undefined;
        throw mapPostgresError(error);
      },
    );
    return this.#ready;
  }

  /** The query config pg gets: named while prepared statements are on, with the store's `query_timeout`. */
  #config(statement: Statement, values: unknown[], rowMode?: 'array'): pg.QueryConfig {
    return this.#timed(
      this.#prepare
        ? { name: statement.name, text: statement.text, values, ...(rowMode ? { rowMode } : {}) }
        : { text: statement.text, values, ...(rowMode ? { rowMode } : {}) },
    );
  }

  /** `config` with the store's `query_timeout`: every statement, a transaction's BEGIN, COMMIT and ROLLBACK included. */
  #timed(config: TimedQueryConfig): pg.QueryConfig {
    if (this.#queryTimeout !== undefined) config.query_timeout = this.#queryTimeout;
    return config;
  }

  /**
   * A pooler without prepared-statement support (PgBouncer before 1.21, or
   * max_prepared_statements = 0, in transaction mode) hands consecutive
   * statements of one client to different server connections, so a named
   * statement is missing (26000) or already there (42P05). Both fail before
   * the statement runs, so nothing happened: switch to unnamed statements for
   * the rest of this store's life and let the caller run it again. Only named
   * statements can fail so (the store never sends SQL-level PREPARE), and
   * statements sent named before the first refusal came back fail so too,
   * after the switch: every one of them is run again, unnamed.
   */
  #preparedRefused(error: unknown): boolean {
    if (!isPreparedStatementMismatch(error)) return false;
    this.#prepare = false;
    return true;
  }

  async #query<R extends pg.QueryResultRow>(statement: Statement, values: unknown[], rowMode?: 'array'): Promise<R[]> {
    if (!this.#isReady) await this.ready();
    try {
      return (await this.#pool.query<R>(this.#config(statement, values, rowMode))).rows;
    } catch (error) {
      if (!this.#preparedRefused(error)) throw error;
      return (await this.#pool.query<R>(this.#config(statement, values, rowMode))).rows;
    }
  }

  /**
   * Runs `work` in one transaction on a pooled connection and commits it; rolls
   * back on any error. A serialization failure or deadlock (only under a
   * stricter server default) is retried like any lost race.
   */
  #locked<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.#retry(async () => {
      await this.ready();
      const client = await this.#pool.connect();
      let broken: unknown;
      try {
        await client.query(this.#timed({ text: 'BEGIN' }));
        const result = await work(client);
        await client.query(this.#timed({ text: 'COMMIT' }));
        return result;
      } catch (error) {
        // A statement that timed out still occupies the connection, so a ROLLBACK would wait behind it:
        // closing the connection instead (release with an error) makes the server roll back.
        if (isQueryTimeout(error)) broken = error;
        else await client.query(this.#timed({ text: 'ROLLBACK' })).catch((rollbackError: unknown) => (broken = rollbackError));
        throw error;
      } finally {
        client.release(broken instanceof Error ? broken : undefined);
      }
    });
  }

  /** Runs a read-then-conditional-write attempt until it does not lose a race. */
  #retry<T>(attempt: () => Promise<T>): Promise<T> {
    return retryOnConflict(attempt, {
      isConflict: (error) => isRace(error) || this.#preparedRefused(error),
      operation: 'postgres write',
    });
  }

  /** Reads whose sessions were last written at or before this instant are expired. */
  #liveAfter(now: number): number {
    return this.#ttl === undefined ? Number.MIN_SAFE_INTEGER : now - this.#ttl;
  }

  // ---- the contract ----

  protected async _getItems(sessionId: string, limit: number | undefined): Promise<EncodedItem[]> {
    const liveAfter = this.#liveAfter(Date.now());
    // Rows as arrays: no object per row for a one-column result.
    if (limit === undefined) {
      const rows = await this.#query<[string]>(this.#sql.all, [idBytes(sessionId), liveAfter, 0, MAX_SEQ], 'array');
      const items = new Array<string>(rows.length);
      for (let i = 0; i < rows.length; i++) items[i] = rows[i]![0];
      return items;
    }
    const rows = await this.#query<[string]>(this.#sql.tail, [idBytes(sessionId), liveAfter, limit, 0, MAX_SEQ], 'array');
    // Newest first from the backward index scan: fill oldest first.
    const n = rows.length;
    const items = new Array<string>(n);
    for (let i = 0; i < n; i++) items[n - 1 - i] = rows[i]![0];
    return items;
  }

  protected async _addItems(sessionId: string, items: EncodedItem[], options?: AddItemsOptions): Promise<void> {
    const now = Date.now();
    const expected = options?.expectedLength;
    // The new epoch is used only if the write creates the session or starts a new life of an expired one
    // (see statements.ts): an append keeps the session's epoch.
    // A deadlock cannot arise from one upsert, but a serialization failure can
    // under a stricter default isolation level set on the server: run it again.
    if (expected === undefined) {
      const values = [idBytes(sessionId), now, this.#liveAfter(now), items.length, items, newEpoch()];
      await this.#retry(() => this.#query(this.#sql.append, values));
      return;
    }
    const values = [idBytes(sessionId), now, this.#liveAfter(now), items.length, items, expected, newEpoch()];
    const [done] = await this.#retry(() => this.#query<{ n: number }>(this.#sql.appendIf, values));
    // Nothing written: the session did not hold exactly `expected` live items (see statements.ts).
    if (done?.n !== 1) throw conflicts.lengthMismatch();
  }

  protected async _popItem<R>(sessionId: string, decode: (encoded: EncodedItem) => R): Promise<R | undefined> {
    const id = idBytes(sessionId);
    type Newest = { sid: string; last_seq: string; seq: string; item: string };
    // Decode, then delete exactly that item if the session's version is still the one read.
    const decodeThenDelete = async (row: Newest, run: Run) => {
      // Throws on corrupt data before anything is deleted: the item stays.
      const value = decode(row.item);
      const [done] = await run<{ n: number }>(this.#sql.popWrite, [row.sid, row.last_seq, row.seq, Date.now(), newEpoch()]);
      if (done?.n !== 1) throw new LostRace();
      return { value };
    };
    const twoSteps = async (run: Run) => {
      const [row] = await run<Newest>(this.#sql.popRead, [id, this.#liveAfter(Date.now())]);
      return row ? decodeThenDelete(row, run) : { value: undefined };
    };
    const query: Run = (statement, values) => this.#query(statement, values);
    try {
      // One round trip: popOne deletes the newest item only if PostgreSQL's JSON parser accepts it and it
      // holds no tag, i.e. when decoding it is JSON.parse alone, which accepts everything PostgreSQL's
      // parser does (test/pop.test.ts). So the decode below cannot fail on an item already deleted.
      let row: (Newest & { plain: boolean; n: number }) | undefined;
      try {
        [row] = await query<Newest & { plain: boolean; n: number }>(this.#sql.popOne, [id, this.#liveAfter(Date.now()), Date.now(), newEpoch()]);
      } catch (error) {
        // PostgreSQL refused the item as JSON; the statement changed nothing. JS judges it instead.
        if (!isItemRefused(error)) throw error;
        return (await twoSteps(query)).value;
      }
      if (!row) return undefined;
      if (row.n === 1) return decode(row.item);
      // Not deleted: a tagged item (decoded in JS first), or another writer moved the version (a race).
      if (!row.plain) return (await decodeThenDelete(row, query)).value;
      throw new LostRace();
    } catch (error) {
      if (!isRace(error)) throw error;
    }
    // A pop that lost a race waits its turn on the session's row lock instead: concurrent
    // poppers on one session would otherwise starve each other's retries.
    return await this.#locked(async (client) => {
      const run: Run = async (statement, values) => (await client.query(this.#config(statement, values))).rows;
      await run(this.#sql.lockSession, [id]);
      return (await twoSteps(run)).value;
    });
  }

  protected async _clearSession(sessionId: string): Promise<void> {
    const id = idBytes(sessionId);
    await this.#retry(async () => {
      const [row] = await this.#query<{ sid: string; last_seq: string }>(this.#sql.findSession, [id]);
      if (!row) return;
      const deleted = await this.#query(this.#sql.deleteSessions, [[row.sid], [row.last_seq]]);
      if (deleted.length !== 1) throw new LostRace();
    });
  }

  protected override async _applyHistoryTransaction(sessionId: string, tx: PreparedTransaction): Promise<void> {
    const id = idBytes(sessionId);
    const opId = Buffer.from(tx.operationId, 'utf8');
    const k = tx.expectedSuffix.length;
    await this.#retry(async () => {
      const now = Date.now();
      const [row] = await this.#query<TxRow>(this.#sql.txRead, [id, opId, k]);
      const live = row !== undefined && Number(row.updated_at) > this.#liveAfter(now);
      if (live && row.fingerprint !== null) {
        if (row.fingerprint !== tx.fingerprint) throw conflicts.operationReused();
        return;
      }
      const count = live ? row.item_count : 0;
      checkExpectedLength(tx, count);
      if (k > 0) {
        const newest = live ? row.newest.slice().reverse() : [];
        if (newest.length < k || !suffixMatches(newest, tx.expectedSuffix)) throw conflicts.suffixMismatch();
      }
      const replacement = tx.replacement as string[];
      if (!row) {
        const [done] = await this.#query<{ n: number }>(this.#sql.txCreate, [id, now, replacement, opId, tx.fingerprint, newEpoch()]);
        if (done?.n !== 1) throw new LostRace();
        return;
      }
      const version = Number(row.last_seq);
      const lastOp = Number(row.last_op);
      const [done] = await this.#query<{ n: number }>(this.#sql.txWrite, [
        row.sid,
        row.last_seq,
        now,
        live && count > 0 ? row.created_at : now,
        // Items from this seq on go: the replaced suffix, or (expired) everything.
        !live ? 0 : k > 0 ? row.first_seq : version + 1,
        replacement,
        count - k + replacement.length,
        opId,
        tx.fingerprint,
        live ? row.base_op : lastOp,
        // Keep only the newest operationLogSize ids (the new one is lastOp + 1).
        lastOp + 1 - this.#operationLogSize,
        // A new epoch unless this only appends to the live history (append_items, or nothing expected).
        !live || k > 0 ? newEpoch() : null,
      ]);
      if (done?.n !== 1) throw new LostRace();
    });
  }

  protected override async _replaceHistory(sessionId: string, items: EncodedItem[]): Promise<void> {
    const id = idBytes(sessionId);
    await this.#retry(async () => {
      const now = Date.now();
      const [row] = await this.#query<TxRow>(this.#sql.txRead, [id, null, 0]);
      if (!row) {
        if (items.length === 0) return;
        const [done] = await this.#query<{ n: number }>(this.#sql.txCreate, [id, now, items, null, null, newEpoch()]);
        if (done?.n !== 1) throw new LostRace();
        return;
      }
      const live = Number(row.updated_at) > this.#liveAfter(now);
      const [done] = await this.#query<{ n: number }>(this.#sql.txWrite, [
        row.sid,
        row.last_seq,
        now,
        live && row.item_count > 0 ? row.created_at : now,
        0,
        items,
        items.length,
        null,
        null,
        live ? row.base_op : row.last_op,
        // The operation log is kept whole.
        -1,
        newEpoch(),
      ]);
      if (done?.n !== 1) throw new LostRace();
    });
  }

  protected override async _readChanges(sessionId: string, since: HistoryVersion | undefined): Promise<EncodedChanges> {
    // Stored epochs are newEpoch()'s, so one PostgreSQL text could not carry (U+0000, a lone surrogate)
    // names no session: sent as null (no epoch matches), not as a parameter the server would refuse.
    const sinceEpoch = since !== undefined && since.epoch.isWellFormed() && !since.epoch.includes('\u0000') ? since.epoch : null;
    const rows = await this.#query<ChangesRow>(
      this.#sql.changes,
      [idBytes(sessionId), this.#liveAfter(Date.now()), sinceEpoch, since?.length ?? 0, 0, MAX_SEQ],
      'array',
    );
    return changesFromRows(rows, since);
  }

  #info(row: InfoRow): SessionInfo {
    const updatedAt = Number(row.updated_at);
    return {
      sessionId: row.session_id.toString('utf8'),
      itemCount: row.item_count,
      createdAt: new Date(Number(row.created_at)),
      updatedAt: new Date(updatedAt),
      ...(this.#ttl !== undefined ? { expiresAt: new Date(updatedAt + this.#ttl) } : {}),
    };
  }

  protected override async _getSessionInfo(sessionId: string): Promise<SessionInfo | undefined> {
    const [row] = await this.#query<InfoRow>(this.#sql.info, [idBytes(sessionId), this.#liveAfter(Date.now())]);
    return row ? this.#info(row) : undefined;
  }

  protected override async *_listSessions(pageSize: number): AsyncIterable<SessionInfo> {
    // The empty byte string sorts before every session id.
    let cursor: Buffer = Buffer.alloc(0);
    while (true) {
      const rows = await this.#query<InfoRow>(this.#sql.listPage, [cursor, this.#liveAfter(Date.now()), pageSize]);
      for (const row of rows) yield this.#info(row);
      if (rows.length < pageSize) return;
      cursor = rows[rows.length - 1]!.session_id;
    }
  }

  protected override async _prune(olderThanMs: number): Promise<number> {
    let total = 0;
    while (true) {
      const liveAfter = this.#liveAfter(Date.now());
      // Sessions written before the cutoff, and every session the ttl has expired.
      const stale = await this.#query<{ sid: string; last_seq: string }>(this.#sql.staleSessions, [
        Math.max(olderThanMs, liveAfter + 1),
        PRUNE_BATCH,
      ]);
      if (stale.length === 0) return total;
      // A session written since it was read keeps its row (its version moved).
      const deleted = await this.#query<{ item_count: number; updated_at: string }>(this.#sql.deleteSessions, [
        stale.map((r) => r.sid),
        stale.map((r) => r.last_seq),
      ]);
      // Only sessions a reader could still see count: empty and expired ones did not exist for readers.
      for (const row of deleted) if (row.item_count > 0 && Number(row.updated_at) > liveAfter) total++;
      if (stale.length < PRUNE_BATCH) return total;
    }
  }

  protected override mapError(error: unknown): SessionError {
    return mapPostgresError(error);
  }

  protected async _close(): Promise<void> {
    // Core's close() has let every call finish first.
    if (this.#owned) await this.#pool.end();
  }
}
