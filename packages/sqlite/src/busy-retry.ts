import { setTimeout as sleep } from 'node:timers/promises';
import { isBusyError } from './map-error.js';

const FIRST_DELAY_MS = 2;
const MAX_DELAY_MS = 100;

// Jitter keeps processes that collided once from colliding again in lockstep.
function delay(attempt: number): number {
  const ceiling = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** attempt);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/**
 * Runs `fn` (one synchronous SQLite transaction or statement), retrying while
 * SQLite reports SQLITE_BUSY/SQLITE_LOCKED, with jittered exponential backoff
 * that yields to the event loop, until `maxWaitMs` has passed. Then the last
 * busy error is thrown (mapped to BACKEND_UNAVAILABLE by the store). A failed
 * attempt wrote nothing: the transaction rolled back.
 *
 * The first attempt runs at once and, when it succeeds (almost always), costs
 * one settled promise: no async frame, no timer. A tail read takes ~30 µs, so
 * a few microtask hops are a visible share of it.
 *
 * `beforeRetry` runs before each later attempt and may throw: the store's
 * check that it is still open, so a call waiting out a lock never writes after
 * `close()` (on a handle you own, close leaves the connection open).
 */
export function retryBusy<T>(fn: () => T, maxWaitMs: number, beforeRetry?: () => void): Promise<T> {
  // Taken before the first attempt: better-sqlite3's own busy timeout may block inside it.
  const started = Date.now();
  try {
    return Promise.resolve(fn());
  } catch (error) {
    if (!isBusyError(error)) return Promise.reject(error);
    return retryLater(fn, started + maxWaitMs, error, beforeRetry);
  }
}

async function retryLater<T>(fn: () => T, deadline: number, first: unknown, beforeRetry: (() => void) | undefined): Promise<T> {
  let last = first;
  for (let attempt = 0; ; attempt++) {
    const wait = delay(attempt);
    if (Date.now() + wait > deadline) throw last;
    await sleep(wait);
    beforeRetry?.();
    try {
      return fn();
    } catch (error) {
      if (!isBusyError(error)) throw error;
      last = error;
    }
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * The blocking form of {@link retryBusy}, for the constructor (which cannot
 * await): opening a file while another process creates its tables.
 */
export function retryBusySync<T>(fn: () => T, maxWaitMs: number): T {
  const deadline = Date.now() + maxWaitMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return fn();
    } catch (error) {
      const wait = delay(attempt);
      if (!isBusyError(error) || Date.now() + wait > deadline) throw error;
      Atomics.wait(sleeper, 0, 0, wait);
    }
  }
}
