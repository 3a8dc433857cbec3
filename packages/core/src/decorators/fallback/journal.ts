import { randomUUID } from 'node:crypto';
import { hasTransactionPreconditions, hasTransactions } from '../../capabilities.js';
import { SessionErrorCode, isSessionError } from '../../errors.js';
import type { SessionStore } from '../../types.js';

/** Reserved session holding journal entries: which replica is behind on which session. */
export const FALLBACK_JOURNAL_SESSION_ID = 'sessionkit:fallback-journal';
const JOURNAL_TYPE = 'sessionkit.fallback.behind';

/** Which replica an entry names: the primary, or a secondary by its index. */
export type Replica = 'primary' | number;

/** One journal item: `replica` is behind on `sessionId`. Session ids and replica numbers only, never item contents. */
export interface JournalEntry {
  readonly type: typeof JOURNAL_TYPE;
  readonly sessionId: string;
  readonly replica: Replica;
}

export function journalEntry(sessionId: string, replica: Replica): JournalEntry {
  return { type: JOURNAL_TYPE, sessionId, replica };
}

function isJournalEntry(item: unknown): item is JournalEntry {
  const entry = item as Partial<JournalEntry> | null;
  return (
    typeof entry === 'object' &&
    entry !== null &&
    entry.type === JOURNAL_TYPE &&
    typeof entry.sessionId === 'string' &&
    (entry.replica === 'primary' || Number.isSafeInteger(entry.replica))
  );
}

/**
 * The fallback's journal: facts "replica R is behind on session S", appended
 * to the reserved session of the store holding the truth before the write
 * that made them true is acknowledged, so a restarted process resumes the
 * resync instead of forgetting it. Disabled, every call is a no-op.
 */
export class FallbackJournal<TItem> {
  readonly #enabled: boolean;
  readonly #primary: SessionStore<TItem>;
  readonly #secondaries: readonly SessionStore<TItem>[];
  // Per secondary: sessions whose "primary is behind" entry this process has written into its journal.
  #noted: Set<string>[];
  // The primary's journal may hold entries (stale secondaries) that a completed repair should clear.
  #primaryDirty = false;
  // Per secondary: its journal may hold entries (a clear failed or has not run yet).
  readonly #secondaryDirty: boolean[];

  constructor(enabled: boolean, primary: SessionStore<TItem>, secondaries: readonly SessionStore<TItem>[]) {
    this.#enabled = enabled;
    this.#primary = primary;
    this.#secondaries = secondaries;
    this.#noted = secondaries.map(() => new Set<string>());
    this.#secondaryDirty = secondaries.map(() => false);
  }

  /**
   * Reads every store's journal (the primary's first). A store that cannot
   * be read is passed to `unreadable` with its position (0: the primary);
   * its entries are then unknown to this process.
   */
  async load(unreadable: (position: number, error: unknown) => void): Promise<JournalEntry[]> {
    if (!this.#enabled) return [];
    const entries: JournalEntry[] = [];
    for (const [position, store] of [this.#primary, ...this.#secondaries].entries()) {
      try {
        const found = ((await store.getItems(FALLBACK_JOURNAL_SESSION_ID)) as unknown[]).filter(isJournalEntry);
        if (position > 0 && found.length > 0) this.#secondaryDirty[position - 1] = true;
        entries.push(...found);
      } catch (error) {
        unreadable(position, error);
      }
    }
    if (entries.some((entry) => entry.replica !== 'primary')) this.#primaryDirty = true;
    return entries;
  }

  /** Appends entries into `store`'s journal (the replica holding the truth). */
  async note(store: SessionStore<TItem>, entries: readonly JournalEntry[]): Promise<void> {
    if (!this.#enabled || entries.length === 0) return;
    const index = this.#secondaries.indexOf(store);
    if (index >= 0) this.#secondaryDirty[index] = true;
    await store.addItems(FALLBACK_JOURNAL_SESSION_ID, entries as unknown as TItem[]);
    if (store === this.#primary) this.#primaryDirty = true;
  }

  /** Notes in secondary `index`'s journal that the primary is behind on `sessionId`, once per session per outage. */
  async notePrimaryBehind(index: number, sessionId: string): Promise<void> {
    if (!this.#enabled || this.#noted[index]!.has(sessionId)) return;
    await this.note(this.#secondaries[index]!, [journalEntry(sessionId, 'primary')]);
    this.#noted[index]!.add(sessionId);
  }

  /**
   * Empties secondary `index`'s journal of what the primary holds now (it
   * caught up): the entries `keep` accepts stay — facts still true and not
   * yet elsewhere, such as a session written since the catch-up. False if an
   * entry arrived meanwhile.
   */
  async clearSecondary(index: number, keep: (entry: JournalEntry) => boolean): Promise<boolean> {
    if (!this.#enabled) return true;
    const kept = await clearJournal(this.#secondaries[index]!, keep);
    if (kept === undefined) return false;
    this.#noted[index] = new Set(kept.flatMap((entry) => (entry.replica === 'primary' ? [entry.sessionId] : [])));
    if (kept.length === 0) this.#secondaryDirty[index] = false;
    return true;
  }

  /** Secondaries whose journal may hold entries: a resync empties them of what is no longer true. */
  dirtySecondaries(): number[] {
    return this.#secondaryDirty.flatMap((dirty, index) => (dirty ? [index] : []));
  }

  /** Whether the primary's journal may hold entries: a resync then rewrites it to what is still true. */
  get primaryDirty(): boolean {
    return this.#primaryDirty;
  }

  /**
   * Rewrites the primary's journal, if it may hold entries, to those `keep`
   * accepts (each fact once): a stale mark cleared since it was noted must
   * not come back after a restart (it would hide a secondary that has served
   * writes since). Empty once nothing is kept.
   */
  async compactPrimary(keep: (entry: JournalEntry) => boolean): Promise<void> {
    if (!this.#enabled || !this.#primaryDirty) return;
    const seen = new Set<string>();
    const kept = await clearJournal(this.#primary, (entry) => {
      const key = `${entry.replica}\n${entry.sessionId}`;
      if (seen.has(key) || !keep(entry)) return false;
      seen.add(key);
      return true;
    });
    if (kept !== undefined && kept.length === 0) this.#primaryDirty = false;
  }
}

/**
 * Empties `store`'s journal, but for the entries `keep` accepts, unless an
 * entry was added since it was read (one `replace_suffix` when the store has
 * transactions). Resolves with the entries kept; undefined when it could not
 * (a concurrent note): the caller tries again later.
 */
async function clearJournal<TItem>(store: SessionStore<TItem>, keep: (entry: JournalEntry) => boolean = () => false): Promise<JournalEntry[] | undefined> {
  const entries = await store.getItems(FALLBACK_JOURNAL_SESSION_ID);
  const kept = (entries as unknown[]).filter((entry): entry is JournalEntry => isJournalEntry(entry) && keep(entry));
  if (kept.length === entries.length) return kept;
  if (!hasTransactions(store)) {
    await store.clearSession(FALLBACK_JOURNAL_SESSION_ID);
    if (kept.length > 0) await store.addItems(FALLBACK_JOURNAL_SESSION_ID, kept as unknown as TItem[]);
    return kept;
  }
  try {
    await store.applyHistoryTransaction(FALLBACK_JOURNAL_SESSION_ID, {
      operationId: `sessionkit-fallback-journal:${randomUUID()}`,
      transaction: { type: 'replace_suffix', expectedSuffix: entries, replacement: kept as unknown as TItem[] },
      ...(hasTransactionPreconditions(store) ? { expectedLength: entries.length } : {}),
    });
    return kept;
  } catch (error) {
    if (isSessionError(error, SessionErrorCode.Conflict)) return undefined;
    throw error;
  }
}
