import type { ClientSession, ObjectId } from 'mongodb';

/**
 * One attempt lost a race (a compare-and-swap matched nothing, a sequence
 * number was taken, orphans were swept): it starts over, within core's one
 * retry budget (`retryOnConflict`). Never reaches a caller.
 */
export class LostRace extends Error {
  constructor() {
    super('another writer committed first');
    this.name = 'LostRace';
  }
}

export function isLostRace(error: unknown): boolean {
  return error instanceof LostRace;
}

/** What one attempt of a write is given by its scheme. */
export interface Attempt {
  /** Passed to every driver call of the attempt: `{ session }` inside a transaction, `{}` otherwise. */
  readonly options: { readonly session?: ClientSession };
  /** Records item documents about to be inserted, so an attempt that loses can remove them. */
  inserting(ids: readonly ObjectId[]): void;
  /** A compare-and-swap on the session document matched nothing: the error that ends the attempt. */
  missed(): Error;
  /**
   * An insert met a taken key (`error`, a duplicate key). With `skip`, item
   * documents of incarnation `gen` hold sequence numbers below `end`.
   * Returns the error that ends the attempt.
   */
  taken(error: unknown, skip?: { readonly gen: string; readonly end: number }): Promise<unknown>;
}

/**
 * How a write's attempt is made atomic: `TransactionScheme` (one
 * multi-document transaction) or `SingleDocumentScheme` (item documents
 * inserted unreferenced, then one compare-and-swap on the session document).
 * The store has one write path on either; a scheme decides only how an
 * attempt runs and what a race means in it. See docs/mongodb.md ("Atomicity").
 */
export interface CommitScheme {
  /** True when every read of an attempt sees one snapshot: items missing for a session document are damage, never a race. */
  readonly snapshot: boolean;
  /** Runs one attempt; throws LostRace when it must start over. */
  run<R>(sessionId: string, attempt: (attempt: Attempt) => Promise<R>): Promise<R>;
  /** The item documents to delete with a removed session (clear, prune); undefined: none. */
  removedItemsFilter(sessionId: string, gen: unknown): Record<string, unknown> | undefined;
}
