import { SessionError, SessionErrorCode } from '@sessionkit/core';

// SQLSTATE classes and codes grouped by what a caller can do about them.
// 08: connection exception; 57P01-03: admin shutdown, crash shutdown, cannot
// connect now (failover, restart); 53: insufficient resources; 58: system error.
const UNAVAILABLE_CLASSES = ['08', '53', '58'];
const UNAVAILABLE_CODES = ['57P01', '57P02', '57P03', '57P05', '57014'];
// Node socket errors seen when the server is down or a connection dies.
const SOCKET_CODES = ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'];

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

/** Serialization failure (40001) or deadlock (40P01): the transaction rolled back and may simply be run again. */
export function isRetryableConflict(error: unknown): boolean {
  const code = codeOf(error);
  return code === '40001' || code === '40P01';
}

/**
 * A named prepared statement the server connection does not have (26000) or
 * already has (42P05): what a pooler that moves a client between server
 * connections without tracking prepared statements produces. Raised at
 * Parse/Bind, before the statement runs.
 */
export function isPreparedStatementMismatch(error: unknown): boolean {
  const code = codeOf(error);
  return code === '26000' || code === '42P05';
}

/**
 * PostgreSQL refused to parse a stored item as JSON in the one-statement pop:
 * invalid syntax (22P02, or any other data exception, class 22) or nesting
 * deeper than its stack allows (54001). The statement changed nothing.
 */
export function isItemRefused(error: unknown): boolean {
  const code = codeOf(error);
  return code.startsWith('22') || code === '54001';
}

/** pg's own error when a statement outlived its `query_timeout` (see the store's `queryTimeout`). */
export function isQueryTimeout(error: unknown): boolean {
  return error instanceof Error && error.message === 'Query read timeout';
}

/** True when the error means the server could not be reached or the connection died. */
export function isConnectionError(error: unknown): boolean {
  const code = codeOf(error);
  if (SOCKET_CODES.includes(code) || UNAVAILABLE_CODES.includes(code)) return true;
  if (code.length === 5 && UNAVAILABLE_CLASSES.includes(code.slice(0, 2))) return true;
  const message = error instanceof Error ? error.message : '';
  // pg reports dropped connections and pool timeouts as plain Errors without a code.
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended|not queryable/i.test(
    message,
  );
}

/**
 * Maps a node-postgres error to a SessionError. The message names only the
 * kind of failure; the server's own message (which may quote values) stays in `cause`.
 */
export function mapPostgresError(error: unknown): SessionError {
  if (SessionError.is(error)) return error;
  const code = codeOf(error);
  if (isQueryTimeout(error)) {
    return new SessionError(SessionErrorCode.BackendUnavailable, 'postgres did not answer within queryTimeout', { cause: error });
  }
  if (isConnectionError(error)) {
    return new SessionError(SessionErrorCode.BackendUnavailable, 'postgres is unavailable', { cause: error });
  }
  if (isRetryableConflict(error)) {
    return new SessionError(SessionErrorCode.Conflict, 'postgres kept aborting the transaction on conflicts', { cause: error });
  }
  if (code === '54000' || code === '22001' || code === '53400') {
    return new SessionError(SessionErrorCode.TooLarge, 'item or batch exceeds postgres limits', { cause: error });
  }
  if (/Cannot use a pool after calling end on the pool/i.test(error instanceof Error ? error.message : '')) {
    return new SessionError(SessionErrorCode.Closed, 'the postgres pool has been ended', { cause: error });
  }
  return new SessionError(SessionErrorCode.BackendError, `postgres rejected the operation${code ? ` (${code})` : ''}`, { cause: error });
}
