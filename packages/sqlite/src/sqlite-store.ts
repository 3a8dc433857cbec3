import BetterSqlite3, { type Database } from 'better-sqlite3';
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
  appendedSince,
  assertPositiveInteger,
  checkExpectedLength,
  conflicts,
  newEpoch,
  normalizeMilliseconds,
  normalizeTtl,
  OPERATION_LOG_RETENTION,
  suffixMatches,
  type EncodedChanges,
  type EncodedItem,
  type HistoryVersion,
  type PreparedTransaction,
} from '@sessionkit/core/adapter';
import { retryBusy, retryBusySync } from './busy-retry.js';
import { mapSqliteError } from './map-error.js';
import {
  DEFAULT_BUSY_TIMEOUT,
  DEFAULT_MAX_BUSY_WAIT,
  DEFAULT_TABLE_PREFIX,
  TABLE_PREFIX_PATTERN,
  type SqliteStoreOptions,
} from './options.js';
import { ensureSchema, tableNames } from './schema.js';
import { prepareStatements, type SessionRow, type Statements } from './statements.js';

// Sessions deleted per write transaction by prune(), so a large prune never
// holds the write lock for long and other writers interleave.
const PRUNE_CHUNK = 256;

function invalidArgument(message: string): SessionError {
  return new SessionError(SessionErrorCode.InvalidArgument, message);
}

/**
 * A session store on SQLite (better-sqlite3): one row per item keyed by a
 * per-session sequence, so `getItems(limit)` reads `limit` rows through an
 * index whatever the history length; every write is one IMMEDIATE
 * transaction; transactions keep a durable operation log in the same
 * transaction. Several processes may share one file (WAL). See docs/sqlite.md.
 */
export class SqliteStore<TItem = SessionItem> extends AbstractSessionStore<TItem> {
  readonly capabilities: StoreCapabilities;
  /** The validated table prefix in use. */
  readonly tablePrefix: string;
  readonly #db: Database;
  readonly #owned: boolean;
  readonly #ttl: number | undefined;
  readonly #maxBusyWait: number;
  readonly #operationLogSize: number;
  readonly #sql: Statements;
  readonly #tx: ReturnType<SqliteStore['prepareTransactions']>;

  constructor(options: SqliteStoreOptions) {
    super();
    if (typeof options !== 'object' || options === null) throw invalidArgument('SqliteStore needs an options object');
    const { path, database } = options;
    if ((path === undefined) === (database === undefined)) {
      throw invalidArgument('SqliteStore needs exactly one of `path` or `database`');
    }
    if (path !== undefined && (typeof path !== 'string' || path === '')) {
      throw invalidArgument('path must be a file path or ":memory:"');
    }
    const prefix = options.tablePrefix ?? DEFAULT_TABLE_PREFIX;
    if (typeof prefix !== 'string' || !TABLE_PREFIX_PATTERN.test(prefix)) {
      throw invalidArgument('tablePrefix must match /^[A-Za-z_][A-Za-z0-9_]{0,62}$/');
    }
    const synchronous = options.synchronous ?? 'full';
    if (synchronous !== 'full' && synchronous !== 'normal') throw invalidArgument("synchronous must be 'full' or 'normal'");
    this.#ttl = normalizeTtl(options.ttl);
    this.#maxBusyWait = normalizeMilliseconds(options.maxBusyWait, 'maxBusyWait', DEFAULT_MAX_BUSY_WAIT);
    const busyTimeout = normalizeMilliseconds(options.busyTimeout, 'busyTimeout', DEFAULT_BUSY_TIMEOUT);
    const logSize = options.operationLogSize === undefined ? OPERATION_LOG_RETENTION : options.operationLogSize;
    assertPositiveInteger(logSize, 'operationLogSize');
    this.#operationLogSize = logSize;
    this.tablePrefix = prefix;

    this.#owned = database === undefined;
    try {
      if (database !== undefined) {
        if (typeof database?.prepare !== 'function') throw invalidArgument('database must be a better-sqlite3 Database');
        if (!database.open) throw new SessionError(SessionErrorCode.Closed, 'the database you passed is closed');
        this.#db = database;
        if (options.busyTimeout !== undefined) database.pragma(`busy_timeout = ${busyTimeout}`);
      } else {
        this.#db = new BetterSqlite3(path!, { timeout: busyTimeout });
      }
    } catch (error) {
      throw mapSqliteError(error);
    }
    const db = this.#db;
    const names = tableNames(prefix);
    try {
      retryBusySync(() => {
        if (this.#owned && !db.memory) {
          // WAL: readers never block writers or each other, which is what lets processes share the file.
          db.pragma('journal_mode = WAL');
          db.pragma(`synchronous = ${synchronous.toUpperCase()}`);
        }
        ensureSchema(db, names);
      }, this.#maxBusyWait);
      this.#sql = prepareStatements(db, names);
      this.#tx = this.prepareTransactions();
    } catch (error) {
      if (this.#owned) db.close();
      throw mapSqliteError(error);
    }
    const persistent = !db.memory && db.name !== '';
    this.capabilities = Object.freeze({
      transactions: true,
      listSessions: true,
      sessionInfo: true,
      prune: true,
      ttl: true,
      persistent,
      atomicReadModifyWrite: true,
      transactionPreconditions: true,
      replaceHistory: true,
      historyMutations: true,
      conditionalAppend: true,
      readChanges: true,
    });
  }

  // ---- session rows (run inside a write transaction) ----

  /** Reads whose sessions were last written at or before this instant are expired. */
  #liveAfter(now: number): number {
    return this.#ttl === undefined ? Number.MIN_SAFE_INTEGER : now - this.#ttl;
  }

  #purge(sid: number): void {
    this.#sql.deleteItems.run(sid);
    this.#sql.deleteOperations.run(sid);
    this.#sql.deleteSession.run(sid);
  }

  /** The session's row, or undefined; an expired session is deleted here (items, log and all). */
  #live(sessionId: string, now: number): SessionRow | undefined {
    const row = this.#sql.findSession.get(sessionId);
    if (row && row.updated_at <= this.#liveAfter(now)) {
      this.#purge(row.sid);
      return undefined;
    }
    return row;
  }

  /**
   * The live row, created when absent (with a new epoch: a deleted or expired
   * session comes back as a new run of appends); `created_at` restarts when
   * the session was empty.
   */
  #touch(sessionId: string, now: number): SessionRow {
    const row = this.#live(sessionId, now);
    if (row) {
      if (row.item_count === 0) row.created_at = now;
      row.updated_at = now;
      return row;
    }
    const sid = Number(this.#sql.insertSession.run(sessionId, now, now, newEpoch()).lastInsertRowid);
    return { sid, session_id: sessionId, created_at: now, updated_at: now, item_count: 0, last_seq: 0, last_op: 0 };
  }

  /** Writes the row back; an append keeps the epoch, every other write passes `renew` (same one UPDATE). */
  #save(row: SessionRow, renew = false): void {
    if (renew) {
      this.#sql.renewSession.run(row.created_at, row.updated_at, row.item_count, row.last_seq, row.last_op, newEpoch(), row.sid);
    } else {
      this.#sql.updateSession.run(row.created_at, row.updated_at, row.item_count, row.last_seq, row.last_op, row.sid);
    }
  }

  #append(row: SessionRow, items: readonly EncodedItem[]): void {
    let seq = row.last_seq;
    for (const item of items) this.#sql.insertItem.run(row.sid, ++seq, item);
    row.last_seq = seq;
    row.item_count += items.length;
  }

  // better-sqlite3 transaction functions, built once; each call runs as BEGIN IMMEDIATE ... COMMIT.
  private prepareTransactions() {
    const db = this.#db;
    return {
      append: db.transaction((sessionId: string, items: readonly EncodedItem[], expectedLength: number | undefined) => {
        const row = this.#touch(sessionId, Date.now());
        // A conditional append: throwing rolls back the row #touch may have created.
        checkExpectedLength({ expectedLength }, row.item_count);
        this.#append(row, items);
        this.#save(row);
      }),
      pop: db.transaction(<R>(sessionId: string, decode: (encoded: EncodedItem) => R): { value: R } | undefined => {
        const now = Date.now();
        const row = this.#live(sessionId, now);
        if (!row || row.item_count === 0) return undefined;
        const newest = this.#sql.newestOne.get(row.sid);
        if (!newest) return undefined;
        // Throws on corrupt data, which rolls the transaction back: the item stays.
        const value = decode(newest.item);
        this.#sql.deleteItemsFrom.run(row.sid, newest.seq);
        row.item_count -= 1;
        row.updated_at = now;
        this.#save(row, true);
        return { value };
      }),
      clear: db.transaction((sessionId: string) => {
        const row = this.#sql.findSession.get(sessionId);
        if (row) this.#purge(row.sid);
      }),
      apply: db.transaction((sessionId: string, tx: PreparedTransaction) => {
        const now = Date.now();
        const existing = this.#live(sessionId, now);
        if (existing) {
          const previous = this.#sql.findOperation.get(existing.sid, tx.operationId);
          if (previous !== undefined) {
            if (previous !== tx.fingerprint) throw conflicts.operationReused();
            return;
          }
        }
        checkExpectedLength(tx, existing?.item_count ?? 0);
        const k = tx.expectedSuffix.length;
        let firstReplaced: number | undefined;
        if (k > 0) {
          const newest = existing ? this.#sql.newest.all(existing.sid, k) : [];
          if (newest.length < k) throw conflicts.suffixMismatch();
          newest.reverse();
          if (!suffixMatches(newest.map((r) => r.item), tx.expectedSuffix)) throw conflicts.suffixMismatch();
          firstReplaced = newest[0]!.seq;
        }
        const row = this.#touch(sessionId, now);
        if (firstReplaced !== undefined) {
          this.#sql.deleteItemsFrom.run(row.sid, firstReplaced);
          row.item_count -= k;
        }
        this.#append(row, tx.replacement);
        row.last_op += 1;
        this.#sql.insertOperation.run(row.sid, row.last_op, tx.operationId, tx.fingerprint);
        // Keep only the newest operationLogSize ids.
        this.#sql.trimOperations.run(row.sid, row.last_op - this.#operationLogSize);
        // Replacing a suffix is not an append: a new epoch. An append_items (k = 0) keeps it.
        this.#save(row, firstReplaced !== undefined);
      }),
      // One IMMEDIATE transaction: a reader (WAL snapshot) sees the old rows or
      // the new ones, never the gap between delete and insert. The operation
      // log stays (a replayed transaction must still be recognised) and
      // created_at stays unless the session was empty (#touch).
      replace: db.transaction((sessionId: string, items: readonly EncodedItem[]) => {
        const row = this.#touch(sessionId, Date.now());
        this.#sql.deleteItems.run(row.sid);
        row.item_count = 0;
        row.last_seq = 0;
        this.#append(row, items);
        this.#save(row, true);
      }),
      // One read transaction (BEGIN DEFERRED, run with .deferred()): the WAL
      // snapshot taken by the first SELECT serves the item read too, so no
      // other connection's write falls between the version and the items.
      changes: db.transaction((sessionId: string, since: HistoryVersion | undefined): EncodedChanges => {
        const liveAfter = this.#liveAfter(Date.now());
        const row = this.#sql.version.get(sessionId, liveAfter);
        const epoch = row?.epoch ?? '';
        const length = row?.item_count ?? 0;
        const version = { epoch, length };
        if (appendedSince(since, epoch, length)) {
          const count = length - since.length;
          // The newest `count` rows through the getItems tail read: O(count), never a walk from the start.
          const items = count === 0 ? [] : this.#sql.tail.all(sessionId, liveAfter, count).reverse();
          return { version, whole: false, items };
        }
        return { version, whole: true, items: row ? this.#sql.all.all(sessionId, liveAfter) : [] };
      }),
      prune: db.transaction((cutoff: number): { deleted: number; counted: number } => {
        const liveAfter = this.#liveAfter(Date.now());
        // Sessions written before the cutoff, and every session the ttl has
        // expired (updated_at <= liveAfter): their rows are otherwise only
        // deleted by a later write to the same session, so prune sweeps them.
        const rows = this.#sql.staleSessions.all(Math.max(cutoff, liveAfter + 1), PRUNE_CHUNK);
        let counted = 0;
        for (const row of rows) {
          this.#purge(row.sid);
          // Only sessions a reader could still see count: empty and expired ones did not exist for readers.
          if (row.item_count > 0 && row.updated_at > liveAfter) counted++;
        }
        return { deleted: rows.length, counted };
      }),
    };
  }

  // Made once: a call waiting out a lock stops (CLOSED) if the store was closed meanwhile.
  readonly #stillOpen = () => this.assertOpen();

  #retry<T>(fn: () => T): Promise<T> {
    return retryBusy(fn, this.#maxBusyWait, this.#stillOpen);
  }

  // ---- the contract ----

  // Not async: the read is synchronous, and an extra async frame would add promise hops to every read.
  protected _getItems(sessionId: string, limit: number | undefined): Promise<EncodedItem[]> {
    return this.#retry(() => {
      const liveAfter = this.#liveAfter(Date.now());
      if (limit === undefined) return this.#sql.all.all(sessionId, liveAfter);
      return this.#sql.tail.all(sessionId, liveAfter, limit).reverse();
    });
  }

  // Not async, like _getItems.
  protected override _readChanges(sessionId: string, since: HistoryVersion | undefined): Promise<EncodedChanges> {
    return this.#retry(() => this.#tx.changes.deferred(sessionId, since));
  }

  protected async _addItems(sessionId: string, items: EncodedItem[], options?: AddItemsOptions): Promise<void> {
    await this.#retry(() => this.#tx.append.immediate(sessionId, items, options?.expectedLength));
  }

  protected async _popItem<R>(sessionId: string, decode: (encoded: EncodedItem) => R): Promise<R | undefined> {
    const popped = await this.#retry(() => this.#tx.pop.immediate(sessionId, decode));
    return popped?.value as R | undefined;
  }

  protected async _clearSession(sessionId: string): Promise<void> {
    await this.#retry(() => this.#tx.clear.immediate(sessionId));
  }

  protected override async _applyHistoryTransaction(sessionId: string, tx: PreparedTransaction): Promise<void> {
    await this.#retry(() => this.#tx.apply.immediate(sessionId, tx));
  }

  protected override async _replaceHistory(sessionId: string, items: EncodedItem[]): Promise<void> {
    await this.#retry(() => this.#tx.replace.immediate(sessionId, items));
  }

  #info(row: SessionRow): SessionInfo {
    return {
      sessionId: row.session_id,
      itemCount: row.item_count,
      createdAt: new Date(row.created_at),
      updatedAt: new Date(row.updated_at),
      ...(this.#ttl !== undefined ? { expiresAt: new Date(row.updated_at + this.#ttl) } : {}),
    };
  }

  protected override async _getSessionInfo(sessionId: string): Promise<SessionInfo | undefined> {
    const row = await this.#retry(() => this.#sql.info.get(sessionId, this.#liveAfter(Date.now())));
    return row ? this.#info(row) : undefined;
  }

  protected override async *_listSessions(pageSize: number): AsyncIterable<SessionInfo> {
    // Session ids are non-empty, so every id sorts after ''.
    let cursor = '';
    while (true) {
      const rows = await this.#retry(() => this.#sql.listPage.all(cursor, this.#liveAfter(Date.now()), pageSize));
      for (const row of rows) yield this.#info(row);
      if (rows.length < pageSize) return;
      cursor = rows[rows.length - 1]!.session_id;
    }
  }

  protected override async _prune(olderThanMs: number): Promise<number> {
    let total = 0;
    while (true) {
      const { deleted, counted } = await this.#retry(() => this.#tx.prune.immediate(olderThanMs));
      total += counted;
      if (deleted < PRUNE_CHUNK) return total;
    }
  }

  protected override mapError(error: unknown): SessionError {
    return mapSqliteError(error);
  }

  protected async _close(): Promise<void> {
    if (this.#owned) this.#db.close();
  }
}
