import { SessionError, SessionErrorCode } from '@sessionkit/core';

// Reply prefixes meaning "not now": the cluster is resharding or failing
// over, a replica lost its master, the server is loading its dataset or busy
// running a script. Retrying later may succeed.
const UNAVAILABLE_REPLIES = ['CLUSTERDOWN', 'TRYAGAIN', 'LOADING', 'MASTERDOWN', 'BUSY', 'READONLY', 'NOREPLICAS', 'MOVED', 'ASK'];

// Client-side messages of ioredis for a connection that is gone or not yet there.
const UNAVAILABLE_MESSAGES = [
  'Connection is closed',
  'Command timed out',
  "Stream isn't writeable",
  "Cluster isn't ready",
  'Cluster is ended',
  'Failed to refresh slots cache',
  'None of startup nodes is available',
  'Too many Cluster redirections',
  'Reached the max retries per request limit',
  'connect ETIMEDOUT',
];

const UNAVAILABLE_ERRNO = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN',
  'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EHOSTDOWN',
]);

const UNAVAILABLE_NAMES = new Set(['MaxRetriesPerRequestError', 'ClusterAllFailedError', 'AbortError']);

/**
 * The error to report when a call timed out while the server kept refusing the
 * connection's login (a wrong user name or password, or a password the server
 * does not expect), or undefined for any other connection error. The message
 * names the refusal only, never the credentials.
 */
export function loginRefusal(error: unknown): SessionError | undefined {
  const message = typeof (error as { message?: unknown } | null)?.message === 'string' ? (error as { message: string }).message : '';
  const refused = /^(WRONGPASS|NOAUTH)\b/.test(message) || /^ERR (invalid password|AUTH\b)/.test(message);
  if (!refused) return undefined;
  return new SessionError(
    SessionErrorCode.BackendError,
    'redis refused the login (WRONGPASS, NOAUTH or AUTH): check the user name and password',
    { cause: error },
  );
}

/**
 * Maps an ioredis error to a SessionError. The message names only the kind of
 * failure; the driver's error (which may quote keys) stays in `cause`.
 */
export function mapRedisError(error: unknown): SessionError {
  if (SessionError.is(error)) return error;
  const err = error as { name?: unknown; message?: unknown; code?: unknown } | null;
  const message = typeof err?.message === 'string' ? err.message : '';
  const name = typeof err?.name === 'string' ? err.name : '';
  const code = typeof err?.code === 'string' ? err.code : '';
  const unavailable = (why: string) =>
    new SessionError(SessionErrorCode.BackendUnavailable, `redis is unavailable: ${why}`, { cause: error });

  if (UNAVAILABLE_ERRNO.has(code)) return unavailable(code.toLowerCase());
  if (UNAVAILABLE_NAMES.has(name)) return unavailable('connection lost');
  if (UNAVAILABLE_MESSAGES.some((m) => message.startsWith(m))) return unavailable('connection lost or timed out');
  // Redis 7 keeps the error code of a failing redis.call() at the front of a script's error.
  const first = message.split(' ', 1)[0] ?? '';
  if (UNAVAILABLE_REPLIES.includes(first)) return unavailable(first.toLowerCase());
  if (first === 'WRONGTYPE') {
    return new SessionError(SessionErrorCode.CorruptData, 'a session key holds the wrong redis type', { cause: error });
  }
  if (first === 'OOM') {
    return new SessionError(SessionErrorCode.BackendError, 'redis is out of memory (maxmemory reached)', { cause: error });
  }
  return new SessionError(SessionErrorCode.BackendError, 'redis rejected the operation', { cause: error });
}
