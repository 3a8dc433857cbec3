/** What {@link withDeadline} does when a call outlives its deadline. */
export interface DeadlineOptions {
  /** The error the caller gets at the deadline. */
  readonly onTimeout: () => Error;
  /** Called once a call that timed out finally settles (it may still have landed). Default: nothing. */
  readonly onLateSettle?: () => void;
  /**
   * Whether `call` gets an AbortSignal that aborts at the deadline. A client
   * that cannot honour one (ioredis) passes false and saves an
   * AbortController per call. Default: true.
   */
  readonly signal?: boolean;
}

/**
 * Runs `call` with a deadline of `ms` milliseconds (0: none). At the
 * deadline the caller gets `onTimeout()` at once, and the signal passed to
 * `call` aborts so a client that honours it can stop; the call itself is not
 * awaited further, which is why a timed-out write may still land.
 */
export function withDeadline<R>(
  ms: number,
  call: (signal: AbortSignal | undefined) => Promise<R>,
  options: DeadlineOptions,
): Promise<R> {
  if (!(ms > 0)) return call(undefined);
  const controller = options.signal === false ? undefined : new AbortController();
  return new Promise<R>((resolve, reject) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      reject(options.onTimeout());
      controller?.abort();
    }, ms);
    const settle = (finish: () => void) => {
      clearTimeout(timer);
      if (timedOut) options.onLateSettle?.();
      else finish();
    };
    let pending: Promise<R>;
    try {
      pending = call(controller?.signal);
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
      (value) => settle(() => resolve(value)),
      (error: unknown) => settle(() => reject(error)),
    );
  });
}
