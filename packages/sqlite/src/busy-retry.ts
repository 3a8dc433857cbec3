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
 */
export async function retryBusy<T>(fn: () => T, maxWaitMs: number): Promise<T> {
  const deadline = Date.now() + maxWaitMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return fn();
    } catch (error) {
      const wait = delay(attempt);
      if (!isBusyError(error) || Date.now() + wait > deadline) throw error;
      await sleep(wait);
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
