/**
 * Runs tasks one at a time per key (a session id), in arrival order, within
 * this process. A failed task does not stop the ones queued behind it. Keys
 * with nothing queued hold no memory.
 */
export class SessionQueue {
  readonly #tails = new Map<string, Promise<void>>();

  /** Runs `task` after every task queued earlier under `key` has settled. */
  async run<R>(key: string, task: () => Promise<R>): Promise<R> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const run = previous.then(task);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    try {
      return await run;
    } finally {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }

  /** Keys with a task running or queued. */
  get size(): number {
    return this.#tails.size;
  }
}
