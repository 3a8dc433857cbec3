import { isSessionError, type SessionInfo, type SessionStore } from '@sessionkit/core';
import type { Checkpoint } from './checkpoint.js';
import { historyHash, sessionsOf } from './sessions.js';
import { writeHistory } from './write-history.js';

export interface CopyOptions {
  /** Only these session ids. Default: every session of the source. */
  readonly ids?: readonly string[];
  /** Only sessions whose last write is before this instant. Default: all. */
  readonly olderThan?: Date;
  /** Sessions copied at the same time. Default: 8. */
  readonly concurrency?: number;
  /** Sessions already done are skipped; each finished one is recorded. Default: none. */
  readonly checkpoint?: Checkpoint;
  /** Replace a different history at the target instead of failing that session. Default: false. */
  readonly overwrite?: boolean;
  /** Stop taking new sessions (in-flight ones finish); set by Ctrl-C. Default: none (never stops early). */
  readonly signal?: AbortSignal;
  /** Called once the session list is known, with how many remain. Default: none. */
  readonly onTotal?: (remaining: number) => void;
  /** Called after each session. Default: none. */
  readonly onSession?: (sessionId: string, items: number) => void;
}

export interface CopyFailure {
  readonly sessionId: string;
  readonly code: string;
  readonly message: string;
}

export interface CopyReport {
  readonly sessions: number;
  readonly written: number;
  readonly unchanged: number;
  readonly replaced: number;
  readonly skippedByCheckpoint: number;
  readonly items: number;
  readonly failures: CopyFailure[];
  readonly interrupted: boolean;
  readonly seconds: number;
}

/** Lists the sessions a copy, verify or export covers. */
export async function selectSessions(
  store: SessionStore,
  options: { ids?: readonly string[]; olderThan?: Date },
): Promise<SessionInfo[]> {
  const out: SessionInfo[] = [];
  for await (const info of sessionsOf(store, options.ids)) {
    if (options.olderThan && !(info.updatedAt < options.olderThan)) continue;
    out.push(info);
  }
  return out;
}

/** Longest run of work without a turn of the event loop, in ms. */
const TURN_MS = 10;

/**
 * Runs `work` over `list` with at most `concurrency` at a time, stopping early when `signal` aborts.
 * A store whose calls complete synchronously (SQLite) never returns to the event loop by itself, so
 * Ctrl-C, the checkpoint's timer and progress would wait for the end: every TURN_MS it yields a turn.
 */
export async function pool<T>(list: readonly T[], concurrency: number, work: (item: T) => Promise<void>, signal?: AbortSignal): Promise<void> {
  let next = 0;
  let turn = performance.now();
  const worker = async () => {
    while (next < list.length && !signal?.aborted) {
      await work(list[next++]!);
      if (performance.now() - turn >= TURN_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        turn = performance.now();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, list.length)) }, worker));
}

/** Copies sessions; never writes to or deletes from the source. */
export async function copySessions(source: SessionStore, target: SessionStore, options: CopyOptions = {}): Promise<CopyReport> {
  const started = Date.now();
  const all = await selectSessions(source, options);
  const done = options.checkpoint?.done;
  const todo = done ? all.filter((info) => !done.has(info.sessionId)) : all;
  options.onTotal?.(todo.length);
  const report = { written: 0, unchanged: 0, replaced: 0, items: 0, failures: [] as CopyFailure[] };
  await pool(
    todo,
    options.concurrency ?? 8,
    async (info) => {
      try {
        const items = await source.getItems(info.sessionId);
        const outcome = await writeHistory(target, info.sessionId, items, options.overwrite);
        report[outcome]++;
        report.items += items.length;
        options.checkpoint?.markDone(info.sessionId);
        options.onSession?.(info.sessionId, items.length);
      } catch (error) {
        if (!isSessionError(error)) throw error;
        report.failures.push({ sessionId: info.sessionId, code: error.code, message: error.message });
        options.onSession?.(info.sessionId, 0);
      }
    },
    options.signal,
  );
  options.checkpoint?.flush();
  return {
    sessions: all.length,
    ...report,
    skippedByCheckpoint: all.length - todo.length,
    interrupted: options.signal?.aborted === true,
    seconds: (Date.now() - started) / 1000,
  };
}

export interface VerifyDifference {
  readonly sessionId: string;
  readonly sourceCount: number;
  readonly targetCount: number;
  readonly sourceHash: string;
  readonly targetHash: string;
}

export interface VerifyReport {
  readonly sessions: number;
  readonly differences: VerifyDifference[];
  /** Sessions that could not be read on the source or the target (e.g. corrupt data): not compared. */
  readonly failures: CopyFailure[];
}

/** Compares item count and history hash of every selected source session with the target's. */
export async function verifyCopy(
  source: SessionStore,
  target: SessionStore,
  options: Pick<CopyOptions, 'ids' | 'olderThan' | 'concurrency' | 'onTotal' | 'onSession'> = {},
): Promise<VerifyReport> {
  const all = await selectSessions(source, options);
  options.onTotal?.(all.length);
  const differences: VerifyDifference[] = [];
  const failures: CopyFailure[] = [];
  await pool(all, options.concurrency ?? 8, async (info) => {
    let a: unknown[];
    let b: unknown[];
    try {
      [a, b] = await Promise.all([source.getItems(info.sessionId), target.getItems(info.sessionId)]);
    } catch (error) {
      if (!isSessionError(error)) throw error;
      failures.push({ sessionId: info.sessionId, code: error.code, message: error.message });
      options.onSession?.(info.sessionId, 0);
      return;
    }
    const sourceHash = historyHash(a);
    const targetHash = historyHash(b);
    if (a.length !== b.length || sourceHash !== targetHash) {
      differences.push({ sessionId: info.sessionId, sourceCount: a.length, targetCount: b.length, sourceHash, targetHash });
    }
    options.onSession?.(info.sessionId, a.length);
  });
  return { sessions: all.length, differences, failures };
}
