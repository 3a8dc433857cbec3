import { SessionError, SessionErrorCode } from './errors.js';

/**
 * The one budget policy for optimistic writes, in every store and decorator:
 * an operation is tried {@link CONFLICT_RETRY_ATTEMPTS} times in all, with
 * {@link backoff} between tries, before CONFLICT reaches the caller. Each lost
 * attempt means another writer made progress, so the budget bounds
 * starvation, not correctness; callers do not pick their own budgets.
 *
 * Sized for the store where every write is a compare-and-swap (S3): with a
 * few handles writing one session without pause, a try wins about half the
 * time, and a newcomer that did not back off may win over a retry, so ten
 * tries lost whole writes in the concurrency tests. Thirty make that
 * vanishingly rare and cost about 2.5 s of backoff before CONFLICT in the
 * worst case; stores whose appends cannot conflict never get near it.
 */
export const CONFLICT_RETRY_ATTEMPTS = 30;

export interface RetryOnConflictOptions {
  /** Whether an error means "lost a race, try again". Default: a SessionError with code CONFLICT. */
  readonly isConflict?: (error: unknown) => boolean;
  /** Names the operation in the error thrown when the budget is spent. Default: 'write'. */
  readonly operation?: string;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Jittered, capped exponential backoff (full jitter: up to 10 ms before the second try, the limit doubling to 200 ms), so racers spread out.
 * Not exported: a loop that needs it should be a `retryOnConflict` call.
 */
function backoff(attempt: number): Promise<void> {
  const cap = Math.min(200, 5 * 2 ** Math.min(attempt, 6));
  return sleep(Math.random() * cap);
}

/**
 * Runs `attempt(n)` until it succeeds or fails with something other than a
 * conflict; backs off between tries. When every attempt lost a race, throws
 * CONFLICT with the last loss as `cause`.
 */
export async function retryOnConflict<T>(
  attempt: (n: number) => Promise<T>,
  options: RetryOnConflictOptions = {},
): Promise<T> {
  const attempts = CONFLICT_RETRY_ATTEMPTS;
  const isConflict = options.isConflict ?? ((error: unknown) => SessionError.is(error, SessionErrorCode.Conflict));
  let last: unknown;
  for (let n = 0; n < attempts; n++) {
    if (n > 0) await backoff(n);
    try {
      return await attempt(n);
    } catch (error) {
      if (!isConflict(error)) throw error;
      last = error;
    }
  }
  throw new SessionError(
    SessionErrorCode.Conflict,
    `${options.operation ?? 'write'} gave up after ${attempts} attempts: the session kept changing`,
    { cause: last },
  );
}
