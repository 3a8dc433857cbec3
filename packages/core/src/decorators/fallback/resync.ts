import { SessionError, SessionErrorCode } from '../../errors.js';
import { copyHistory } from './copy-history.js';
import type { JournalEntry } from './journal.js';
import { inSync, type Replicas } from './replicas.js';

/** Read (one item) to ask whether the primary answers again. */
const PROBE_SESSION_ID = 'sessionkit:fallback-probe';

/** Copies every session the primary missed to it; returns once none is pending and no degraded write is in flight. */
export async function catchUpPrimary<TItem>(r: Replicas<TItem>): Promise<void> {
  // A call abandoned by the deadline may still land: catching up before it has ended could be undone by it.
  if (r.primary.unsettled > 0) {
    throw new SessionError(SessionErrorCode.BackendUnavailable, 'the primary still has calls that timed out in flight');
  }
  if (r.state.pendingCount === 0) await r.primary.getItems(PROBE_SESSION_ID, { limit: 1 });
  for (let settled = false; !settled; ) {
    // Writes may keep arriving on the degraded path while we catch up: loop until none is left.
    while (r.state.catchingUp) {
      const sessionId = r.state.nextPending();
      if (sessionId === undefined) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        continue;
      }
      await r.writes.run(sessionId, async () => {
        if (!r.state.isPending(sessionId)) return;
        const source = inSync(r, sessionId)[0];
        if (!source) throw new SessionError(SessionErrorCode.BackendUnavailable, 'no secondary holds this session in sync');
        // A write abandoned there by the deadline may still land: a copy taken before it has ended would miss it.
        if (source.unsettled > 0) {
          throw new SessionError(SessionErrorCode.BackendUnavailable, 'the secondary to copy from still has calls that timed out in flight');
        }
        await copyHistory(source, r.primary, sessionId);
        r.state.donePending(sessionId);
      });
    }
    // The primary holds the truth again: stale marks move into its journal, the secondaries' journals empty —
    // but for what is still true and not yet in the primary's: a session written since (its copy is still to come).
    const moved = r.state.staleEntries();
    await r.journal.note(r.primary, moved);
    const inPrimary = new Set(moved.map((entry) => `${entry.replica}\n${entry.sessionId}`));
    const keep = (entry: JournalEntry) =>
      stillTrue(r, entry) && (entry.replica === 'primary' || !inPrimary.has(`${entry.replica}\n${entry.sessionId}`));
    for (const index of r.secondaries.keys()) {
      try {
        await r.journal.clearSecondary(index, keep);
      } catch (error) {
        // A stale entry left there only costs a needless copy after a restart.
        r.reportError(error);
      }
    }
    settled = !r.state.catchingUp;
  }
}

/**
 * Copies the primary's history into each secondary for every session that
 * secondary is stale for; stops if the primary turns out to be down. Then
 * rewrites the primary's journal to the stale marks still true (empty once
 * no secondary is stale).
 */
export async function repairSecondaries<TItem>(r: Replicas<TItem>): Promise<void> {
  if (r.primary.unsettled > 0) return;
  for (const [index, secondary] of r.secondaries.entries()) {
    if (secondary.unsettled > 0) continue;
    for (const sessionId of r.state.staleSessions(index)) {
      if (r.state.degraded) return;
      try {
        await r.writes.run(sessionId, async () => {
          await copyHistory(r.primary, secondary, sessionId);
          r.state.clearStale(index, sessionId);
        });
      } catch (error) {
        // If the primary is what failed, go degraded and stop; a failing secondary just stays stale.
        if (r.isOutage(error) && (await probePrimary(r))) return;
        r.reportError(error);
      }
    }
  }
  if (!r.state.degraded) {
    try {
      // Only the stale marks still true stay (a repair, clear or replacement may have ended others).
      await r.journal.compactPrimary((entry) => entry.replica !== 'primary' && r.state.isStale(entry.replica, entry.sessionId));
    } catch (error) {
      r.reportError(error);
    }
    // A secondary journal the catch-up could not empty: a note that the primary is behind, left there once it has
    // caught up, would make a restart start degraded, and wedge it if that secondary is stale for the session.
    for (const index of r.journal.dirtySecondaries()) {
      try {
        await r.journal.clearSecondary(index, (entry) => stillTrue(r, entry));
      } catch (error) {
        r.reportError(error);
      }
    }
  }
}

/** True if the primary is down (the store is then degraded). */
async function probePrimary<TItem>(r: Replicas<TItem>): Promise<boolean> {
  try {
    await r.primary.getItems(PROBE_SESSION_ID, { limit: 1 });
    return false;
  } catch (error) {
    if (r.isOutage(error)) {
      r.degrade(error);
      return true;
    }
    return false;
  }
}

/** Whether a secondary journal's entry still states a fact: the primary is behind on the session, or the secondary is stale for it. */
function stillTrue<TItem>(r: Replicas<TItem>, entry: JournalEntry): boolean {
  return entry.replica === 'primary' ? r.state.isBehind(entry.sessionId) : r.state.isStale(entry.replica, entry.sessionId);
}
