import { hasListSessions, hasPrune, hasSessionInfo, hasTransactions } from '../capabilities.js';
import { SessionError, SessionErrorCode, isSessionError } from '../errors.js';
import type {
  AddItemsOptions,
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
import { assertAppendOptions, assertSessionId, normalizePruneOptions } from '../validation.js';
import { assertPreconditionsSupported } from '../abstract-store.js';
import { ForwardingStore } from '../forwarding-store.js';
import { SessionQueue } from '../session-queue.js';
import { canReplaceAtomically, replaceHistoryOf, same } from './fallback/copy-history.js';
import { FALLBACK_JOURNAL_SESSION_ID, FallbackJournal } from './fallback/journal.js';
import { ReplicaDeadline } from './fallback/replica-deadline.js';
import { MissedOperations } from './fallback/missed-operations.js';
import { ReplicaState, type FallbackStatus } from './fallback/replica-state.js';
import { inSync, type Replicas } from './fallback/replicas.js';
import { catchUpPrimary, repairSecondaries } from './fallback/resync.js';
import { markStale, writeThrough, type Write } from './fallback/write-path.js';

export type { FallbackStatus } from './fallback/replica-state.js';

/** One session's info from `store`: its own `getSessionInfo`, else found in its listing. */
async function infoOf<TItem>(store: SessionStore<TItem>, sessionId: string): Promise<SessionInfo | undefined> {
  if (hasSessionInfo(store)) return store.getSessionInfo(sessionId);
  for await (const info of store.listSessions!()) if (info.sessionId === sessionId) return info;
  return undefined;
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
  /**
   * Receives errors never thrown at a caller: background resyncs, failed
   * mirror writes and prunes on secondaries, journal reads and writes, and
   * errors thrown by `onDegraded` / `onRecovered`. Default: none.
   */
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

const DEFAULT_TIMEOUT_MS = 10_000;

function defaultIsOutage(error: unknown): boolean {
  return isSessionError(error, SessionErrorCode.BackendUnavailable);
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
  readonly #r: Replicas<TItem>;
  readonly #options: FallbackOptions<TItem>;
  // Loads the journals once, on first use.
  #loading: Promise<void> | undefined;
  #resyncing: Promise<FallbackStatus> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;

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
    const all = [primary, ...secondaries];
    const drop = CAPABILITY_KEYS.filter((key) => {
      if (key === 'transactions') return !all.every((s) => hasTransactions(s));
      if (key === 'listSessions') return !all.every((s) => hasListSessions(s));
      if (key === 'sessionInfo') return !all.every((s) => hasSessionInfo(s));
      if (key === 'prune') return !all.every((s) => hasPrune(s));
      return !all.every((s) => s.capabilities?.[key] === true);
    });
    // replaceHistory: the primary's own (checked by ForwardingStore); a secondary serving or mirroring a
    // replacement needs an atomic one too — its replaceHistory, or a replace_suffix over its whole history.
    if (!secondaries.every((s) => canReplaceAtomically(s))) drop.push('replaceHistory');
    // A conditional append would need every replica to hold the same count; writes are not compare-and-swaps here.
    drop.push('conditionalAppend');
    const timedPrimary = new ReplicaDeadline<TItem>(primary, timeoutMs, 'primary');
    super(timedPrimary, drop);
    const timedSecondaries = secondaries.map((store, index) => new ReplicaDeadline<TItem>(store, timeoutMs, `secondary ${index}`));
    this.#options = options;
    this.#r = {
      primary: timedPrimary,
      secondaries: timedSecondaries,
      state: new ReplicaState(secondaries.length),
      journal: new FallbackJournal<TItem>(options.journal ?? true, timedPrimary, timedSecondaries),
      writes: new SessionQueue(),
      missedOperations: new MissedOperations(),
      isOutage: options.isOutage ?? defaultIsOutage,
      degrade: (error) => this.#degrade(error),
      reportError: (error) => this.#reportError(error),
      arm: () => this.#arm(),
    };
  }

  /** Reads the journals once per process before the first operation (see `journal`). */
  #ready(): Promise<void> {
    this.#loading ??= this.#load();
    return this.#loading;
  }

  async #load(): Promise<void> {
    const entries = await this.#r.journal.load((position, error) => {
      if (position === 0 && this.#r.isOutage(error)) this.#degrade(error);
      // An unreadable secondary journal is reported; that secondary's notes are then unknown to this process.
      else this.#reportError(error);
    });
    this.#r.state.restore(entries);
    if (this.#r.state.pendingCount > 0) {
      this.#degrade(
        new SessionError(
          SessionErrorCode.BackendUnavailable,
          'the fallback journal says the primary missed writes served by the secondaries (before this process started): serving from secondaries until a resync catches it up',
        ),
      );
    }
    this.#arm();
  }

  /** Where the store stands: healthy or degraded, and what a resync still has to do. */
  status(): FallbackStatus {
    return this.#r.state.status();
  }

  /**
   * Catches the primary up on every session written during the outage
   * (each copied whole from an in-sync secondary), then switches back to it; also
   * repairs secondaries that missed mirrored writes. Resolves with the new
   * status; if the primary is still unavailable the store stays degraded and
   * nothing is lost — call again later. Concurrent calls share one run.
   */
  resync(): Promise<FallbackStatus> {
    // Rejected, not thrown at the call, like every other operation of a closed store.
    if (this.closed) return Promise.reject(new SessionError(SessionErrorCode.Closed, 'store is closed'));
    // In flight for close(): it uses every store, so they are closed only after it ends.
    this.#resyncing ??= this.inFlight(() => this.#ready().then(() => this.#resync())).finally(() => {
      this.#resyncing = undefined;
    });
    return this.#resyncing;
  }

  async #resync(): Promise<FallbackStatus> {
    if (this.#r.state.degraded) {
      try {
        await catchUpPrimary(this.#r);
      } catch (error) {
        if (!this.#r.isOutage(error)) this.#reportError(error);
        this.#arm();
        return this.status();
      }
      // Synchronous with the check that ended catchUpPrimary: no write can slip between them onto the secondaries.
      this.#r.state.recover();
      const recovered = this.status();
      try {
        this.#options.onRecovered?.(recovered);
      } catch (error) {
        this.#reportError(error);
      }
    }
    await repairSecondaries(this.#r);
    this.#arm();
    return this.status();
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
    // A primary journal that may name stale marks ended since is rewritten by a resync too.
    const needed =
      this.#r.state.degraded || this.#r.state.anyStale || this.#r.journal.primaryDirty || this.#r.journal.dirtySecondaries().length > 0;
    // Calls that close() lets finish may still find something to resync: no timer outlives the store.
    if (!needed || interval === 0 || this.#timer || this.closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.closed) return;
      this.resync().then(undefined, (error: unknown) => this.#reportError(error));
    }, interval);
    this.#timer.unref?.();
  }

  #degrade(error: unknown): void {
    if (!this.#r.state.degrade()) return;
    try {
      this.#options.onDegraded?.(this.status(), error);
    } catch (hookError) {
      this.#reportError(hookError);
    }
    this.#arm();
  }

  /** Reads go to the primary while healthy; to the first in-sync secondary while degraded or when the primary fails. */
  async #read<R>(sessionId: string | undefined, read: (store: SessionStore<TItem>) => Promise<R>): Promise<R> {
    this.assertOpen();
    await this.#ready();
    if (!this.#r.state.degraded) {
      try {
        return await read(this.#r.primary);
      } catch (error) {
        if (!this.#r.isOutage(error)) throw error;
        this.#degrade(error);
      }
    }
    const candidates = sessionId === undefined ? this.#r.secondaries : inSync(this.#r, sessionId);
    let lastError: unknown;
    for (const store of candidates) {
      try {
        return await read(store);
      } catch (error) {
        if (!this.#r.isOutage(error)) throw error;
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
        if (!store.#r.state.degraded) {
          const iterator = store.#r.primary.listSessions!(options)[Symbol.asyncIterator]();
          let first: IteratorResult<SessionInfo> | undefined;
          try {
            first = await iterator.next();
          } catch (error) {
            if (!store.#r.isOutage(error)) throw error;
            store.#degrade(error);
          }
          if (first !== undefined) {
            try {
              for (let step = first; !step.done; step = await iterator.next()) yield step.value;
            } finally {
              await iterator.return?.();
            }
            return;
          }
        }
        yield* store.#listSecondaries(options);
      },
    };
  }

  /**
   * The listing while degraded: the first secondary whose listing answers,
   * except the sessions it is stale for (taken when the listing starts); each
   * of those comes from the first secondary holding it in sync. So every
   * session appears once, as a read of it would see it.
   */
  async *#listSecondaries(options?: ListSessionsOptions): AsyncGenerator<SessionInfo> {
    let lastError: unknown;
    for (const [index, secondary] of this.#r.secondaries.entries()) {
      const stale = new Set(this.#r.state.staleSessions(index));
      const iterator = secondary.listSessions!(options)[Symbol.asyncIterator]();
      let first: IteratorResult<SessionInfo>;
      try {
        first = await iterator.next();
      } catch (error) {
        if (!this.#r.isOutage(error)) throw error;
        lastError = error;
        continue;
      }
      try {
        for (let step = first; !step.done; step = await iterator.next()) if (!stale.has(step.value.sessionId)) yield step.value;
      } finally {
        await iterator.return?.();
      }
      for (const sessionId of stale) {
        const info = await this.#read(sessionId, (store) => infoOf(store, sessionId));
        if (info !== undefined) yield info;
      }
      return;
    }
    throw new SessionError(SessionErrorCode.BackendUnavailable, 'primary and every secondary are unavailable', { cause: lastError });
  }

  async #write<R>(sessionId: string, write: Write<TItem, R>): Promise<R> {
    this.assertOpen();
    assertSessionId(sessionId);
    await this.#ready();
    return writeThrough(this.#r, sessionId, write);
  }

  override async addItems(sessionId: string, items: readonly TItem[], options?: AddItemsOptions): Promise<void> {
    assertAppendOptions(options, this.capabilities);
    if (!Array.isArray(items)) throw new SessionError(SessionErrorCode.InvalidArgument, 'items must be an array');
    // Bad input is an answer whatever the state, refused before anything (a journal note included) is written.
    this.validateItems(items);
    await this.#write(sessionId, { run: (store) => store.addItems(sessionId, items, options), agree: () => true, makesExact: false });
  }

  override async popItem(sessionId: string, options?: CallOptions): Promise<TItem | undefined> {
    return this.#write(sessionId, { run: (store) => store.popItem(sessionId, options), agree: same, makesExact: false });
  }

  override async clearSession(sessionId: string, options?: CallOptions): Promise<void> {
    await this.#write(sessionId, {
      run: (store) => store.clearSession(sessionId, options),
      agree: () => true,
      makesExact: true,
      clearsLog: true,
    });
  }

  override async applyHistoryTransaction(sessionId: string, args: HistoryTransactionArgs<TItem>, options?: CallOptions): Promise<void> {
    this.require('transactions', 'applyHistoryTransaction');
    // Bad arguments or items are refused before anything (a journal note included) is written.
    const { operationId, fingerprint } = this.validateTransaction(args);
    assertPreconditionsSupported(args, this.capabilities);
    await this.#write(sessionId, {
      run: (store) => store.applyHistoryTransaction!(sessionId, args, options),
      agree: () => true,
      makesExact: false,
      // A repeat of a transaction some replica missed is answered from the record (docs: operation ids through an outage).
      operation: { operationId, fingerprint },
    });
  }

  /**
   * The primary replaces the history (its own atomic `replaceHistory`); each
   * secondary then does the same (its own, or one `replace_suffix` over what
   * it holds), under the same stale and journal rules as every write. A
   * replacement leaves a replica exact, so a stale secondary gets it and is in sync again.
   */
  override async replaceHistory(sessionId: string, items: readonly TItem[], options?: CallOptions): Promise<void> {
    this.validateCall('replaceHistory', sessionId);
    // Bad input is an answer whatever the state, refused before any replica is touched.
    if (!Array.isArray(items)) throw new SessionError(SessionErrorCode.InvalidArgument, 'items must be an array');
    this.validateItems(items);
    await this.#write(sessionId, {
      run: (store) => replaceHistoryOf(store, sessionId, items, options),
      agree: () => true,
      makesExact: true,
    });
  }

  /**
   * Prunes the primary (its count is returned, the journal session not
   * counted), then removes from each secondary exactly the sessions the
   * primary no longer holds; refused with BACKEND_UNAVAILABLE while degraded.
   * See docs/decorators/fallback.md (prune).
   */
  override async prune(options: PruneOptions): Promise<number> {
    this.require('prune', 'prune');
    // Bad input is an answer whatever the state.
    const cutoff = normalizePruneOptions(options);
    await this.#ready();
    if (this.#r.state.degraded) {
      throw new SessionError(SessionErrorCode.BackendUnavailable, 'prune is unavailable while the primary is down');
    }
    const { primary, secondaries } = this.#r;
    const listable = this.capabilities.listSessions;
    // The primary's sessions the prune may remove, named before it runs: its own prune does not say which it removed.
    const candidates = new Map<string, number>();
    let count: number;
    try {
      if (listable) for await (const info of primary.listSessions!()) if (info.updatedAt.getTime() < cutoff) candidates.set(info.sessionId, info.updatedAt.getTime());
      count = await primary.prune!(options);
      // The journal is no user session: a prune that removed it does not count it.
      if (candidates.delete(FALLBACK_JOURNAL_SESSION_ID) && (await primary.getItems(FALLBACK_JOURNAL_SESSION_ID, { limit: 1 })).length === 0) {
        count--;
      }
    } catch (error) {
      if (this.#r.isOutage(error)) this.#degrade(error);
      throw error;
    }
    if (listable) await this.#pruneSecondaries(cutoff, candidates);
    else {
      // No listing, no names: each secondary prunes by its own last-write times (docs: the limit this has).
      for (const secondary of secondaries) {
        try {
          await secondary.prune!(options);
        } catch (error) {
          this.#reportError(error);
        }
      }
    }
    // The prune may have removed the primary's journal with the old sessions: write the stale marks again.
    const stale = this.#r.state.staleEntries();
    if (stale.length > 0) {
      try {
        await this.#r.journal.note(primary, stale);
      } catch (error) {
        this.#reportError(error);
      }
    }
    return count;
  }

  /**
   * Makes each secondary follow the primary's prune: a session the primary
   * no longer holds is cleared there — whatever that secondary's own
   * last-write time says — and one the primary pruned and was written again
   * meanwhile is marked stale (a copy repairs it). The sessions looked at are
   * the primary's candidates and the secondary's own sessions older than the
   * cutoff. A secondary then sweeps only its expired sessions. What cannot
   * be done now is marked stale and journaled in the primary.
   */
  async #pruneSecondaries(cutoff: number, candidates: ReadonlyMap<string, number>): Promise<void> {
    const { primary, secondaries, state } = this.#r;
    const work = new Map<string, number[]>();
    for (const sessionId of candidates.keys()) work.set(sessionId, [...secondaries.keys()]);
    for (const [index, secondary] of secondaries.entries()) {
      try {
        for await (const info of secondary.listSessions!()) {
          const sessionId = info.sessionId;
          if (sessionId === FALLBACK_JOURNAL_SESSION_ID || info.updatedAt.getTime() >= cutoff || candidates.has(sessionId)) continue;
          const indexes = work.get(sessionId) ?? [];
          indexes.push(index);
          work.set(sessionId, indexes);
        }
        // Sweeps expired sessions only: no session was last written before 1970.
        await secondary.prune!({ olderThan: new Date(0) });
      } catch (error) {
        // Which old sessions it holds is unknown: those it holds beyond the primary's candidates stay until the next prune.
        this.#reportError(error);
      }
    }
    for (const [sessionId, indexes] of work) {
      // All under the session's write queue, the failure path included: no write of the session slips between
      // what is decided here and the marks it leaves.
      await this.#r.writes.run(sessionId, async () => {
        try {
          if (state.degraded) throw new SessionError(SessionErrorCode.BackendUnavailable, 'the primary went down during prune');
          const info = await infoOf(primary, sessionId);
          for (const index of indexes) {
            if (info === undefined) {
              // The primary no longer holds the session: its operation log is gone with it.
              this.#r.missedOperations.drop(sessionId);
              try {
                await secondaries[index]!.clearSession(sessionId);
                state.clearStale(index, sessionId);
              } catch (error) {
                await markStale(this.#r, index, sessionId, error, primary);
              }
            } else if (candidates.has(sessionId) && info.updatedAt.getTime() !== candidates.get(sessionId)) {
              // Written since it was listed: kept by the prune, or pruned and written again — a copy makes it exact.
              await markStale(this.#r, index, sessionId, undefined, primary);
            }
          }
        } catch (error) {
          if (this.#r.isOutage(error)) this.#degrade(error);
          // Written during an outage that began meanwhile: the secondaries holding it in sync are its truth now, and
          // the resync copies it to the primary; marking them stale would leave it unreadable and the resync stuck.
          if (state.isPending(sessionId)) {
            this.#reportError(error);
            return;
          }
          for (const index of indexes) await markStale(this.#r, index, sessionId, error, primary);
        }
      });
    }
  }

  /**
   * Lets calls and a resync in flight finish, closes the primary, then the
   * secondaries (unless `closeSecondaries: false`), even when the primary's
   * close fails; the first failure is thrown. Concurrent calls share one close.
   */
  override close(): Promise<void> {
    this.#closing ??= this.#closeAll();
    return this.#closing;
  }

  async #closeAll(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const results = [await super.close().then(() => undefined, (error: unknown) => ({ error }))];
    if (this.#options.closeSecondaries !== false) {
      for (const result of await Promise.allSettled(this.#r.secondaries.map((store) => store.close()))) {
        results.push(result.status === 'rejected' ? { error: result.reason } : undefined);
      }
    }
    const failed = results.find((result) => result !== undefined);
    if (failed) throw failed.error;
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
