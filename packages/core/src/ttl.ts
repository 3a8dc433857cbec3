import { SessionError, SessionErrorCode } from './errors.js';

/**
 * Validates a `ttl` option (milliseconds after the last write). Shared by
 * every adapter so the same values are accepted everywhere.
 */
export function normalizeTtl(ttl: unknown): number | undefined {
  if (ttl === undefined) return undefined;
  if (typeof ttl !== 'number' || !Number.isSafeInteger(ttl) || ttl <= 0) {
    throw new SessionError(SessionErrorCode.InvalidArgument, 'ttl must be a positive integer number of milliseconds');
  }
  return ttl;
}
