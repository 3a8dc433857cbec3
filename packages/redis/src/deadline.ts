/**
 * The store's call deadline without a timer per call. Every call of one
 * store has the same budget, so deadlines fall in the order calls start: the
 * pending calls form a FIFO queue and one timer, armed for the oldest, is
 * enough. A call costs a clock read and a queue entry; the timer is re-armed
 * only when it fires (at most once per budget while calls keep coming), not
 * set and cleared around every call as a per-call `setTimeout` would be
 * (two timers per call, with ioredis's own `commandTimeout`, cost a Redis pop
 * about a tenth of its rate; see docs/decisions.md).
 *
 * The timer is unref'd: it never keeps the process alive by itself. A
 * pending call does, through the client's socket or reconnect timer, unless
 * the caller unref'd their own client (then they asked not to wait for Redis).
 * Toggling ref per call would be two more native calls per operation.
 */

interface Pending {
  /** performance.now() at which the caller gets the timeout error. */
  readonly at: number;
  readonly reject: (error: Error) => void;
  settled: boolean;
}

// setTimeout fires after 1 ms for delays beyond this; longer waits are re-armed in steps.
const MAX_DELAY = 2 ** 31 - 1;

export class Deadlines {
  readonly #ms: number;
  readonly #onTimeout: () => Error;
  readonly #queue: Pending[] = [];
  #head = 0;
  #pending = 0;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;

  /** `ms` > 0: every call gets `onTimeout()` once it has waited `ms` milliseconds. */
  constructor(ms: number, onTimeout: () => Error) {
    this.#ms = ms;
    this.#onTimeout = onTimeout;
  }

  /** Calls not yet settled nor timed out (for tests). */
  get pending(): number {
    return this.#pending;
  }

  /**
   * `call()`'s result, or `onTimeout()` once the deadline passes; the call is
   * then no longer awaited (it may still land). A synchronous throw rejects.
   */
  run<R>(call: () => Promise<R>): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const entry: Pending = { at: performance.now() + this.#ms, reject, settled: false };
      this.#queue.push(entry);
      this.#pending++;
      if (this.#timer === undefined || entry.at < this.#timerAt) this.#arm(entry.at);
      let pending: Promise<R>;
      try {
        pending = call();
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

  /** Marks `entry` settled; false if it had already timed out. */
  #settle(entry: Pending): boolean {
    if (entry.settled) return false;
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
        this.#pending--;
        entry.reject(this.#onTimeout());
      }
      this.#head++;
    }
    this.#dropSettled();
    const next = queue[this.#head];
    if (next !== undefined) this.#arm(next.at);
  }
}
