import { journalEntry, type JournalEntry } from './journal.js';

export interface FallbackStatus {
  /** `degraded` from the first outage error of the primary until a `resync()` succeeds. */
  readonly state: 'healthy' | 'degraded';
  /** When the current degradation began. */
  readonly since?: Date;
  /** Sessions written during the outage that the primary still has to catch up on (each by a copy). */
  readonly pendingSessions: number;
  /** Secondaries that missed a mirrored write, with how many sessions each must be repaired in. */
  readonly staleSecondaries: readonly { readonly index: number; readonly sessions: number }[];
}

/**
 * What this process knows about the fallback's replicas: whether the primary
 * serves, which sessions it missed while it did not, and which secondaries
 * are stale (missed a mirrored write) for which sessions. Memory only; the
 * journal is what makes it survive a restart.
 */
export class ReplicaState {
  #degradedSince: number | undefined;
  // Sessions written while degraded: a resync copies each from an in-sync secondary to the primary.
  readonly #pending = new Set<string>();
  // Per session: writes that chose the degraded path but have not yet recorded it as pending (sessions with
  // nothing in flight hold no memory).
  readonly #writing = new Map<string, number>();
  // Per secondary: sessions it is stale for.
  readonly #stale: Set<string>[];

  constructor(secondaries: number) {
    this.#stale = Array.from({ length: secondaries }, () => new Set<string>());
  }

  get degraded(): boolean {
    return this.#degradedSince !== undefined;
  }

  /** Enters the degraded state; false if it already was. */
  degrade(): boolean {
    if (this.#degradedSince !== undefined) return false;
    this.#degradedSince = Date.now();
    return true;
  }

  recover(): void {
    this.#degradedSince = undefined;
  }

  /** Runs a write on the degraded path; while it runs, a resync does not switch back to the primary. */
  async degradedWrite<R>(sessionId: string, write: () => Promise<R>): Promise<R> {
    this.#writing.set(sessionId, (this.#writing.get(sessionId) ?? 0) + 1);
    try {
      return await write();
    } finally {
      const left = this.#writing.get(sessionId)! - 1;
      if (left === 0) this.#writing.delete(sessionId);
      else this.#writing.set(sessionId, left);
    }
  }

  /** The primary missed writes to `sessionId`, or may be about to (a degraded write of it in flight, its journal note written). */
  isBehind(sessionId: string): boolean {
    return this.#pending.has(sessionId) || this.#writing.has(sessionId);
  }

  /** True while a degraded write is in flight or a session still waits for its copy to the primary. */
  get catchingUp(): boolean {
    return this.#pending.size > 0 || this.#writing.size > 0;
  }

  /** Records that the primary missed a write to `sessionId`. */
  addPending(sessionId: string): void {
    this.#pending.add(sessionId);
  }

  isPending(sessionId: string): boolean {
    return this.#pending.has(sessionId);
  }

  /** The primary caught up on `sessionId`. */
  donePending(sessionId: string): void {
    this.#pending.delete(sessionId);
  }

  /** One session the primary still has to catch up on, if any. */
  nextPending(): string | undefined {
    return this.#pending.values().next().value;
  }

  get pendingCount(): number {
    return this.#pending.size;
  }

  isStale(index: number, sessionId: string): boolean {
    // A journal may name a secondary this process does not have (configured with fewer).
    return this.#stale[index]?.has(sessionId) ?? false;
  }

  /** Marks secondary `index` stale for `sessionId`; false if it already was. */
  markStale(index: number, sessionId: string): boolean {
    const stale = this.#stale[index];
    if (stale === undefined || stale.has(sessionId)) return false;
    stale.add(sessionId);
    return true;
  }

  /** Secondary `index` holds `sessionId` exactly again. */
  clearStale(index: number, sessionId: string): void {
    this.#stale[index]!.delete(sessionId);
  }

  /** Sessions secondary `index` is stale for (a copy, safe to iterate while repairing). */
  staleSessions(index: number): string[] {
    return [...this.#stale[index]!];
  }

  get anyStale(): boolean {
    return this.#stale.some((sessions) => sessions.size > 0);
  }

  /** Indexes of the secondaries holding `sessionId` in sync, in order. */
  inSync(sessionId: string): number[] {
    return this.#stale.flatMap((sessions, index) => (sessions.has(sessionId) ? [] : [index]));
  }

  /** Every stale mark as journal entries, for the primary's journal. */
  staleEntries(): JournalEntry[] {
    return this.#stale.flatMap((sessions, replica) => [...sessions].map((sessionId) => journalEntry(sessionId, replica)));
  }

  /** Restores what a journal says: sessions the primary missed, and stale secondaries. */
  restore(entries: readonly JournalEntry[]): void {
    for (const entry of entries) {
      if (entry.replica === 'primary') this.#pending.add(entry.sessionId);
      else this.markStale(entry.replica, entry.sessionId);
    }
  }

  status(): FallbackStatus {
    return {
      state: this.#degradedSince === undefined ? 'healthy' : 'degraded',
      ...(this.#degradedSince !== undefined ? { since: new Date(this.#degradedSince) } : {}),
      pendingSessions: this.#pending.size,
      staleSecondaries: this.#stale.flatMap((sessions, index) => (sessions.size > 0 ? [{ index, sessions: sessions.size }] : [])),
    };
  }
}
