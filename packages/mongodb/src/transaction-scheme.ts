import { SessionError, SessionErrorCode } from '@sessionkit/core';
import type { Collection, MongoClient, TransactionOptions } from 'mongodb';
import type { Attempt, CommitScheme } from './commit-scheme.js';
import { LostRace } from './commit-scheme.js';
import {
  generationFilter,
  seqRangeFilter,
  sessionFilter,
  sessionItemsFilter,
  versionFilter,
  type ItemDocument,
  type SessionDocument,
} from './documents.js';
import { isDuplicateKeyError } from './map-error.js';

// Snapshot reads and majority commits: what the server documents for
// transactions whose effects must survive a failover.
const TRANSACTION_OPTIONS: TransactionOptions = {
  readConcern: { level: 'snapshot' },
  writeConcern: { w: 'majority' },
  readPreference: 'primary',
};

/**
 * A replica set or sharded cluster: an attempt runs in one multi-document
 * transaction (`withTransaction`, which retries transient errors), so its
 * inserts, commit and deletes land together. A concurrent writer surfaces as
 * a WriteConflict the driver retries; a compare-and-swap cannot miss inside
 * the snapshot. A duplicate key aborts the transaction: item documents a
 * single-document writer inserted and never committed hold those sequence
 * numbers. They are fenced off and deleted outside the transaction, and the
 * attempt starts over.
 */
export class TransactionScheme implements CommitScheme {
  readonly snapshot = true;

  constructor(
    private readonly client: MongoClient,
    private readonly sessions: Collection<SessionDocument>,
    private readonly items: Collection<ItemDocument>,
  ) {}

  async run<R>(sessionId: string, body: (attempt: Attempt) => Promise<R>): Promise<R> {
    try {
      return await this.client.withSession((session) =>
        session.withTransaction(
          () =>
            body({
              options: { session },
              inserting: () => {},
              missed: () => new SessionError(SessionErrorCode.BackendError, 'session document changed inside a transaction'),
              // The server has aborted the transaction: the error must reach withTransaction, then the sweep below.
              taken: async (error) => error,
            }),
          TRANSACTION_OPTIONS,
        ),
      );
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      await this.#sweepOrphans(sessionId);
      throw new LostRace();
    }
  }

  // Every item document of that id, whatever its incarnation (orphans included): snapshot
  // isolation keeps a concurrent writer's uncommitted documents out of reach.
  removedItemsFilter(sessionId: string): Record<string, unknown> {
    return sessionItemsFilter(sessionId);
  }

  /**
   * Deletes the item documents at or above the committed `next` of the
   * current incarnation (inserted, never committed). The fence first moves
   * `next` past them and bumps `v`, so every writer that read an older
   * version fails its compare-and-swap and none of them can ever be committed.
   */
  async #sweepOrphans(sessionId: string): Promise<void> {
    const doc = await this.sessions.findOne(sessionFilter(sessionId), { projection: { gen: 1, v: 1, next: 1 } });
    // A malformed document is reported by the next attempt's read.
    if (!doc || typeof doc.gen !== 'string' || !Number.isSafeInteger(doc.v) || !Number.isSafeInteger(doc.next)) return;
    const top = await this.items.findOne(generationFilter(sessionId, doc.gen), {
      projection: { _id: 0, seq: 1 },
      sort: { seq: -1 },
    });
    if (!top || !Number.isSafeInteger(top.seq) || top.seq < doc.next) return;
    const fence = await this.sessions.updateOne(versionFilter(sessionId, doc), {
      $set: { v: doc.v + 1 },
      $max: { next: top.seq + 1 },
    });
    // Another writer committed meanwhile: the next attempt reads its version (and sweeps again if it must).
    if (fence.matchedCount !== 1) return;
    await this.items.deleteMany(seqRangeFilter(sessionId, doc.gen, doc.next, top.seq));
  }
}
