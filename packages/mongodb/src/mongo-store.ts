import {
  SessionError,
  SessionErrorCode,
  type SessionInfo,
  type SessionItem,
  type StoreCapabilities,
} from '@sessionkit/core';
import {
  AbstractSessionStore,
  checkExpectedLength,
  conflicts,
  suffixMatches,
  type EncodedItem,
  type PreparedTransaction,
} from '@sessionkit/core/adapter';
import {
  MongoClient,
  ObjectId,
  ReadConcern,
  ReadConcernLevel,
  ReadPreference,
  type ClientSession,
  type Collection,
  type Db,
  type TransactionOptions,
} from 'mongodb';
import {
  assertItemsFit,
  assertSessionDocument,
  collectionNames,
  DEFAULT_MAX_BSON_OBJECT_SIZE,
  generationFilter,
  isExpired,
  isLive,
  ITEM_INDEXES,
  itemDocument,
  itemsFilter,
  MAX_TAIL_SLICE,
  newGeneration,
  SESSION_INDEXES,
  sessionFilter,
  sessionItemsFilter,
  sessionProjection,
  seqRangeFilter,
  toSessionInfo,
  type ItemDocument,
  type OperationRecord,
  type SessionDocument,
  type SessionProjectionOptions,
} from './documents.js';
import { planAppend, tailSeqs, type AppendPlan, type SeqRun } from './runs.js';
import { isDuplicateKeyError, mapMongoError } from './map-error.js';
import { resolveOptions, type MongoStoreOptions, type ResolvedOptions } from './options.js';

/** What the store found out about the deployment on first use. */
export interface MongoDeployment {
  /** `standalone`, `replicaSet` or `sharded` (from `hello`: `setName`, `msg: 'isdbgrid'`). */
  readonly kind: 'standalone' | 'replicaSet' | 'sharded';
  /** True when writes run in multi-document transactions; false: the single-document commit scheme. */
  readonly transactions: boolean;
  /** `hello.maxBsonObjectSize`, or 16 MiB when the server does not say. */
  readonly maxBsonObjectSize: number;
}

/** Per-write context: the ClientSession of the surrounding transaction, if any. */
interface Ctx {
  readonly session?: ClientSession;
}

/** The state a write builds on. */
interface WriteState {
  /** The document as stored (the compare-and-swap target), possibly expired; null when absent. */
  readonly stored: SessionDocument | null;
  /** `stored`, or a fresh incarnation when it is absent or expired. */
  readonly live: SessionDocument;
  readonly fresh: boolean;
}

interface Expiry {
  readonly set: Partial<Pick<SessionDocument, 'expiresAt' | 'itemsExpireAt'>>;
  readonly unset: readonly ('expiresAt' | 'itemsExpireAt')[];
  /** `expiresAt` for item documents written now. */
  readonly items: Date | undefined;
}

interface Change {
  readonly runs: SeqRun[];
  readonly count: number;
  readonly next: number;
  /** A transaction's log entry, pushed with the commit. */
  readonly op?: OperationRecord;
}

// Optimistic writes retry when another writer committed in between; reads
// retry when a commit removed items after they read the session document.
const MAX_ATTEMPTS = 20;
const PRUNE_BATCH = 100;
// Latest instant a BSON/JS Date can hold; a huge ttl saturates here.
const MAX_DATE_MS = 8.64e15;

// Snapshot reads and majority commits: what the server documents for
// transactions whose effects must survive a failover.
const TRANSACTION_OPTIONS: TransactionOptions = {
  readConcern: { level: 'snapshot' },
  writeConcern: { w: 'majority' },
  readPreference: 'primary',
};

// Pinned on the store's Db and collection handles, whatever the client or URI
// says: the session document and the items it names must come from the same
// member (a secondary can lag, so a mixed read looks like missing items and
// ends as a false CORRUPT_DATA); compare-and-swap commits need acknowledged
// writes (w: 0 gives no matchedCount), and majority keeps them through a
// failover, as the transaction path's commits. 'local' on the primary sees the
// newest commit, so an optimistic writer never spins on a lagging snapshot.
// Inside a transaction the driver sends the transaction's options instead.
const PINNED_READ_PREFERENCE = ReadPreference.PRIMARY;
const PINNED_READ_CONCERN = new ReadConcern(ReadConcernLevel.local);
const PINNED_WRITE_CONCERN = { w: 'majority' } as const;

function dateAt(ms: number): Date {
  return new Date(Math.min(ms, MAX_DATE_MS));
}

function kept(attempts: string): SessionError {
  return new SessionError(SessionErrorCode.Conflict, `session kept changing during ${attempts}; try again`);
}

function missingItems(): SessionError {
  return new SessionError(SessionErrorCode.CorruptData, 'item documents referenced by the session are missing');
}

/**
 * Tells a concurrent removal (read again) from damage: items of the same
 * version missing twice, or missing inside a snapshot transaction, are CORRUPT_DATA.
 */
function missingCheck(ctx: Ctx): (doc: SessionDocument) => void {
  let previous: SessionDocument | undefined;
  return (doc) => {
    if (ctx.session || (previous && previous.v === doc.v && previous.gen === doc.gen)) throw missingItems();
    previous = doc;
  };
}

// Inside a snapshot transaction a compare-and-swap cannot miss: a concurrent
// commit surfaces as WriteConflict (retried by withTransaction) instead.
function unexpectedMiss(): Error {
  return new SessionError(SessionErrorCode.BackendError, 'session document changed inside a transaction');
}

/**
 * A session store on MongoDB through the official driver. A session is one
 * document in `<prefix>sessions` (counter, history runs, metadata,
 * operation log); each item is one immutable document in `<prefix>items`.
 * A write inserts its new item documents first (unreferenced, so invisible)
 * and then commits by one compare-and-swap on the session document, inside a
 * multi-document transaction where the deployment has them. See
 * docs/mongodb.md for the layout, the guarantees and what each method issues.
 */
export class MongoStore<TItem = SessionItem> extends AbstractSessionStore<TItem> {
  readonly capabilities: StoreCapabilities = Object.freeze({
    transactions: true,
    listSessions: true,
    sessionInfo: true,
    prune: true,
    ttl: true,
    persistent: true,
    atomicReadModifyWrite: true,
    transactionPreconditions: true,
    replaceHistory: false,
    historyMutations: true,
  });
  /** The database holding the collections. */
  readonly database: string;
  /** The collection name prefix. */
  readonly collectionPrefix: string;
  readonly #options: ResolvedOptions;
  readonly #client: MongoClient;
  readonly #owned: boolean;
  readonly #db: Db;
  readonly #sessions: Collection<SessionDocument>;
  readonly #items: Collection<ItemDocument>;
  #deployment: Promise<MongoDeployment> | undefined;

  constructor(options: MongoStoreOptions) {
    super();
    this.#options = resolveOptions(options);
    const o = this.#options;
    this.database = o.database;
    this.collectionPrefix = o.collectionPrefix;
    if (o.client) {
      this.#client = o.client;
      this.#owned = false;
    } else {
      try {
        this.#client = new MongoClient(o.uri!, {
          serverSelectionTimeoutMS: o.serverSelectionTimeoutMS,
          connectTimeoutMS: o.serverSelectionTimeoutMS,
          ...o.clientOptions,
        });
      } catch (cause) {
        throw new SessionError(SessionErrorCode.InvalidArgument, 'uri or clientOptions were refused by the driver', { cause });
      }
      this.#owned = true;
    }
    const pinned = {
      readPreference: PINNED_READ_PREFERENCE,
      readConcern: PINNED_READ_CONCERN,
      writeConcern: PINNED_WRITE_CONCERN,
    };
    this.#db = this.#client.db(o.database, pinned);
    const names = collectionNames(o.collectionPrefix);
    this.#sessions = this.#db.collection<SessionDocument>(names.sessions, pinned);
    this.#items = this.#db.collection<ItemDocument>(names.items, pinned);
  }

  /** The driver client in use (yours if you passed `client`). */
  get client(): MongoClient {
    return this.#client;
  }

  /** The two collections, for inspection and operations tooling. Writing to them directly can break the store's invariants. */
  get collections(): { readonly sessions: Collection<SessionDocument>; readonly items: Collection<ItemDocument> } {
    return { sessions: this.#sessions, items: this.#items };
  }

  /**
   * Connects if needed, detects the deployment (`hello`) and creates the
   * indexes, once. Every operation does this first; call it to fail fast at
   * startup.
   */
  async deployment(): Promise<MongoDeployment> {
    this.assertOpen();
    try {
      return await this.#ensure();
    } catch (error) {
      throw this.mapError(error);
    }
  }

  protected override mapError(error: unknown): SessionError {
    return mapMongoError(error);
  }

  #ensure(): Promise<MongoDeployment> {
    // A failed attempt is forgotten, so the next call tries again.
    this.#deployment ??= this.#detect().catch((error: unknown) => {
      this.#deployment = undefined;
      throw error;
    });
    return this.#deployment;
  }

  async #detect(): Promise<MongoDeployment> {
    // The driver's automatic first connect leaves a closed topology behind
    // when it fails, and every later operation fails at once with
    // MongoTopologyClosedError. An explicit connect() builds a new one, so a
    // store-owned client recovers when the server comes back.
    if (this.#owned) await this.#client.connect();
    const hello = await this.#db.command({ hello: 1 });
    const kind: MongoDeployment['kind'] =
      hello.msg === 'isdbgrid' ? 'sharded' : typeof hello.setName === 'string' ? 'replicaSet' : 'standalone';
    // Transactions need a replica set or mongos, and logical sessions.
    const supported = kind !== 'standalone' && hello.logicalSessionTimeoutMinutes != null;
    const mode = this.#options.transactions;
    if (mode === 'always' && !supported) {
      throw new SessionError(
        SessionErrorCode.BackendError,
        "transactions: 'always' needs a replica set or sharded cluster; this deployment is " + kind,
      );
    }
    const maxBsonObjectSize =
      typeof hello.maxBsonObjectSize === 'number' && hello.maxBsonObjectSize > 0
        ? hello.maxBsonObjectSize
        : DEFAULT_MAX_BSON_OBJECT_SIZE;
    if (this.#options.ensureIndexes) {
      // Idempotent when the same indexes exist; creates the collections too,
      // so later writes never create a collection inside a transaction.
      await this.#sessions.createIndexes(SESSION_INDEXES);
      await this.#items.createIndexes(ITEM_INDEXES);
    }
    return { kind, transactions: mode !== 'never' && supported, maxBsonObjectSize };
  }

  /**
   * Runs a write: inside a transaction when the deployment has them, else
   * directly (single-document commit). withTransaction retries transient
   * errors only, and a duplicate key aborts the transaction: item documents a
   * single-document writer inserted and never committed hold those sequence
   * numbers. They are fenced off and deleted outside the transaction, and the
   * write starts over (at most MAX_ATTEMPTS times).
   */
  async #write<R>(sessionId: string, fn: (ctx: Ctx) => Promise<R>): Promise<R> {
    const deployment = await this.#ensure();
    if (!deployment.transactions) return fn({});
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#client.withSession((session) =>
          session.withTransaction(() => fn({ session }), TRANSACTION_OPTIONS),
        );
      } catch (error) {
        if (!isDuplicateKeyError(error) || attempt >= MAX_ATTEMPTS) throw error;
        await this.#sweepOrphans(sessionId);
      }
    }
  }

  /**
   * Deletes the item documents at or above the committed `next` of the
   * current incarnation (inserted, never committed). The fence first moves
   * `next` past them and bumps `v`, so every writer that read an older
   * version fails its compare-and-swap and none of them can ever be committed.
   */
  async #sweepOrphans(sessionId: string): Promise<void> {
    const doc = await this.#load(sessionId, {}, { tail: 1 });
    if (!doc) return;
    const top = await this.#items.findOne(generationFilter(sessionId, doc.gen), {
      projection: { _id: 0, seq: 1 },
      sort: { seq: -1 },
    });
    if (!top || !Number.isSafeInteger(top.seq) || top.seq < doc.next) return;
    const fence = await this.#sessions.updateOne(
      { ...sessionFilter(sessionId), v: { $eq: doc.v }, gen: { $eq: doc.gen } },
      { $set: { v: doc.v + 1 }, $max: { next: top.seq + 1 } },
    );
    // Another writer committed meanwhile: the retry reads its version (and sweeps again if it must).
    if (fence.matchedCount !== 1) return;
    await this.#items.deleteMany(seqRangeFilter(sessionId, doc.gen, doc.next, top.seq));
  }

  async #checkSize(sessionId: string, items: readonly EncodedItem[]): Promise<void> {
    // Checked against the documented 16 MiB first, so an oversized item fails
    // with TOO_LARGE even when the server is unreachable, then against the server's own limit.
    assertItemsFit(sessionId, items);
    const { maxBsonObjectSize } = await this.#ensure();
    assertItemsFit(sessionId, items, maxBsonObjectSize);
  }

  /** The session document, with at most the op-log entry `read.operationId` and, with `read.tail`, only the newest runs. */
  async #load(sessionId: string, ctx: Ctx, read: SessionProjectionOptions = {}): Promise<SessionDocument | null> {
    const doc = await this.#sessions.findOne(sessionFilter(sessionId), {
      projection: sessionProjection(read),
      ...(ctx.session ? { session: ctx.session } : {}),
    });
    if (doc === null) return null;
    // $elemMatch leaves the field out when no entry matches; other reads never ask for it.
    (doc as Partial<SessionDocument>).ops ??= [];
    assertSessionDocument(doc, 'full', read.tail);
    return doc;
  }

  #state(sessionId: string, stored: SessionDocument | null, now: number): WriteState {
    if (stored && !isExpired(stored, now)) return { stored, live: stored, fresh: false };
    const live: SessionDocument = {
      _id: sessionId,
      gen: newGeneration(),
      v: 0,
      next: 0,
      runs: [],
      count: 0,
      createdAt: new Date(now),
      updatedAt: new Date(now),
      ops: [],
    };
    return { stored, live, fresh: true };
  }

  /**
   * The expiry fields of a write. Item documents carry an `expiresAt` that is
   * always later than their session's (refreshed for the whole incarnation
   * about once per ttl, to last + 3·ttl), so the TTL monitor never deletes an
   * item of a live session, and removes a dead session's items after it.
   */
  async #expiry(sessionId: string, st: WriteState, now: number, ctx: Ctx): Promise<Expiry> {
    const ttl = this.#options.ttl;
    const options = ctx.session ? { session: ctx.session } : {};
    if (ttl === undefined) {
      if (!st.fresh && st.live.itemsExpireAt) {
        await this.#items.updateMany(generationFilter(sessionId, st.live.gen), { $unset: { expiresAt: '' } }, options);
      }
      return { set: {}, unset: st.fresh ? [] : ['expiresAt', 'itemsExpireAt'], items: undefined };
    }
    let itemsExpireAt = st.fresh ? undefined : st.live.itemsExpireAt;
    if (!itemsExpireAt || itemsExpireAt.getTime() < Math.min(now + 2 * ttl, MAX_DATE_MS)) {
      itemsExpireAt = dateAt(now + 3 * ttl);
      if (!st.fresh && st.live.count > 0) {
        await this.#items.updateMany(
          generationFilter(sessionId, st.live.gen),
          { $max: { expiresAt: itemsExpireAt } },
          options,
        );
      }
    }
    return { set: { expiresAt: dateAt(now + ttl), itemsExpireAt }, unset: [], items: itemsExpireAt };
  }

  /**
   * Writes the (empty) session document of a fresh incarnation before any of
   * its item documents, so every item document carries the `gen` of a
   * session document and clear and prune find even those a writer inserted
   * and never committed. Over an expired incarnation it is a compare-and-swap,
   * followed by deleting the old incarnation's item documents. Returns the
   * state to build on, or undefined when another writer got there first.
   */
  async #materialize(sessionId: string, st: WriteState, expiry: Expiry, now: number, ctx: Ctx): Promise<WriteState | undefined> {
    const options = ctx.session ? { session: ctx.session } : {};
    const doc: SessionDocument = {
      ...st.live,
      v: st.stored ? st.stored.v + 1 : 0,
      createdAt: new Date(now),
      updatedAt: new Date(now),
      ...expiry.set,
    };
    if (st.stored === null) {
      try {
        await this.#sessions.insertOne(doc, options);
      } catch (error) {
        // In a transaction the error must reach withTransaction (the server has aborted it).
        if (ctx.session || !isDuplicateKeyError(error)) throw error;
        return undefined;
      }
    } else {
      const { _id, ...replacement } = doc;
      const result = await this.#sessions.replaceOne(
        { ...sessionFilter(sessionId), v: { $eq: st.stored.v }, gen: { $eq: st.stored.gen } },
        replacement,
        options,
      );
      if (result.matchedCount !== 1) {
        if (ctx.session) throw unexpectedMiss();
        return undefined;
      }
      await this.#items.deleteMany(generationFilter(sessionId, st.stored.gen), options);
    }
    return { stored: doc, live: doc, fresh: false };
  }

  /**
   * Inserts new item documents at `[start, start + items.length)`; they are
   * invisible until a commit references them. Returns their ids, or
   * undefined when another writer already holds one of those sequence numbers
   * (then `next` has been moved past them and the caller starts over).
   */
  async #insertItems(
    sessionId: string,
    live: SessionDocument,
    start: number,
    items: readonly EncodedItem[],
    expiresAt: Date | undefined,
    ctx: Ctx,
  ): Promise<ObjectId[] | undefined> {
    const ids = items.map(() => new ObjectId());
    const docs = items.map((item, i) => itemDocument(sessionId, live.gen, start + i, item, expiresAt, ids[i]));
    try {
      await this.#items.insertMany(docs, { ordered: true, ...(ctx.session ? { session: ctx.session } : {}) });
      return ids;
    } catch (error) {
      // In a transaction the error must reach withTransaction (the server has aborted it); #write sweeps and retries.
      if (ctx.session || !isDuplicateKeyError(error)) throw error;
      await this.#discard(sessionId, ids);
      // Without a transaction the holder may be a live writer about to commit: skip past it
      // ($max, no fence, so that writer still wins); a dead writer's documents go with clear or prune.
      await this.#sessions.updateOne(
        { ...sessionFilter(sessionId), gen: { $eq: live.gen } },
        { $max: { next: start + items.length } },
      );
      return undefined;
    }
  }

  /** Removes item documents this write inserted but could not commit (single-document scheme only). */
  async #discard(sessionId: string, ids: readonly ObjectId[]): Promise<void> {
    if (ids.length === 0) return;
    await this.#items.deleteMany({ sessionId: { $eq: sessionId }, _id: { $in: [...ids] } });
  }

  /**
   * The commit: one compare-and-swap on the session document (on `v` and
   * `gen`) that sets the new runs and, for a transaction, appends its
   * operation-log entry and trims the log, in the same atomic update.
   * Returns false when another writer committed first.
   */
  async #commit(sessionId: string, live: SessionDocument, change: Change, expiry: Expiry, now: number, ctx: Ctx): Promise<boolean> {
    const options = ctx.session ? { session: ctx.session } : {};
    // "First write since the session was created or last emptied".
    const createdAt = live.count === 0 ? new Date(now) : live.createdAt;
    const unset: Record<string, ''> = Object.fromEntries(expiry.unset.map((field) => [field, '' as const]));
    const result = await this.#sessions.updateOne(
      { ...sessionFilter(sessionId), v: { $eq: live.v }, gen: { $eq: live.gen } },
      {
        $set: {
          v: live.v + 1,
          runs: change.runs,
          count: change.count,
          createdAt,
          updatedAt: new Date(now),
          ...expiry.set,
        },
        // $max: a writer that skipped taken sequence numbers may have raised it meanwhile.
        $max: { next: change.next },
        ...(change.op
          ? { $push: { ops: { $each: [change.op], $slice: -this.#options.operationLogSize } } }
          : {}),
        ...(expiry.unset.length > 0 ? { $unset: unset } : {}),
      },
      options,
    );
    return result.matchedCount === 1;
  }

  /**
   * One attempt of a write on a materialised incarnation: inserts `texts` (carried items first, then new
   * ones) at `[live.next, plan.end)`, commits `plan`, then deletes the item documents at `removed` (popped,
   * replaced or carried). Returns false when the attempt must start over.
   */
  async #commitPlan(
    sessionId: string,
    live: SessionDocument,
    plan: AppendPlan,
    texts: readonly EncodedItem[],
    count: number,
    removed: readonly number[],
    op: OperationRecord | undefined,
    expiry: Expiry,
    now: number,
    ctx: Ctx,
  ): Promise<boolean> {
    let ids: ObjectId[] = [];
    if (texts.length > 0) {
      const inserted = await this.#insertItems(sessionId, live, live.next, texts, expiry.items, ctx);
      if (!inserted) return false;
      ids = inserted;
    }
    const change: Change = { runs: plan.runs, count, next: plan.end, ...(op ? { op } : {}) };
    if (await this.#commit(sessionId, live, change, expiry, now, ctx)) {
      if (removed.length > 0) {
        await this.#items.deleteMany(
          itemsFilter(sessionId, live.gen, removed, 'delete'),
          ctx.session ? { session: ctx.session } : {},
        );
      }
      return true;
    }
    if (ctx.session) throw unexpectedMiss();
    await this.#discard(sessionId, ids);
    return false;
  }

  /**
   * The item texts at `seqs` (in that order), or undefined when some are
   * missing: a commit removed them after the caller read the session document.
   */
  async #fetch(sessionId: string, gen: string, seqs: readonly number[], ctx: Ctx): Promise<EncodedItem[] | undefined> {
    if (seqs.length === 0) return [];
    const position = new Map<number, number>();
    seqs.forEach((seq, i) => position.set(seq, i));
    const out = new Array<EncodedItem>(seqs.length);
    const seen = new Array<boolean>(seqs.length).fill(false);
    let found = 0;
    const docs = await this.#items
      .find(itemsFilter(sessionId, gen, seqs), {
        projection: { _id: 0, seq: 1, item: 1 },
        ...(ctx.session ? { session: ctx.session } : {}),
      })
      .toArray();
    for (const doc of docs) {
      const i = position.get(doc.seq);
      if (i === undefined || seen[i]) continue;
      seen[i] = true;
      // A non-string `item` is passed on as is: the codec reports it as CORRUPT_DATA.
      out[i] = doc.item;
      found++;
    }
    return found === seqs.length ? out : undefined;
  }

  /**
   * Reads the items at the newest `limit` positions (all when undefined) of a
   * consistent snapshot. With `sliced`, only the newest `limit` runs are
   * read (enough for the items; a writer needs them all). Returns undefined
   * when the session is empty or expired.
   */
  async #readTail(
    sessionId: string,
    limit: number | undefined,
    ctx: Ctx,
    sliced: boolean,
  ): Promise<{ doc: SessionDocument; seqs: number[]; items: EncodedItem[] } | undefined> {
    const missing = missingCheck(ctx);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const slice = sliced && limit !== undefined && limit <= MAX_TAIL_SLICE;
      const doc = await this.#load(sessionId, ctx, slice ? { tail: limit } : {});
      if (!doc || isExpired(doc, Date.now()) || doc.count === 0) return undefined;
      const seqs = tailSeqs(doc.runs, Math.min(limit ?? doc.count, doc.count));
      const items = await this.#fetch(sessionId, doc.gen, seqs, ctx);
      if (items) return { doc, seqs, items };
      missing(doc);
    }
    throw kept('the read');
  }

  /**
   * Deletes a removed session's item documents. In a transaction: every one of that id, whatever its
   * incarnation (orphans included); snapshot isolation keeps a concurrent writer's uncommitted documents
   * out of reach. Without one, only the removed incarnation's: a new incarnation may be starting
   * concurrently, and its documents must survive.
   */
  async #deleteItems(sessionId: string, gen: unknown, ctx: Ctx): Promise<void> {
    if (ctx.session) await this.#items.deleteMany(sessionItemsFilter(sessionId), { session: ctx.session });
    else if (typeof gen === 'string') await this.#items.deleteMany(generationFilter(sessionId, gen));
  }

  protected async _getItems(sessionId: string, limit: number | undefined): Promise<EncodedItem[]> {
    await this.#ensure();
    const tail = await this.#readTail(sessionId, limit, {}, true);
    return tail?.items ?? [];
  }

  protected async _addItems(sessionId: string, items: EncodedItem[]): Promise<void> {
    await this.#checkSize(sessionId, items);
    await this.#write(sessionId, async (ctx) => {
      const missing = missingCheck(ctx);
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const now = Date.now();
        const loaded = this.#state(sessionId, await this.#load(sessionId, ctx), now);
        const expiry = await this.#expiry(sessionId, loaded, now, ctx);
        const st = loaded.fresh ? await this.#materialize(sessionId, loaded, expiry, now, ctx) : loaded;
        if (!st) continue;
        const { live } = st;
        const plan = planAppend(live.runs, 0, live.next, items.length);
        const carriedSeqs = tailSeqs(live.runs, plan.carry);
        const carried = await this.#fetch(sessionId, live.gen, carriedSeqs, ctx);
        if (!carried) {
          missing(live);
          continue;
        }
        const texts = carried.length > 0 ? [...carried, ...items] : items;
        if (await this.#commitPlan(sessionId, live, plan, texts, live.count + items.length, carriedSeqs, undefined, expiry, now, ctx)) {
          return;
        }
      }
      throw kept('the append');
    });
  }

  protected async _popItem<R>(sessionId: string, decode: (encoded: EncodedItem) => R): Promise<R | undefined> {
    return this.#write(sessionId, async (ctx) => {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const tail = await this.#readTail(sessionId, 1, ctx, false);
        if (!tail) return undefined;
        // Decoded before anything changes: a corrupt item throws and stays.
        const value = decode(tail.items[0]!);
        const now = Date.now();
        const { doc } = tail;
        const expiry = await this.#expiry(sessionId, { stored: doc, live: doc, fresh: false }, now, ctx);
        const plan = planAppend(doc.runs, 1, doc.next, 0);
        if (await this.#commitPlan(sessionId, doc, plan, [], doc.count - 1, tail.seqs, undefined, expiry, now, ctx)) {
          return value;
        }
      }
      throw kept('the pop');
    });
  }

  protected async _clearSession(sessionId: string): Promise<void> {
    await this.#write(sessionId, async (ctx) => {
      const options = ctx.session ? { session: ctx.session } : {};
      // The session document goes first: from then on no reader trusts any item of that incarnation.
      const doc = await this.#sessions.findOneAndDelete(sessionFilter(sessionId), { ...options, projection: { gen: 1 } });
      await this.#deleteItems(sessionId, doc?.gen, ctx);
    });
  }

  protected override async _applyHistoryTransaction(sessionId: string, tx: PreparedTransaction): Promise<void> {
    await this.#checkSize(sessionId, tx.replacement);
    await this.#write(sessionId, async (ctx) => {
      const missing = missingCheck(ctx);
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        const now = Date.now();
        // Only this operation's log entry is read; the commit below is a compare-and-swap on this very
        // document version, so "not in the log" and the count both still hold when it lands.
        const loaded = this.#state(sessionId, await this.#load(sessionId, ctx, { operationId: tx.operationId }), now);
        const prior = loaded.live.ops.find((op) => op.id === tx.operationId);
        if (prior) {
          if (prior.fp !== tx.fingerprint) throw conflicts.operationReused();
          return;
        }
        checkExpectedLength(tx, loaded.live.count);
        const k = tx.expectedSuffix.length;
        if (k > loaded.live.count) throw conflicts.suffixMismatch();
        // Checked before anything is written (a fresh incarnation has nothing to fetch).
        const plan = planAppend(loaded.live.runs, k, loaded.live.next, tx.replacement.length);
        const seqs = tailSeqs(loaded.live.runs, k + plan.carry);
        const fetched = await this.#fetch(sessionId, loaded.live.gen, seqs, ctx);
        if (!fetched) {
          missing(loaded.live);
          continue;
        }
        if (!suffixMatches(fetched.slice(plan.carry), tx.expectedSuffix)) throw conflicts.suffixMismatch();
        const expiry = await this.#expiry(sessionId, loaded, now, ctx);
        // Materialising changes only `v`: the plan (empty runs, next 0) still holds.
        const st = loaded.fresh ? await this.#materialize(sessionId, loaded, expiry, now, ctx) : loaded;
        if (!st) continue;
        const texts = [...fetched.slice(0, plan.carry), ...tx.replacement];
        const count = st.live.count - k + tx.replacement.length;
        const op = { id: tx.operationId, fp: tx.fingerprint };
        if (await this.#commitPlan(sessionId, st.live, plan, texts, count, seqs, op, expiry, now, ctx)) return;
      }
      throw kept('the transaction');
    });
  }

  protected override async _getSessionInfo(sessionId: string): Promise<SessionInfo | undefined> {
    await this.#ensure();
    const doc = await this.#sessions.findOne(sessionFilter(sessionId), { projection: { ops: 0, runs: 0 } });
    if (doc === null) return undefined;
    assertSessionDocument(doc, 'meta');
    if (isExpired(doc, Date.now()) || doc.count === 0) return undefined;
    return toSessionInfo(doc);
  }

  protected override async *_listSessions(pageSize: number): AsyncIterable<SessionInfo> {
    await this.#ensure();
    let after: string | undefined;
    while (true) {
      // Keyset paging on _id: each session at most once, however long the listing takes.
      const filter = {
        count: { $gt: 0 },
        $or: [{ expiresAt: { $exists: false } }, { expiresAt: { $gt: new Date() } }],
        ...(after !== undefined ? { _id: { $gt: after } } : {}),
      };
      const page = await this.#sessions
        .find(filter, { projection: { ops: 0, runs: 0 }, sort: { _id: 1 }, limit: pageSize })
        .toArray();
      for (const doc of page) {
        assertSessionDocument(doc, 'meta');
        yield toSessionInfo(doc);
      }
      if (page.length < pageSize) return;
      after = page[page.length - 1]!._id;
    }
  }

  protected override async _prune(olderThanMs: number): Promise<number> {
    await this.#ensure();
    const cutoff = new Date(olderThanMs);
    let pruned = 0;
    while (true) {
      // Each candidate is deleted or has been written since (updatedAt >= cutoff now), so every page is new.
      const page = await this.#sessions
        .find({ updatedAt: { $lt: cutoff } }, { projection: { _id: 1 }, sort: { updatedAt: 1 }, limit: PRUNE_BATCH })
        .toArray();
      for (const { _id: sessionId } of page) {
        pruned += await this.#write(sessionId, async (ctx) => {
          const options = ctx.session ? { session: ctx.session } : {};
          const doc = await this.#sessions.findOneAndDelete(
            { ...sessionFilter(sessionId), updatedAt: { $lt: cutoff } },
            { ...options, projection: { gen: 1, count: 1, expiresAt: 1 } },
          );
          if (!doc) return 0;
          await this.#deleteItems(sessionId, doc.gen, ctx);
          // Every session last written before the cutoff goes; only those still live (items, not expired) count.
          return isLive(doc, Date.now()) ? 1 : 0;
        });
      }
      if (page.length < PRUNE_BATCH) return pruned;
    }
  }

  protected async _close(): Promise<void> {
    if (this.#owned) await this.#client.close();
  }
}
