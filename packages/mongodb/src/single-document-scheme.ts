import type { Collection, ObjectId } from 'mongodb';
import type { Attempt, CommitScheme } from './commit-scheme.js';
import { LostRace } from './commit-scheme.js';
import { generationFilter, sessionFilter, type ItemDocument, type SessionDocument } from './documents.js';

/**
 * No transactions (a standalone server, or `transactions: 'never'`): an
 * attempt's calls run alone. Its item documents are invisible until its one
 * compare-and-swap on the session document references them; an attempt that
 * loses removes its own item documents and starts over.
 */
export class SingleDocumentScheme implements CommitScheme {
  readonly snapshot = false;

  constructor(
    private readonly sessions: Collection<SessionDocument>,
    private readonly items: Collection<ItemDocument>,
  ) {}

  async run<R>(sessionId: string, body: (attempt: Attempt) => Promise<R>): Promise<R> {
    const inserted: ObjectId[] = [];
    // Only after a known loss: after any other failure the commit may have landed and referenced them.
    const discard = async () => {
      if (inserted.length === 0) return;
      await this.items.deleteMany({ sessionId: { $eq: sessionId }, _id: { $in: inserted.splice(0) } });
    };
    const attempt: Attempt = {
      options: {},
      inserting: (ids) => void inserted.push(...ids),
      missed: () => new LostRace(),
      taken: async (_error, skip) => {
        await discard();
        // The holder may be a live writer about to commit: skip past it
        // ($max, no fence, so that writer still wins); a dead writer's
        // documents go with clear or prune.
        if (skip) {
          await this.sessions.updateOne({ ...sessionFilter(sessionId), gen: { $eq: skip.gen } }, { $max: { next: skip.end } });
        }
        return new LostRace();
      },
    };
    try {
      return await body(attempt);
    } catch (error) {
      if (error instanceof LostRace) await discard();
      throw error;
    }
  }

  // Only the removed incarnation's: a new incarnation may be starting concurrently, and its documents must survive.
  removedItemsFilter(sessionId: string, gen: unknown): Record<string, unknown> | undefined {
    return typeof gen === 'string' ? generationFilter(sessionId, gen) : undefined;
  }
}
