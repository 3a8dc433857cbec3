/** What a deadline does when a call outlives it. */
export interface DeadlineOptions {
  /** The error the caller gets at the deadline. */
  readonly onTimeout: () => Error;
  /** Called once a call that timed out finally settles (it may still have landed). Default: nothing. */
  readonly onLateSettle?: () => void;
  /**
   * Whether `call` gets an AbortSignal that aborts at the deadline. A client
   * that cannot honour one (ioredis, a SessionStore) passes false and saves
   * an AbortController per call. Default: true.
   */
  readonly signal?: boolean;
}

interface Pending {
  /** performance.now() at which the caller gets the timeout error. */
  readonly at: number;
  readonly reject: (error: Error) => void;
  readonly controller: AbortController | undefined;
  settled: boolean;
  timedOut: boolean;
}

// setTimeout fires after 1 ms for delays beyond this; longer waits are re-armed in steps.
const MAX_DELAY = 2 ** 31 - 1;

/**
 * Deadlines for the calls of one owner (a store, a replica) that all get the
 * same budget of `ms` milliseconds, without a timer per call: deadlines fall
 * in the order calls start, so the pending calls form a FIFO queue and one
 * timer, armed for the oldest, is enough. A call costs a clock read and a
 * queue entry; the timer is re-armed only when it fires, not set and cleared
 * around every call (on a Redis pop, a timer per call cost a few percent of
 * its rate; see docs/decisions.md).
 *
 * At the deadline the caller gets `onTimeout()` at once and the call's
 * signal (if any) aborts, so a client that honours it can stop; the call
 * itself is not awaited further, which is why a timed-out write may still
 * land. The timer is unref'd: it never keeps the process alive by itself.
 */
export class Deadlines {
  readonly #ms: number;
  readonly #options: DeadlineOptions;
  readonly #queue: Pending[] = [];
  #head = 0;
  #pending = 0;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;

  /** `ms` > 0: the budget of every call. */
  constructor(ms: number, options: DeadlineOptions) {
    this.#ms = ms;
    this.#options = options;
  }

  /** Calls neither settled nor timed out. */
  get pending(): number {
    return this.#pending;
  }

  /** `call()`'s result, or `onTimeout()` once the deadline passes. A synchronous throw rejects. */
  run<R>(call: (signal: AbortSignal | undefined) => Promise<R>): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const controller = this.#options.signal === false ? undefined : new AbortController();
      const entry: Pending = { at: performance.now() + this.#ms, reject, controller, settled: false, timedOut: false };
      this.#queue.push(entry);
      this.#pending++;
      if (this.#timer === undefined || entry.at < this.#timerAt) this.#arm(entry.at);
      let pending: Promise<R>;
      try {
        pending = call(controller?.signal);
      } catch (error) {
        pending = Promise.reject(error);
      }
      pending.then(
        (value) => {
          if (this.#settle(entry)) resolve(value);
        },
        (error: unknown) => {
          if (this.#settle(entry)) reject(error);
        },
      );
    });
  }

  /** Marks `entry` settled; false if it had timed out (then it is a late settle). */
  #settle(entry: Pending): boolean {
    if (entry.timedOut) {
      this.#options.onLateSettle?.();
      return false;
    }
    entry.settled = true;
    this.#pending--;
    this.#dropSettled();
    return true;
  }

  /** Drops settled entries from the front (replies mostly come back in order, so the queue stays short). */
  #dropSettled(): void {
    const queue = this.#queue;
    while (this.#head < queue.length && queue[this.#head]!.settled) this.#head++;
    if (this.#head === queue.length) {
      queue.length = 0;
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > queue.length) {
      queue.splice(0, this.#head);
      this.#head = 0;
    }
  }

  #arm(at: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timerAt = at;
    const delay = Math.min(Math.max(Math.ceil(at - performance.now()), 1), MAX_DELAY);
    this.#timer = setTimeout(() => this.#expire(), delay).unref();
  }

  #expire(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = performance.now();
    const queue = this.#queue;
    while (this.#head < queue.length) {
      const entry = queue[this.#head]!;
      if (!entry.settled) {
        if (entry.at > now) break;
        entry.settled = true;
        entry.timedOut = true;
        this.#pending--;
        entry.reject(this.#options.onTimeout());
        entry.controller?.abort();
      }
      this.#head++;
    }
    this.#dropSettled();
    const next = queue[this.#head];
    if (next !== undefined) this.#arm(next.at);
  }
}

/**
 * Runs one `call` with a deadline of `ms` milliseconds (0: none), for a
 * budget that differs call by call; calls that share one budget share a
 * {@link Deadlines}.
 */
export function withDeadline<R>(
  ms: number,
  call: (signal: AbortSignal | undefined) => Promise<R>,
  options: DeadlineOptions,
): Promise<R> {
  if (!(ms > 0)) return call(undefined);
  return new Deadlines(ms, options).run(call);
}
