import { SessionError, SessionErrorCode, isSessionError } from '../../errors.js';
import type { SessionStore } from '../../types.js';
import { journalEntry } from './journal.js';
import type { OperationRef } from './missed-operations.js';
import type { Replicas } from './replicas.js';

/** A write as the fallback routes it: run on one replica; `agree` compares a mirror's result with the answer. */
export interface Write<TItem, R> {
  readonly run: (store: SessionStore<TItem>) => Promise<R>;
  readonly agree: (answer: R, mirror: R) => boolean;
  /** The write leaves a replica exact whatever it held (clear, replacement), so a stale one gets it and is in sync after. */
  readonly makesExact: boolean;
  /**
   * A transaction: a repeat of one some replica missed is answered from the
   * record without reaching any replica, and the record gains it when a
   * replica misses it. Only for writes resolving `undefined`.
   */
  readonly operation?: OperationRef;
  /** The write empties the session's operation log (a clear): its record is dropped once acknowledged. */
  readonly clearsLog?: boolean;
}

/**
 * Marks a secondary stale for a session; with `truth` (the replica whose
 * answer the caller gets), also journals the mark there so a restart
 * remembers it.
 */
export async function markStale<TItem>(r: Replicas<TItem>, index: number, sessionId: string, error?: unknown, truth?: SessionStore<TItem>): Promise<void> {
  const added = r.state.markStale(index, sessionId);
  if (error !== undefined) r.reportError(error);
  r.arm();
  if (truth && added) {
    try {
      await r.journal.note(truth, [journalEntry(sessionId, index)]);
    } catch (noteError) {
      r.reportError(noteError);
    }
  }
}

/**
 * The one write path: while healthy, the write runs on the primary and is
 * then mirrored to each secondary; while degraded (or when the primary
 * fails now), on the first in-sync secondary and mirrored to the others.
 */
export async function writeThrough<TItem, R>(r: Replicas<TItem>, sessionId: string, write: Write<TItem, R>): Promise<R> {
  return r.writes.run(sessionId, async () => {
    // Under the session's queue: no write to the session runs between this answer and the record it reads.
    if (write.operation && r.missedOperations.isRepeat(sessionId, write.operation)) return undefined as R;
    let answer: R;
    try {
      answer = await route(r, sessionId, write);
    } catch (error) {
      if (write.operation && r.isOutage(error)) unacknowledgedTransaction(r, sessionId, write.operation.operationId);
      throw error;
    }
    if (write.clearsLog) r.missedOperations.drop(sessionId);
    // A secondary uncertain about it was not asked (below), so it is in the record now.
    if (write.operation) r.missedOperations.settle(sessionId, write.operation.operationId);
    return answer;
  });
}

async function route<TItem, R>(r: Replicas<TItem>, sessionId: string, write: Write<TItem, R>): Promise<R> {
  if (r.state.degraded) return degradedWrite(r, sessionId, write, undefined);
  let answer: R;
  try {
    answer = await write.run(r.primary);
  } catch (error) {
    if (!r.isOutage(error)) throw error;
    r.degrade(error);
    return degradedWrite(r, sessionId, write, error);
  }
  await mirror(r, sessionId, [...r.secondaries.keys()], write, answer, r.primary);
  return answer;
}

/**
 * A transaction failed with an outage and no replica acknowledged it: it may
 * have landed on any replica that was asked, and reach others by a copy —
 * items without the id, or (a copy replacing them) the id without the items.
 * So no secondary's answer to its retry (a no-op) is trusted: a secondary
 * gets it by a copy instead. Except the secondary the primary is caught up
 * from while it is behind on the session: its history is the truth, its answer stands.
 */
function unacknowledgedTransaction<TItem>(r: Replicas<TItem>, sessionId: string, operationId: string): void {
  const truth = r.state.isPending(sessionId) ? r.state.inSync(sessionId)[0] : undefined;
  for (const index of r.secondaries.keys()) if (index !== truth) r.missedOperations.addUncertain(sessionId, operationId, index);
}

/** Whether secondary `index` may hold `write`'s operation id from an attempt no replica acknowledged. */
function uncertain<TItem, R>(r: Replicas<TItem>, sessionId: string, write: Write<TItem, R>, index: number): boolean {
  return write.operation !== undefined && r.missedOperations.isUncertain(sessionId, write.operation.operationId, index);
}

/** A replica missed `write` (acknowledged elsewhere): a transaction's id goes into the record. */
function missed<TItem, R>(r: Replicas<TItem>, sessionId: string, write: Write<TItem, R>): void {
  if (write.operation) r.missedOperations.add(sessionId, write.operation);
}

/** Applies an acknowledged write to secondaries `indexes`; one that fails or disagrees becomes stale. */
async function mirror<TItem, R>(
  r: Replicas<TItem>,
  sessionId: string,
  indexes: readonly number[],
  write: Write<TItem, R>,
  answer: R,
  truth: SessionStore<TItem>,
): Promise<void> {
  for (const index of indexes) {
    // A stale replica gets no further writes (a copy will repair it) — except one that makes it exact outright.
    if (r.state.isStale(index, sessionId) && !write.makesExact) {
      missed(r, sessionId, write);
      continue;
    }
    // It may hold this transaction's id from a failed attempt without its items (a copy replaced them since),
    // and would take it as a no-op: it is given the history by a copy instead.
    if (uncertain(r, sessionId, write, index)) {
      missed(r, sessionId, write);
      await markStale(r, index, sessionId, undefined, truth);
      continue;
    }
    let result: R;
    try {
      result = await write.run(r.secondaries[index]!);
    } catch (error) {
      missed(r, sessionId, write);
      await markStale(r, index, sessionId, error, truth);
      continue;
    }
    // Exact again; the journal may still name it, which costs at most one needless copy.
    if (write.makesExact) r.state.clearStale(index, sessionId);
    else if (!write.agree(answer, result)) await markStale(r, index, sessionId, undefined, truth);
  }
}

function degradedWrite<TItem, R>(r: Replicas<TItem>, sessionId: string, write: Write<TItem, R>, primaryError: unknown): Promise<R> {
  return r.state.degradedWrite(sessionId, async () => {
    const candidates = r.state.inSync(sessionId);
    let lastError: unknown = primaryError;
    // Secondaries that failed the write (it may have landed on them): marked once it is known which replica holds the truth.
    const failed: Failed[] = [];
    try {
      for (const [i, index] of candidates.entries()) {
        const store = r.secondaries[index]!;
        let answer: R;
        if (uncertain(r, sessionId, write, index)) {
          // Its answer (a no-op) could acknowledge a transaction that is nowhere: another secondary must serve it.
          failed.push({ index, error: undefined });
          continue;
        }
        try {
          // Journal first: once the write is acknowledged, a restart must still know the primary missed it.
          await r.journal.notePrimaryBehind(index, sessionId);
          answer = await write.run(store);
        } catch (error) {
          // Bad input or a conflict is the answer; only an outage moves on to the next secondary.
          if (!r.isOutage(error)) throw error;
          failed.push({ index, error });
          lastError = error;
          continue;
        }
        // Those that failed it missed an acknowledged write: stale, journaled in the one that served it before the answer.
        for (const skipped of failed.splice(0)) await markStale(r, skipped.index, sessionId, skipped.error, store);
        // The primary missed it (and so did any secondary skipped above).
        missed(r, sessionId, write);
        await mirror(r, sessionId, candidates.slice(i + 1), write, answer, store);
        r.state.addPending(sessionId);
        return answer;
      }
    } finally {
      if (failed.length > 0) await unacknowledged(r, sessionId, failed);
    }
    throw isSessionError(lastError)
      ? lastError
      : new SessionError(SessionErrorCode.BackendUnavailable, 'primary and every secondary are unavailable', {
          cause: lastError,
        });
  });
}

/**
 * No secondary acknowledged a degraded write, and those in `failed` may hold
 * it (a failure can follow a landed write). They may differ from the others
 * now, so they are marked stale; but while the primary is behind on the
 * session, the first of them stays the truth it is caught up from: marking
 * every holder of writes the primary missed stale would leave the session
 * unreadable and the resync unable to complete.
 */
async function unacknowledged<TItem>(r: Replicas<TItem>, sessionId: string, failed: readonly Failed[]): Promise<void> {
  const truth = r.state.isPending(sessionId) ? failed[0]!.index : undefined;
  for (const { index, error } of failed) {
    if (index === truth) {
      if (error !== undefined) r.reportError(error);
    } else await markStale(r, index, sessionId, error);
  }
}

/** A secondary a degraded write did not land on for sure: it failed it (`error`), or was not asked (uncertain about it). */
interface Failed {
  readonly index: number;
  readonly error: unknown;
}
