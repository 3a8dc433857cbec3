import { SessionError, SessionErrorCode } from './errors.js';

/**
 * Longest `ttl`: 10^15 ms (about 31,700 years). A longer one would put a
 * session's expiry (`expiresAt`) past the last instant a JavaScript Date holds
 * (8.64·10^15 ms after 1970); for sessions that never expire, give no ttl.
 */
export const MAX_TTL_MS = 1e15;

/**
 * Validates a `ttl` option (milliseconds after the last write). Shared by
 * every adapter so the same values are accepted everywhere.
 */
export function normalizeTtl(ttl: unknown): number | undefined {
  if (ttl === undefined) return undefined;
  if (typeof ttl !== 'number' || !Number.isSafeInteger(ttl) || ttl <= 0 || ttl > MAX_TTL_MS) {
    throw new SessionError(SessionErrorCode.InvalidArgument, 'ttl must be a positive integer number of milliseconds, at most 10^15');
  }
  return ttl;
}
