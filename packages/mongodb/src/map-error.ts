import { SessionError, SessionErrorCode } from '@sessionkit/core';

// Matched by name, not instanceof: a caller's client may come from another
// copy of the driver than ours.
const UNAVAILABLE_NAMES = new Set([
  'MongoServerSelectionError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoTopologyClosedError',
  'MongoClientClosedError',
  'MongoNotConnectedError',
  'MongoServerClosedError',
  'MongoOperationTimeoutError',
  'MongoStalePrimaryError',
  'MongoPoolClearedError',
  'MongoWaitQueueTimeoutError',
]);

// Server error codes meaning "not now": elections, shutdown, unreachable
// hosts, stale routing, time limits. Retrying later may succeed.
const UNAVAILABLE_CODES = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  50, // MaxTimeMSExpired
  64, // WriteConcernFailed (wtimeout)
  89, // NetworkTimeout
  91, // ShutdownInProgress
  133, // FailedToSatisfyReadPreference
  189, // PrimarySteppedDown
  202, // NetworkInterfaceExceededTimeLimit
  262, // ExceededTimeLimit
  9001, // SocketException
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13388, // StaleConfig
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
]);

// The document would exceed the maximum BSON size.
const TOO_LARGE_CODES = new Set([10334, 17419, 17420, 2]);
const TOO_LARGE_MESSAGE = /(larger than|exceeds) (the )?max(imum)?[ a-z]*size|object to insert too large|BSONObjectTooLarge/i;

const UNAVAILABLE_LABELS = ['TransientTransactionError', 'RetryableWriteError', 'SystemOverloadedError'];

const UNAVAILABLE_ERRNO = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN',
  'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EHOSTDOWN',
]);

interface DriverErrorLike {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  codeName?: unknown;
  hasErrorLabel?: (label: string) => boolean;
  errorLabels?: unknown;
}

function hasLabel(err: DriverErrorLike, label: string): boolean {
  if (typeof err.hasErrorLabel === 'function') {
    try {
      return err.hasErrorLabel(label);
    } catch {
      return false;
    }
  }
  return Array.isArray(err.errorLabels) && err.errorLabels.includes(label);
}

/**
 * Maps a MongoDB driver error to a SessionError. Messages name only the kind
 * of failure: the driver's error (which may quote filters, i.e. session ids)
 * stays in `cause`.
 */
export function mapMongoError(error: unknown): SessionError {
  if (SessionError.is(error)) return error;
  const err = (typeof error === 'object' && error !== null ? error : {}) as DriverErrorLike;
  const name = typeof err.name === 'string' ? err.name : '';
  const code = err.code;
  const message = typeof err.message === 'string' ? err.message : '';
  const unavailable = (why: string) =>
    new SessionError(SessionErrorCode.BackendUnavailable, `mongodb is unavailable: ${why}`, { cause: error });

  if (name === 'MongoServerSelectionError') return unavailable('no server could be selected in time');
  if (UNAVAILABLE_NAMES.has(name)) return unavailable('connection lost or timed out');
  if (typeof code === 'string' && UNAVAILABLE_ERRNO.has(code)) return unavailable(code.toLowerCase());
  if (typeof code === 'number') {
    if (TOO_LARGE_CODES.has(code) && (code !== 2 || TOO_LARGE_MESSAGE.test(message))) {
      return new SessionError(SessionErrorCode.TooLarge, 'a document exceeds the maximum size MongoDB allows', { cause: error });
    }
    if (UNAVAILABLE_CODES.has(code)) return unavailable(typeof err.codeName === 'string' ? err.codeName : `code ${code}`);
    if (code === 112) {
      return new SessionError(SessionErrorCode.Conflict, 'write conflict with a concurrent writer; try again', { cause: error });
    }
    if (code === 13 || code === 18) {
      return new SessionError(SessionErrorCode.BackendError, 'mongodb refused the credentials or the operation', { cause: error });
    }
  }
  if (TOO_LARGE_MESSAGE.test(message)) {
    return new SessionError(SessionErrorCode.TooLarge, 'a document exceeds the maximum size MongoDB allows', { cause: error });
  }
  if (UNAVAILABLE_LABELS.some((label) => hasLabel(err, label))) return unavailable('transient error');
  return new SessionError(SessionErrorCode.BackendError, 'mongodb rejected the operation', { cause: error });
}

/** True for a duplicate-key write error (E11000), alone or inside a bulk write error. */
export function isDuplicateKeyError(error: unknown): boolean {
  const err = error as { code?: unknown; writeErrors?: unknown } | null;
  if (err === null || typeof err !== 'object') return false;
  if (err.code === 11000) return true;
  const writeErrors = Array.isArray(err.writeErrors) ? err.writeErrors : err.writeErrors ? [err.writeErrors] : [];
  return writeErrors.some((w) => (w as { code?: unknown } | null)?.code === 11000);
}
