import { describeError } from './checks.js';

/** The time limit of a test that sets none, and of each harness call the runner makes outside a test. */
export const DEFAULT_TIMEOUT_MS = 30_000;

/** The longest delay setTimeout honours; beyond it Node fires after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The run cannot start (or finish) because of the harness or the store it
 * returns: a create() that throws or never settles, a bad waiver or scale, a
 * capability manifest that is not booleans. The CLI prints the message in one
 * line, with its cause, and exits 2.
 */
export class HarnessError extends Error {
  override readonly name = 'HarnessError';
}

/** The one line the CLI prints for a HarnessError's cause. */
export function describeCause(error: unknown): string {
  return describeError(error).split('\n')[0]!;
}

/** A call that outlived its time limit: `<what> did not settle within N ms`. */
export class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

/** Throws a RangeError unless `ms` is a whole number of milliseconds setTimeout can wait. */
export function checkTimeout(ms: unknown, what: string): void {
  if (typeof ms !== 'number' || !Number.isInteger(ms) || ms <= 0 || ms > MAX_TIMER_MS) {
    throw new RangeError(`${what} must be a whole number of milliseconds from 1 to ${MAX_TIMER_MS}, got ${String(ms)}`);
  }
}

/**
 * `call()`'s outcome, or a TimeoutError saying `what` "did not settle within `ms`
 * ms" once `ms` passes (the call itself cannot be stopped, only abandoned).
 *
 * Its timer is ref'd on purpose. Core's withDeadline unrefs its timer (a
 * store's timer must never keep an application alive), but here a call that
 * never settles must end as a failure at the deadline: with an unref'd timer
 * Node finds nothing left to do and exits while the run is still waiting.
 */
export function settleWithin<R>(ms: number, what: string, call: () => R | PromiseLike<R>): Promise<Awaited<R>> {
  return new Promise<Awaited<R>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new TimeoutError(`${what} did not settle within ${ms} ms`)), ms);
    let pending: Promise<Awaited<R>>;
    try {
      pending = Promise.resolve(call()) as Promise<Awaited<R>>;
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
