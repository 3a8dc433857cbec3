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
  retryOnConflict,
  suffixMatches,
  type EncodedItem,
  type PreparedTransaction,
} from '@sessionkit/core/adapter';
import { MongoClient, ObjectId, ReadConcern, ReadConcernLevel, ReadPreference, type Collection, type Db } from 'mongodb';
import { isLostRace, LostRace, type Attempt, type CommitScheme } from './commit-scheme.js';
import { detectDeployment, type MongoDeployment } from './deployment.js';
import {
  assertItemsFit,
  assertSessionDocument,
  collectionNames,
  commitUpdate,
  freshSession,
  generationFilter,
  isExpired,
  isLive,
  itemDocument,
  itemsFilter,
  MAX_TAIL_SLICE,
  sessionFilter,
  sessionProjection,
  toSessionInfo,
  versionFilter,
  type Expiry,
  type ItemDocument,
  type OperationRecord,
  type SessionDocument,
  type SessionProjectionOptions,
} from './documents.js';
import { isDuplicateKeyError, mapMongoError } from './map-error.js';
import { resolveOptions, type MongoStoreOptions, type ResolvedOptions } from './options.js';
import { planAppend, tailSeqs } from './runs.js';
import { SingleDocumentScheme } from './single-document-scheme.js';
import { TransactionScheme } from './transaction-scheme.js';

/** The state a write builds on. */
interface WriteState {
  /** The document as stored (the compare-and-swap target), possibly expired; null when absent. */
  readonly stored: SessionDocument | null;
  /** `stored`, or a fresh incarnation when it is absent or expired. */
  readonly live: SessionDocument;
  readonly fresh: boolean;
}

/** What a write does to the history, decided from the live session document before anything is written. */
interface Change<R> {
  /** Newest items removed. */
  readonly drop: number;
  /** Items appended after the drop. */
  readonly append: readonly EncodedItem[];
  /** A transaction's log entry, pushed with the commit. */
  readonly op?: OperationRecord;
  /**
   * Sees the dropped items before anything is written (a pop decodes its
   * item, a transaction compares its suffix) and gives the write's result;
   * when it throws, nothing changes. Without it the dropped items are not read.
   */
  readonly inspect?: (dropped: EncodedItem[]) => R;
}

/** Decides a write from the live session document (and may refuse it by throwing): a change, or `done` with nothing to write. */
type Plan<R> = (live: SessionDocument) => Change<R> | { readonly done: R };

const PRUNE_BATCH = 100;
// Latest instant a BSON/JS Date can hold; a huge ttl saturates here.
const MAX_DATE_MS = 8.64e15;

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

/**
 * Tells a concurrent removal (read again: LostRace) from damage: items of
 * the same version missing twice, or missing inside a snapshot, are CORRUPT_DATA.
 */
function missingCheck(snapshot: boolean): (doc: SessionDocument) => Error {
  let previous: SessionDocument | undefined;
  return (doc) => {
    if (snapshot || (previous && previous.v === doc.v && previous.gen === doc.gen)) {
      return new SessionError(SessionErrorCode.CorruptData, 'item documents referenced by the session are missing');
    }
    previous = doc;
    return new LostRace();
  };
}

/**
 * A session store on MongoDB through the official driver. A session is one
 * document in `<prefix>sessions` (counter, history runs, metadata,
 * operation log); each item is one immutable document in `<prefix>items`.
 * Every write takes one path, `#mutate(plan)`: it inserts its new item
 * documents first (unreferenced, so invisible) and then commits by one
 * compare-and-swap on the session document, inside a multi-document
 * transaction where the deployment has them (the two `CommitScheme`s). See
 * docs/mongodb.md for the documents, the guarantees and what each method issues.
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
    replaceHistory: true,
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
  readonly #transactional: CommitScheme;
  readonly #singleDocument: CommitScheme;
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
    this.#transactional = new TransactionScheme(this.#client, this.#sessions, this.#items);
    this.#singleDocument = new SingleDocumentScheme(this.#sessions, this.#items);
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
    const { transactions, ensureIndexes } = this.#options;
    return detectDeployment(this.#db, transactions, ensureIndexes, this.collections);
  }

  /** The commit scheme of this deployment. */
  async #scheme(): Promise<CommitScheme> {
    return (await this.#ensure()).transactions ? this.#transactional : this.#singleDocument;
  }

  /** Runs `body` as attempts of `scheme` until one does not lose a race, within core's one retry budget. */
  #attempts<R>(scheme: CommitScheme, sessionId: string, body: (attempt: Attempt) => Promise<R>): Promise<R> {
    return retryOnConflict(() => scheme.run(sessionId, body), { isConflict: isLostRace });
  }

  /**
   * The one write path. Each attempt reads the session document (`read`
   * says which parts), lets `plan` decide the change, reads the items it
   * needs (a carried run, and the dropped items when the plan inspects
   * them), then: step 0 for a fresh incarnation, the new item documents
   * inserted unreferenced, one compare-and-swap commit, and the item
   * documents the commit stopped referencing deleted (popped, replaced or
   * carried). The scheme runs the attempt (in a transaction or alone); an
   * attempt that lost a race starts over.
   */
  async #mutate<R>(sessionId: string, read: SessionProjectionOptions, plan: Plan<R>): Promise<R> {
    const scheme = await this.#scheme();
    const missing = missingCheck(scheme.snapshot);
    return this.#attempts(scheme, sessionId, async (attempt) => {
      const now = Date.now();
      const st = this.#state(sessionId, await this.#load(sessionId, attempt, read), now);
      const decided = plan(st.live);
      if ('done' in decided) return decided.done;
      const { live } = st;
      const { drop, append, op, inspect } = decided;
      const next = planAppend(live.runs, drop, live.next, append.length);
      // Oldest first: the carried run, then the dropped items.
      const removed = tailSeqs(live.runs, drop + next.carry);
      const fetched = await this.#fetch(sessionId, live.gen, inspect ? removed : removed.slice(0, next.carry), attempt);
      if (!fetched) throw missing(live);
      // Before anything is written: a plan that refuses (or a corrupt item a pop decodes) changes nothing.
      const result = inspect ? inspect(fetched.slice(next.carry)) : (undefined as R);
      const expiry = await this.#expiry(sessionId, st, now, attempt);
      // Materialising changes only `v`: the plan (empty runs, next 0) still holds.
      const base = st.fresh ? await this.#materialize(sessionId, st, expiry, now, attempt) : live;
      const texts = next.carry > 0 ? [...fetched.slice(0, next.carry), ...append] : append;
      if (texts.length > 0) await this.#insertItems(sessionId, base, texts, expiry.items, attempt);
      const change = { runs: next.runs, count: live.count - drop + append.length, next: next.end, ...(op ? { op } : {}) };
      const update = commitUpdate(base, change, expiry, now, this.#options.operationLogSize);
      const committed = await this.#sessions.updateOne(versionFilter(sessionId, base), update, attempt.options);
      if (committed.matchedCount !== 1) throw attempt.missed();
      if (removed.length > 0) {
        await this.#items.deleteMany(itemsFilter(sessionId, base.gen, removed, 'delete'), attempt.options);
      }
      return result;
    });
  }

  async #checkSize(sessionId: string, items: readonly EncodedItem[]): Promise<void> {
    // Checked against the documented 16 MiB first, so an oversized item fails
    // with TOO_LARGE even when the server is unreachable, then against the server's own limit.
    assertItemsFit(sessionId, items);
    const { maxBsonObjectSize } = await this.#ensure();
    assertItemsFit(sessionId, items, maxBsonObjectSize);
  }

  /** The session document, with at most the op-log entry `read.operationId` and, with `read.tail`, only the newest runs. */
  async #load(sessionId: string, attempt: Pick<Attempt, 'options'>, read: SessionProjectionOptions = {}): Promise<SessionDocument | null> {
    const doc = await this.#sessions.findOne(sessionFilter(sessionId), { projection: sessionProjection(read), ...attempt.options });
    if (doc === null) return null;
    // $elemMatch leaves the field out when no entry matches; other reads never ask for it.
    (doc as Partial<SessionDocument>).ops ??= [];
    assertSessionDocument(doc, 'full', read.tail);
    return doc;
  }

  #state(sessionId: string, stored: SessionDocument | null, now: number): WriteState {
    if (stored && !isExpired(stored, now)) return { stored, live: stored, fresh: false };
    return { stored, live: freshSession(sessionId, now), fresh: true };
  }

  /**
   * The expiry fields of a write. Item documents carry an `expiresAt` that is
   * always later than their session's (refreshed for the whole incarnation
   * about once per ttl, to last + 3·ttl), so the TTL monitor never deletes an
   * item of a live session, and removes a dead session's items after it.
   */
  async #expiry(sessionId: string, st: WriteState, now: number, attempt: Attempt): Promise<Expiry> {
    const ttl = this.#options.ttl;
    const { options } = attempt;
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
   * Step 0: writes the (empty) session document of a fresh incarnation
   * before any of its item documents, so every item document carries the
   * `gen` of a session document and clear and prune find even those a writer
   * inserted and never committed. Over an expired incarnation it is a
   * compare-and-swap, followed by deleting the old incarnation's item
   * documents. Returns the document to commit on.
   */
  async #materialize(sessionId: string, st: WriteState, expiry: Expiry, now: number, attempt: Attempt): Promise<SessionDocument> {
    const doc: SessionDocument = {
      ...st.live,
      v: st.stored ? st.stored.v + 1 : 0,
      createdAt: new Date(now),
      updatedAt: new Date(now),
      ...expiry.set,
    };
    if (st.stored === null) {
      try {
        await this.#sessions.insertOne(doc, attempt.options);
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
        throw await attempt.taken(error);
      }
    } else {
      const { _id, ...replacement } = doc;
      const result = await this.#sessions.replaceOne(versionFilter(sessionId, st.stored), replacement, attempt.options);
      if (result.matchedCount !== 1) throw attempt.missed();
      await this.#items.deleteMany(generationFilter(sessionId, st.stored.gen), attempt.options);
    }
    return doc;
  }

  /**
   * Inserts new item documents at `[live.next, live.next + items.length)`;
   * they are invisible until a commit references them. When another writer
   * holds one of those sequence numbers the scheme decides what follows.
   */
  async #insertItems(
    sessionId: string,
    live: SessionDocument,
    items: readonly EncodedItem[],
    expiresAt: Date | undefined,
    attempt: Attempt,
  ): Promise<void> {
    const ids = items.map(() => new ObjectId());
    const docs = items.map((item, i) => itemDocument(sessionId, live.gen, live.next + i, item, expiresAt, ids[i]));
    // Recorded first: an ordered insert that fails part-way has inserted some of them.
    attempt.inserting(ids);
    try {
      await this.#items.insertMany(docs, { ordered: true, ...attempt.options });
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      throw await attempt.taken(error, { gen: live.gen, end: live.next + items.length });
    }
  }

  /**
   * The item texts at `seqs` (in that order), or undefined when some are
   * missing: a commit removed them after the caller read the session document.
   */
  async #fetch(
    sessionId: string,
    gen: string,
    seqs: readonly number[],
    attempt: Pick<Attempt, 'options'>,
  ): Promise<EncodedItem[] | undefined> {
    if (seqs.length === 0) return [];
    const position = new Map<number, number>();
    seqs.forEach((seq, i) => position.set(seq, i));
    const out = new Array<EncodedItem>(seqs.length);
    const seen = new Array<boolean>(seqs.length).fill(false);
    let found = 0;
    const docs = await this.#items
      .find(itemsFilter(sessionId, gen, seqs), { projection: { _id: 0, seq: 1, item: 1 }, ...attempt.options })
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

  /** Deletes a removed session's item documents: which ones is the scheme's call. */
  async #deleteItems(scheme: CommitScheme, sessionId: string, gen: unknown, attempt: Attempt): Promise<void> {
    const filter = scheme.removedItemsFilter(sessionId, gen);
    if (filter) await this.#items.deleteMany(filter, attempt.options);
  }

  protected async _getItems(sessionId: string, limit: number | undefined): Promise<EncodedItem[]> {
    await this.#ensure();
    // Reads run alone in either scheme; only the newest `limit` runs are read (enough for the items).
    const read = limit !== undefined && limit <= MAX_TAIL_SLICE ? { tail: limit } : {};
    const missing = missingCheck(false);
    return retryOnConflict(
      async () => {
        const doc = await this.#load(sessionId, { options: {} }, read);
        if (!doc || isExpired(doc, Date.now()) || doc.count === 0) return [];
        const items = await this.#fetch(sessionId, doc.gen, tailSeqs(doc.runs, Math.min(limit ?? doc.count, doc.count)), {
          options: {},
        });
        if (items) return items;
        throw missing(doc);
      },
      { isConflict: isLostRace, operation: 'read' },
    );
  }

  protected async _addItems(sessionId: string, items: EncodedItem[]): Promise<void> {
    await this.#checkSize(sessionId, items);
    await this.#mutate(sessionId, {}, () => ({ drop: 0, append: items }));
  }

  protected async _popItem<R>(sessionId: string, decode: (encoded: EncodedItem) => R): Promise<R | undefined> {
    // Decoded before anything changes: a corrupt item throws and stays.
    return this.#mutate<R | undefined>(sessionId, {}, (live) =>
      live.count === 0 ? { done: undefined } : { drop: 1, append: [], inspect: ([item]) => decode(item!) },
    );
  }

  protected async _clearSession(sessionId: string): Promise<void> {
    const scheme = await this.#scheme();
    await this.#attempts(scheme, sessionId, async (attempt) => {
      // The session document goes first: from then on no reader trusts any item of that incarnation.
      const doc = await this.#sessions.findOneAndDelete(sessionFilter(sessionId), { ...attempt.options, projection: { gen: 1 } });
      await this.#deleteItems(scheme, sessionId, doc?.gen, attempt);
    });
  }

  protected override async _applyHistoryTransaction(sessionId: string, tx: PreparedTransaction): Promise<void> {
    await this.#checkSize(sessionId, tx.replacement);
    const op: OperationRecord = { id: tx.operationId, fp: tx.fingerprint };
    // Only this operation's log entry is read; the commit is a compare-and-swap on this very
    // document version, so "not in the log" and the count both still hold when it lands.
    await this.#mutate(sessionId, { operationId: tx.operationId }, (live) => {
      const prior = live.ops.find((entry) => entry.id === tx.operationId);
      if (prior) {
        if (prior.fp !== tx.fingerprint) throw conflicts.operationReused();
        return { done: undefined };
      }
      checkExpectedLength(tx, live.count);
      const k = tx.expectedSuffix.length;
      if (k > live.count) throw conflicts.suffixMismatch();
      return {
        drop: k,
        append: tx.replacement,
        op,
        inspect: (suffix) => {
          if (!suffixMatches(suffix, tx.expectedSuffix)) throw conflicts.suffixMismatch();
        },
      };
    });
  }

  /**
   * The whole history swapped in one commit: the new item documents are
   * inserted unreferenced, one compare-and-swap makes them the history, the
   * old ones are deleted after it (none is read). The operation log stays,
   * and the commit keeps createdAt unless the session had no items.
   */
  protected override async _replaceHistory(sessionId: string, items: EncodedItem[]): Promise<void> {
    await this.#checkSize(sessionId, items);
    await this.#mutate(sessionId, {}, (live) =>
      live.count === 0 && items.length === 0 ? { done: undefined } : { drop: live.count, append: items },
    );
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
    const scheme = await this.#scheme();
    const cutoff = new Date(olderThanMs);
    let pruned = 0;
    while (true) {
      // Each candidate is deleted or has been written since (updatedAt >= cutoff now), so every page is new.
      const page = await this.#sessions
        .find({ updatedAt: { $lt: cutoff } }, { projection: { _id: 1 }, sort: { updatedAt: 1 }, limit: PRUNE_BATCH })
        .toArray();
      for (const { _id: sessionId } of page) {
        pruned += await this.#attempts(scheme, sessionId, async (attempt) => {
          const doc = await this.#sessions.findOneAndDelete(
            { ...sessionFilter(sessionId), updatedAt: { $lt: cutoff } },
            { ...attempt.options, projection: { gen: 1, count: 1, expiresAt: 1 } },
          );
          if (!doc) return 0;
          await this.#deleteItems(scheme, sessionId, doc.gen, attempt);
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
