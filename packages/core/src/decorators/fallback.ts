import { randomUUID } from 'node:crypto';
import { hasListSessions, hasPrune, hasSessionInfo, hasTransactionPreconditions, hasTransactions } from '../capabilities.js';
import { canonicalize, encodeItem } from '../codec.js';
import { SessionError, SessionErrorCode, isSessionError } from '../errors.js';
import type {
  CallOptions,
  GetItemsOptions,
  HistoryTransactionArgs,
  ListSessionsOptions,
  PruneOptions,
  SessionInfo,
  SessionItem,
  SessionStore,
  StoreCapabilities,
} from '../types.js';
import { assertSessionId, normalizePruneOptions } from '../validation.js';
import { ForwardingStore } from '../forwarding-store.js';
import { SessionQueue } from '../session-queue.js';
import { ReplicaDeadline } from './fallback/replica-deadline.js';

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

export interface FallbackOptions<TItem = SessionItem> {
  /** Stores that take over reads and writes while the primary is unavailable, tried in order. At least one. */
  readonly secondaries: readonly SessionStore<TItem>[];
  /**
   * Which primary errors mean "fail over" rather than "report to the
   * caller". Default: SessionError code BACKEND_UNAVAILABLE (conflicts, bad
   * input and corrupt data are answers, never failovers).
   */
  readonly isOutage?: (error: unknown) => boolean;
  /** Called once when the primary fails and the store switches to secondaries. Default: none. */
  readonly onDegraded?: (status: FallbackStatus, error: unknown) => void;
  /** Called once when a resync has caught the primary up and it serves again. Default: none. */
  readonly onRecovered?: (status: FallbackStatus) => void;
  /** Receives errors of background resyncs and of failed mirror writes to secondaries. Default: none. */
  readonly onError?: (error: unknown) => void;
  /**
   * While degraded (or with stale secondaries), try `resync()` every this
   * many milliseconds. `0` disables it: call `resync()` yourself. Default: 5000.
   */
  readonly resyncInterval?: number;
  /** `close()` also closes the secondaries. Default: true. */
  readonly closeSecondaries?: boolean;
  /**
   * Milliseconds a call to the primary or a secondary may take before it is
   * treated as an outage of that store (BACKEND_UNAVAILABLE): a hung primary
   * fails over instead of hanging every call. The abandoned call may still
   * land later, so a store with abandoned calls is not resynced (nor
   * repaired) until they have settled. `0` disables it. Default: 10000.
   */
  readonly timeoutMs?: number;
  /**
   * Persist which replica is behind on which session (the primary after
   * writes served while degraded, a secondary after a failed mirror write)
   * in a reserved session, `sessionkit:fallback-journal`, of the store that
   * holds the truth. On first use a new process reads the journals, so a
   * restart while degraded resumes the resync instead of forgetting it.
   * Journal items hold session ids, never item contents. Default: true.
   */
  readonly journal?: boolean;
}

const CAPABILITY_KEYS: readonly (keyof StoreCapabilities)[] = [
  'transactions',
  'listSessions',
  'sessionInfo',
  'prune',
  'ttl',
  'persistent',
  'atomicReadModifyWrite',
  'transactionPreconditions',
];
// fallback: replaceHistory: not yet carried through this decorator (dropped so the manifest never claims it).

const PROBE_SESSION_ID = 'sessionkit:fallback-probe';
/** Reserved session holding journal entries: which replica is behind on which session. */
const FALLBACK_JOURNAL_SESSION_ID = 'sessionkit:fallback-journal';
const JOURNAL_TYPE = 'sessionkit.fallback.behind';
const DEFAULT_TIMEOUT_MS = 10_000;

/** One journal item: `replica` ('primary', or a secondary's index) is behind on `sessionId`. */
interface JournalEntry {
  readonly type: typeof JOURNAL_TYPE;
  readonly sessionId: string;
  readonly replica: 'primary' | number;
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

function defaultIsOutage(error: unknown): boolean {
  return isSessionError(error, SessionErrorCode.BackendUnavailable);
}

function same(a: unknown, b: unknown): boolean {
  if (a === undefined || b === undefined) return a === b;
  return canonicalize(encodeItem(a)) === canonicalize(encodeItem(b));
}

function sameHistory(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((item, i) => same(item, b[i]));
}

/**
 * A primary store with one or more secondaries: reads survive the primary's
 * outage, every write is mirrored to each in-sync replica before it is
 * acknowledged, `status()` and the callbacks say when it is degraded, and
 * `resync()` copies the sessions written during the outage back to the primary.
 * Writes to one session are serialized in this process so every replica
 * sees them in the same order.
 */
export class FallbackStore<TItem = SessionItem> extends ForwardingStore<TItem> {
  /** The reserved session id of the journal (see `journal`); hidden from `listSessions`. */
  static readonly JOURNAL_SESSION_ID = FALLBACK_JOURNAL_SESSION_ID;
  readonly #primary: ReplicaDeadline<TItem>;
  readonly #secondaries: readonly ReplicaDeadline<TItem>[];
  readonly #journal: boolean;
  // Loads the journals once, on first use.
  #loading: Promise<void> | undefined;
  // Per secondary: sessions whose "primary is behind" entry this process has written into its journal.
  readonly #noted: Set<string>[];
  // The primary's journal may hold entries (stale secondaries) that a completed repair should clear.
  #primaryJournalDirty = false;
  readonly #options: FallbackOptions<TItem>;
  readonly #isOutage: (error: unknown) => boolean;
  #degradedSince: number | undefined;
  // Sessions written while degraded: a resync copies each from an in-sync secondary to the primary.
  readonly #pending = new Set<string>();
  // Writes that chose the degraded path but have not yet recorded their pending entry.
  #degradedInflight = 0;
  readonly #stale: Set<string>[];
  readonly #writes = new SessionQueue();
  #resyncing: Promise<FallbackStatus> | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(primary: SessionStore<TItem>, options: FallbackOptions<TItem>) {
    const secondaries = options?.secondaries;
    if (!Array.isArray(secondaries) || secondaries.length === 0) {
      throw new SessionError(SessionErrorCode.InvalidArgument, 'withFallback needs at least one secondary store');
    }
    const interval = options.resyncInterval ?? 5000;
    if (!Number.isFinite(interval) || interval < 0) {
      throw new SessionError(SessionErrorCode.InvalidArgument, 'resyncInterval must be a non-negative number');
    }
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isFinite(timeoutMs) || timeoutMs < 0) {
      throw new SessionError(SessionErrorCode.InvalidArgument, 'timeoutMs must be a non-negative number');
    }
    // A capability holds only if every store has it: any of them may be the one answering.
    const drop = CAPABILITY_KEYS.filter((key) => {
      const all = [primary, ...secondaries];
      if (key === 'transactions') return !all.every((s) => hasTransactions(s));
      if (key === 'listSessions') return !all.every((s) => hasListSessions(s));
      if (key === 'sessionInfo') return !all.every((s) => hasSessionInfo(s));
      if (key === 'prune') return !all.every((s) => hasPrune(s));
      return !all.every((s) => s.capabilities?.[key] === true);
    });
    drop.push('replaceHistory');
    const timedPrimary = new ReplicaDeadline(primary, timeoutMs, 'primary');
    super(timedPrimary, drop);
    this.#primary = timedPrimary;
    this.#secondaries = secondaries.map((store, index) => new ReplicaDeadline(store, timeoutMs, `secondary ${index}`));
    this.#journal = options.journal ?? true;
    this.#noted = this.#secondaries.map(() => new Set<string>());
    this.#options = options;
    this.#isOutage = options.isOutage ?? defaultIsOutage;
    this.#stale = this.#secondaries.map(() => new Set<string>());
  }

  /** Reads the journals once per process before the first operation (see `journal`). */
  #ready(): Promise<void> {
    this.#loading ??= this.#load();
    return this.#loading;
  }

  async #load(): Promise<void> {
    if (!this.#journal) return;
    const entries: JournalEntry[] = [];
    for (const [index, store] of [this.#primary, ...this.#secondaries].entries()) {
      try {
        entries.push(...((await store.getItems(FALLBACK_JOURNAL_SESSION_ID)) as unknown[]).filter(isJournalEntry));
      } catch (error) {
        if (index === 0 && this.#isOutage(error)) this.#degrade(error);
        // An unreadable secondary journal is reported; that secondary's notes are then unknown to this process.
        else this.#reportError(error);
      }
    }
    for (const entry of entries) {
      if (entry.replica === 'primary') {
        this.#pending.add(entry.sessionId);
      } else if (entry.replica < this.#stale.length) {
        this.#stale[entry.replica]!.add(entry.sessionId);
        this.#primaryJournalDirty = true;
      }
    }
    if (this.#pending.size > 0) {
      this.#degrade(
        new SessionError(
          SessionErrorCode.BackendUnavailable,
          'the fallback journal says the primary missed writes served by the secondaries (before this process started): serving from secondaries until a resync catches it up',
        ),
      );
    }
    this.#arm();
  }

  /** Appends one journal entry into `store` (the replica holding the truth). */
  async #note(store: SessionStore<TItem>, entries: readonly JournalEntry[]): Promise<void> {
    if (!this.#journal || entries.length === 0) return;
    await store.addItems(FALLBACK_JOURNAL_SESSION_ID, entries as unknown as TItem[]);
    if (store === this.#primary) this.#primaryJournalDirty = true;
  }

  /**
   * Empties `store`'s journal unless an entry was added since it was read
   * (one `replace_suffix` when the store has transactions). False when it
   * could not (a concurrent note): the caller tries again later.
   */
  async #clearJournal(store: SessionStore<TItem>): Promise<boolean> {
    const entries = await store.getItems(FALLBACK_JOURNAL_SESSION_ID);
    if (entries.length > 0) {
      if (hasTransactions(store)) {
        try {
          await store.applyHistoryTransaction(FALLBACK_JOURNAL_SESSION_ID, {
            operationId: `sessionkit-fallback-journal:${randomUUID()}`,
            transaction: { type: 'replace_suffix', expectedSuffix: entries, replacement: [] },
            ...(hasTransactionPreconditions(store) ? { expectedLength: entries.length } : {}),
          });
        } catch (error) {
          if (isSessionError(error, SessionErrorCode.Conflict)) return false;
          throw error;
        }
      } else {
        await store.clearSession(FALLBACK_JOURNAL_SESSION_ID);
      }
    }
    const index = this.#secondaries.indexOf(store as ReplicaDeadline<TItem>);
    if (index >= 0) this.#noted[index]!.clear();
    return true;
  }

  /** Every stale mark as journal entries, for the primary's journal. */
  #staleEntries(): JournalEntry[] {
    return this.#stale.flatMap((sessions, replica) =>
      [...sessions].map((sessionId) => ({ type: JOURNAL_TYPE, sessionId, replica }) as JournalEntry),
    );
  }

  /** Where the store stands: healthy or degraded, and what a resync still has to do. */
  status(): FallbackStatus {
    return {
      state: this.#degradedSince === undefined ? 'healthy' : 'degraded',
      ...(this.#degradedSince !== undefined ? { since: new Date(this.#degradedSince) } : {}),
      pendingSessions: this.#pending.size,
      staleSecondaries: this.#stale.flatMap((sessions, index) => (sessions.size > 0 ? [{ index, sessions: sessions.size }] : [])),
    };
  }

  /**
   * Catches the primary up on every session written during the outage
   * (each copied whole from an in-sync secondary), then switches back to it; also
   * repairs secondaries that missed mirrored writes. Resolves with the new
   * status; if the primary is still unavailable the store stays degraded and
   * nothing is lost — call again later. Concurrent calls share one run.
   */
  resync(): Promise<FallbackStatus> {
    this.assertOpen();
    this.#resyncing ??= this.#ready().then(() => this.#resync()).finally(() => {
      this.#resyncing = undefined;
    });
    return this.#resyncing;
  }

  async #resync(): Promise<FallbackStatus> {
    if (this.#degradedSince !== undefined) {
      try {
        // A call abandoned by the deadline may still land: catching up before it has ended could be undone by it.
        if (this.#primary.unsettled > 0) {
          throw new SessionError(SessionErrorCode.BackendUnavailable, 'the primary still has calls that timed out in flight');
        }
        if (this.#pending.size === 0) await this.#primary.getItems(PROBE_SESSION_ID, { limit: 1 });
        for (let settled = false; !settled; ) {
          // Writes may keep arriving on the degraded path while we catch up: loop until none is left.
          while (this.#pending.size > 0 || this.#degradedInflight > 0) {
            const next = this.#pending.values().next();
            if (next.done) {
              await new Promise((resolve) => setTimeout(resolve, 1));
              continue;
            }
            const sessionId = next.value;
            await this.#writes.run(sessionId, () => this.#catchUp(sessionId));
          }
          // The primary holds the truth again: stale marks move into its journal, the secondaries' journals empty.
          if (this.#journal) {
            await this.#note(this.#primary, this.#staleEntries());
            for (const secondary of this.#secondaries) {
              try {
                await this.#clearJournal(secondary);
              } catch (error) {
                // A stale entry left there only costs a needless copy after a restart.
                this.#reportError(error);
              }
            }
          }
          settled = this.#pending.size === 0 && this.#degradedInflight === 0;
        }
      } catch (error) {
        if (!this.#isOutage(error)) this.#reportError(error);
        this.#arm();
        return this.status();
      }
      // Synchronous with the check above: no write can slip between them onto the secondaries.
      this.#degradedSince = undefined;
      const recovered = this.status();
      try {
        this.#options.onRecovered?.(recovered);
      } catch (error) {
        this.#reportError(error);
      }
    }
    await this.#repairSecondaries();
    this.#arm();
    return this.status();
  }

  /** Brings the primary up to date for one session by a copy; runs under the session's lock. */
  async #catchUp(sessionId: string): Promise<void> {
    if (!this.#pending.has(sessionId)) return;
    const source = this.#inSync(sessionId)[0];
    if (!source) throw new SessionError(SessionErrorCode.BackendUnavailable, 'no secondary holds this session in sync');
    await this.#copy(source, this.#primary, sessionId);
    this.#pending.delete(sessionId);
  }

  /**
   * Makes `target`'s history of one session equal `source`'s: one atomic
   * whole-history `replace_suffix` when the target has transactions (retried
   * on conflict), else clear + add (not atomic).
   */
  async #copy(source: SessionStore<TItem>, target: SessionStore<TItem>, sessionId: string): Promise<void> {
    const items = await source.getItems(sessionId);
    for (let attempt = 1; ; attempt++) {
      const current = await target.getItems(sessionId);
      if (sameHistory(current, items)) return;
      if (items.length === 0) {
        await target.clearSession(sessionId);
        return;
      }
      if (!hasTransactions(target)) {
        await target.clearSession(sessionId);
        await target.addItems(sessionId, items);
        return;
      }
      try {
        await target.applyHistoryTransaction(sessionId, {
          operationId: `sessionkit-fallback-copy:${randomUUID()}`,
          transaction: { type: 'replace_suffix', expectedSuffix: current, replacement: items },
        });
        return;
      } catch (error) {
        if (!isSessionError(error, SessionErrorCode.Conflict) || attempt >= 3) throw error;
      }
    }
  }

  async #repairSecondaries(): Promise<void> {
    if (this.#primary.unsettled > 0) return;
    for (const [index, sessions] of this.#stale.entries()) {
      const secondary = this.#secondaries[index]!;
      if (secondary.unsettled > 0) continue;
      for (const sessionId of [...sessions]) {
        if (this.#degradedSince !== undefined) return;
        try {
          await this.#writes.run(sessionId, async () => {
            await this.#copy(this.#primary, secondary, sessionId);
            sessions.delete(sessionId);
          });
        } catch (error) {
          // If the primary is what failed, go degraded and stop; a failing secondary just stays stale.
          if (this.#isOutage(error) && (await this.#probePrimary())) return;
          this.#reportError(error);
        }
      }
    }
    if (this.#primaryJournalDirty && this.#stale.every((sessions) => sessions.size === 0) && !this.#isDegraded()) {
      try {
        if (await this.#clearJournal(this.#primary)) this.#primaryJournalDirty = false;
      } catch (error) {
        this.#reportError(error);
      }
    }
  }

  async #probePrimary(): Promise<boolean> {
    try {
      await this.#primary.getItems(PROBE_SESSION_ID, { limit: 1 });
      return false;
    } catch (error) {
      if (this.#isOutage(error)) {
        this.#degrade(error);
        return true;
      }
      return false;
    }
  }

  #isDegraded(): boolean {
    return this.#degradedSince !== undefined;
  }

  #reportError(error: unknown): void {
    try {
      this.#options.onError?.(error);
    } catch {
      // The hook's own failure must not break the store.
    }
  }

  /** Schedules a background resync while there is something to resync. */
  #arm(): void {
    const interval = this.#options.resyncInterval ?? 5000;
    const needed = this.#isDegraded() || this.#stale.some((s) => s.size > 0);
    if (!needed || interval === 0 || this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.resync().then(undefined, (error: unknown) => this.#reportError(error));
    }, interval);
    this.#timer.unref?.();
  }

  #degrade(error: unknown): void {
    if (this.#degradedSince !== undefined) return;
    this.#degradedSince = Date.now();
    try {
      this.#options.onDegraded?.(this.status(), error);
    } catch (hookError) {
      this.#reportError(hookError);
    }
    this.#arm();
  }

  /** Secondaries holding this session in sync, in order. */
  #inSync(sessionId: string): SessionStore<TItem>[] {
    return this.#secondaries.filter((_, index) => !this.#stale[index]!.has(sessionId));
  }

  /**
   * Marks a secondary stale for a session; with `truth` (the replica whose
   * answer the caller gets), also journals the mark there so a restart
   * remembers it.
   */
  async #markStale(store: SessionStore<TItem>, sessionId: string, error?: unknown, truth?: SessionStore<TItem>): Promise<void> {
    const index = this.#secondaries.indexOf(store as ReplicaDeadline<TItem>);
    if (index < 0) return;
    const known = this.#stale[index]!.has(sessionId);
    this.#stale[index]!.add(sessionId);
    if (error !== undefined) this.#reportError(error);
    this.#arm();
    if (truth && !known) {
      try {
        await this.#note(truth, [{ type: JOURNAL_TYPE, sessionId, replica: index }]);
      } catch (noteError) {
        this.#reportError(noteError);
      }
    }
  }

  /**
   * The shared write path: `write` runs against the primary while healthy
   * and is then mirrored to each in-sync secondary; while degraded it runs
   * against the first in-sync secondary and is mirrored to the others.
   * `agree` says whether a mirror's result matches the answer; `clears`
   * marks a write that makes a stale replica exact again.
   */
  async #write<R>(
    sessionId: string,
    write: (store: SessionStore<TItem>) => Promise<R>,
    agree: (answer: R, mirror: R) => boolean,
    clears = false,
  ): Promise<R> {
    this.assertOpen();
    assertSessionId(sessionId);
    await this.#ready();
    return this.#writes.run(sessionId, async () => {
      if (!this.#isDegraded()) {
        let answer: R;
        try {
          answer = await write(this.#primary);
        } catch (error) {
          if (!this.#isOutage(error)) throw error;
          this.#degrade(error);
          return this.#degradedWrite(sessionId, write, agree, clears, error);
        }
        await this.#mirror(sessionId, this.#secondaries, write, agree, answer, clears, this.#primary);
        return answer;
      }
      return this.#degradedWrite(sessionId, write, agree, clears, undefined);
    });
  }

  async #mirror<R>(
    sessionId: string,
    stores: readonly SessionStore<TItem>[],
    write: (store: SessionStore<TItem>) => Promise<R>,
    agree: (answer: R, mirror: R) => boolean,
    answer: R,
    clears: boolean,
    truth: SessionStore<TItem>,
  ): Promise<void> {
    for (const store of stores) {
      const index = this.#secondaries.indexOf(store as ReplicaDeadline<TItem>);
      const stale = this.#stale[index]!.has(sessionId);
      // A stale replica gets no further writes (a copy will repair it) — except one that makes it exact outright.
      if (stale && !clears) continue;
      let result: R;
      try {
        result = await write(store);
      } catch (error) {
        await this.#markStale(store, sessionId, error, truth);
        continue;
      }
      // A replica made exact again; the journal may still name it, which costs at most one needless copy.
      if (clears) this.#stale[index]!.delete(sessionId);
      else if (!agree(answer, result)) await this.#markStale(store, sessionId, undefined, truth);
    }
  }

  async #degradedWrite<R>(
    sessionId: string,
    write: (store: SessionStore<TItem>) => Promise<R>,
    agree: (answer: R, mirror: R) => boolean,
    clears: boolean,
    primaryError: unknown,
  ): Promise<R> {
    this.#degradedInflight++;
    try {
      const candidates = this.#inSync(sessionId);
      let lastError: unknown = primaryError;
      for (let i = 0; i < candidates.length; i++) {
        const store = candidates[i]!;
        const index = this.#secondaries.indexOf(store as ReplicaDeadline<TItem>);
        let answer: R;
        try {
          // Journal first: once the write is acknowledged, a restart must still know the primary missed it.
          if (this.#journal && !this.#noted[index]!.has(sessionId)) {
            await this.#note(store, [{ type: JOURNAL_TYPE, sessionId, replica: 'primary' }]);
            this.#noted[index]!.add(sessionId);
          }
          answer = await write(store);
        } catch (error) {
          // Bad input or a conflict is the answer; only an outage moves on to the next secondary.
          if (!this.#isOutage(error)) throw error;
          await this.#markStale(store, sessionId, error);
          lastError = error;
          continue;
        }
        await this.#mirror(sessionId, candidates.slice(i + 1), write, agree, answer, clears, store);
        this.#pending.add(sessionId);
        return answer;
      }
      throw isSessionError(lastError)
        ? lastError
        : new SessionError(SessionErrorCode.BackendUnavailable, 'primary and every secondary are unavailable', {
            cause: lastError,
          });
    } finally {
      this.#degradedInflight--;
    }
  }

  /** Reads go to the primary while healthy; to the first in-sync secondary while degraded or when the primary fails. */
  async #read<R>(sessionId: string | undefined, read: (store: SessionStore<TItem>) => Promise<R>): Promise<R> {
    this.assertOpen();
    await this.#ready();
    if (!this.#isDegraded()) {
      try {
        return await read(this.#primary);
      } catch (error) {
        if (!this.#isOutage(error)) throw error;
        this.#degrade(error);
      }
    }
    const candidates = sessionId === undefined ? this.#secondaries : this.#inSync(sessionId);
    let lastError: unknown;
    for (const store of candidates) {
      try {
        return await read(store);
      } catch (error) {
        if (!this.#isOutage(error)) throw error;
        lastError = error;
      }
    }
    throw new SessionError(SessionErrorCode.BackendUnavailable, 'primary and every secondary are unavailable', {
      cause: lastError,
    });
  }

  override async getItems(sessionId: string, options?: GetItemsOptions): Promise<TItem[]> {
    return this.#read(sessionId, (store) => store.getItems(sessionId, options));
  }

  override async getSessionInfo(sessionId: string, options?: CallOptions): Promise<SessionInfo | undefined> {
    this.require('sessionInfo', 'getSessionInfo');
    return this.#read(sessionId, (store) => store.getSessionInfo!(sessionId, options));
  }

  override listSessions(options?: ListSessionsOptions): AsyncIterable<SessionInfo> {
    this.require('listSessions', 'listSessions');
    const store = this;
    return {
      async *[Symbol.asyncIterator]() {
        await store.#ready();
        for await (const info of store.#list(options)) if (info.sessionId !== FALLBACK_JOURNAL_SESSION_ID) yield info;
      },
    };
  }

  #list(options?: ListSessionsOptions): AsyncIterable<SessionInfo> {
    const store = this;
    return {
      async *[Symbol.asyncIterator]() {
        // Fail over only before the first session is yielded; mid-listing, switching stores could repeat or skip sessions.
        const source = store.#isDegraded() ? undefined : store.#primary;
        if (source) {
          const iterator = source.listSessions!(options)[Symbol.asyncIterator]();
          let first: IteratorResult<SessionInfo> | undefined;
          try {
            first = await iterator.next();
          } catch (error) {
            if (!store.#isOutage(error)) throw error;
            store.#degrade(error);
          }
          if (first === undefined) {
            yield* store.#secondaries[0]!.listSessions!(options);
            return;
          }
          try {
            for (let step = first; !step.done; step = await iterator.next()) yield step.value;
          } finally {
            await iterator.return?.();
          }
          return;
        }
        yield* store.#secondaries[0]!.listSessions!(options);
      },
    };
  }

  override async addItems(sessionId: string, items: readonly TItem[], options?: CallOptions): Promise<void> {
    if (!Array.isArray(items)) throw new SessionError(SessionErrorCode.InvalidArgument, 'items must be an array');
    await this.#write<void>(sessionId, (store) => store.addItems(sessionId, items, options), () => true);
  }

  override async popItem(sessionId: string, options?: CallOptions): Promise<TItem | undefined> {
    return this.#write<TItem | undefined>(
      sessionId,
      (store) => store.popItem(sessionId, options),
      (answer, mirror) => same(answer, mirror),
    );
  }

  override async clearSession(sessionId: string, options?: CallOptions): Promise<void> {
    await this.#write<void>(sessionId, (store) => store.clearSession(sessionId, options), () => true, true);
  }

  override async applyHistoryTransaction(
    sessionId: string,
    args: HistoryTransactionArgs<TItem>,
    options?: CallOptions,
  ): Promise<void> {
    this.require('transactions', 'applyHistoryTransaction');
    await this.#write<void>(sessionId, (store) => store.applyHistoryTransaction!(sessionId, args, options), () => true);
  }

  /**
   * Prunes the primary, then each secondary; returns the primary's count.
   * Refused with BACKEND_UNAVAILABLE while degraded: pruning only the
   * secondaries would make the replicas disagree about which sessions exist.
   */
  override async prune(options: PruneOptions): Promise<number> {
    this.require('prune', 'prune');
    // Bad input is an answer whatever the state.
    normalizePruneOptions(options);
    await this.#ready();
    if (this.#isDegraded()) {
      throw new SessionError(SessionErrorCode.BackendUnavailable, 'prune is unavailable while the primary is down');
    }
    let count: number;
    try {
      count = await this.#primary.prune!(options);
    } catch (error) {
      if (this.#isOutage(error)) this.#degrade(error);
      throw error;
    }
    for (const secondary of this.#secondaries) {
      try {
        await secondary.prune!(options);
      } catch (error) {
        // Which sessions it kept is unknown; list-based repair is not possible, so report it.
        this.#reportError(error);
      }
    }
    // The prune may have removed the primary's journal with the old sessions: write the stale marks again.
    const stale = this.#staleEntries();
    if (stale.length > 0) {
      try {
        await this.#note(this.#primary, stale);
      } catch (error) {
        this.#reportError(error);
      }
    }
    return count;
  }

  override async close(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    let closed = false;
    try {
      this.assertOpen();
    } catch {
      closed = true;
    }
    await super.close();
    if (closed || this.#options.closeSecondaries === false) return;
    const results = await Promise.allSettled(this.#secondaries.map((store) => store.close()));
    const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) throw failed.reason;
  }
}

/**
 * Fails reads and writes over from the store it wraps (the primary) to
 * secondaries when the primary is unavailable. See docs/decorators/fallback.md.
 */
export function withFallback<TItem = SessionItem>(
  options: FallbackOptions<NoInfer<TItem>>,
): (store: SessionStore<TItem>) => FallbackStore<TItem> {
  return (store) => new FallbackStore<TItem>(store, options);
}
