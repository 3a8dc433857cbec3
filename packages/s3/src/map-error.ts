import { SessionError, SessionErrorCode } from '@sessionkit/core';

// Node and SDK errors meaning "the service could not be reached or did not answer".
const UNAVAILABLE_ERRNO = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN',
  'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EHOSTDOWN', 'ESOCKETTIMEDOUT', 'UND_ERR_SOCKET',
]);
const UNAVAILABLE_NAMES = new Set([
  'TimeoutError', 'RequestTimeout', 'RequestTimeoutException', 'AbortError', 'SlowDown', 'ServiceUnavailable',
  'InternalError', 'ThrottlingException', 'Throttling', 'RequestLimitExceeded', 'NetworkingError',
]);

interface S3LikeError {
  name?: unknown;
  code?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: unknown; attempts?: unknown };
  cause?: unknown;
}

/** HTTP status of an SDK error, when it got an answer. */
export function httpStatus(error: unknown): number | undefined {
  const status = (error as S3LikeError | null)?.$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

/** How many attempts the SDK's retry middleware made before this error, when it says. */
export function attemptsOf(error: unknown): number | undefined {
  const attempts = (error as S3LikeError | null)?.$metadata?.attempts;
  return typeof attempts === 'number' ? attempts : undefined;
}

/** The service does not implement the request as sent (for example a condition it does not support). */
export function isUnsupported(error: unknown): boolean {
  return httpStatus(error) === 501 || errorName(error) === 'NotImplemented';
}

/** The S3 error code (`NoSuchKey`, `PreconditionFailed`, ...) of an SDK error. */
export function errorName(error: unknown): string {
  const name = (error as S3LikeError | null)?.name;
  return typeof name === 'string' ? name : '';
}

export function isNotFound(error: unknown): boolean {
  const name = errorName(error);
  return name === 'NoSuchKey' || name === 'NotFound' || (httpStatus(error) === 404 && name !== 'NoSuchBucket');
}

/** 412, or 409 ConditionalRequestConflict: another writer won; re-read and retry. */
export function isPreconditionFailed(error: unknown): boolean {
  const status = httpStatus(error);
  const name = errorName(error);
  return status === 412 || name === 'PreconditionFailed' || name === 'ConditionalRequestConflict' || status === 409;
}

function errnoOf(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as S3LikeError).code;
    if (typeof code === 'string' && UNAVAILABLE_ERRNO.has(code)) return code;
    current = (current as S3LikeError).cause;
  }
  return '';
}

/**
 * Maps an @aws-sdk/client-s3 error to a SessionError. Messages name only the
 * kind of failure; the SDK's error (which may quote keys) stays in `cause`.
 */
export function mapS3Error(error: unknown): SessionError {
  if (SessionError.is(error)) return error;
  const unavailable = (why: string) =>
    new SessionError(SessionErrorCode.BackendUnavailable, `s3 is unavailable: ${why}`, { cause: error });
  const errno = errnoOf(error);
  if (errno) return unavailable(errno.toLowerCase());
  const name = errorName(error);
  const status = httpStatus(error);
  if (UNAVAILABLE_NAMES.has(name)) return unavailable(name);
  if (status !== undefined && (status >= 500 || status === 429)) return unavailable(`http ${status}`);
  if ((error as S3LikeError | null)?.$fault === 'server') return unavailable('server fault');
  if (status === undefined && error instanceof Error && !name.startsWith('Session')) {
    // No HTTP answer at all: the request never completed (socket, DNS, TLS).
    if (/socket|network|connect|timed? ?out|hang up/i.test(error.message)) return unavailable('no answer');
  }
  if (name === 'NoSuchBucket') return new SessionError(SessionErrorCode.BackendError, 's3 bucket does not exist', { cause: error });
  if (name === 'AccessDenied' || status === 403) {
    return new SessionError(SessionErrorCode.BackendError, 's3 denied access (check credentials and policy)', { cause: error });
  }
  if (name === 'EntityTooLarge') return new SessionError(SessionErrorCode.TooLarge, 's3 object would be too large', { cause: error });
  return new SessionError(SessionErrorCode.BackendError, 's3 rejected the operation', { cause: error });
}
