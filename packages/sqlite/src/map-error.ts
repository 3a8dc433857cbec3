import { SessionError, SessionErrorCode } from '@sessionkit/core';

// SQLite result codes (better-sqlite3 puts the extended name in `code`, e.g.
// SQLITE_BUSY_SNAPSHOT) grouped by what a caller can do about them.
const UNAVAILABLE = ['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_CANTOPEN', 'SQLITE_IOERR', 'SQLITE_FULL', 'SQLITE_PROTOCOL', 'SQLITE_NOMEM'];
const CORRUPT = ['SQLITE_CORRUPT', 'SQLITE_NOTADB'];

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

function hasPrefix(code: string, families: readonly string[]): boolean {
  return families.some((family) => code === family || code.startsWith(`${family}_`));
}

/** True for SQLITE_BUSY and SQLITE_LOCKED (and their extended codes): another connection holds a lock. */
export function isBusyError(error: unknown): boolean {
  return hasPrefix(codeOf(error), ['SQLITE_BUSY', 'SQLITE_LOCKED']);
}

/**
 * Maps a better-sqlite3 error to a SessionError. The message names only the
 * kind of failure; SQLite's own message (which may quote SQL) stays in `cause`.
 */
export function mapSqliteError(error: unknown): SessionError {
  if (SessionError.is(error)) return error;
  const code = codeOf(error);
  if (isBusyError(error)) {
    return new SessionError(SessionErrorCode.BackendUnavailable, 'sqlite database stayed locked by other connections', {
      cause: error,
    });
  }
  if (hasPrefix(code, UNAVAILABLE)) {
    return new SessionError(SessionErrorCode.BackendUnavailable, `sqlite is unavailable: ${code.toLowerCase()}`, { cause: error });
  }
  if (hasPrefix(code, CORRUPT)) {
    return new SessionError(SessionErrorCode.CorruptData, 'sqlite database file is corrupt or not a database', { cause: error });
  }
  if (hasPrefix(code, ['SQLITE_TOOBIG'])) {
    return new SessionError(SessionErrorCode.TooLarge, 'item or batch exceeds sqlite limits', { cause: error });
  }
  if (hasPrefix(code, ['SQLITE_READONLY'])) {
    return new SessionError(SessionErrorCode.BackendError, 'sqlite database is read-only', { cause: error });
  }
  // better-sqlite3 checks the path's directory itself, before SQLite would report SQLITE_CANTOPEN.
  if (error instanceof TypeError && /directory does not exist/i.test(error.message)) {
    return new SessionError(SessionErrorCode.BackendUnavailable, 'sqlite cannot open the file: its directory does not exist', { cause: error });
  }
  // better-sqlite3 throws a TypeError when the connection was closed (e.g. a caller-owned handle).
  if (error instanceof TypeError && /database connection is not open/i.test(error.message)) {
    return new SessionError(SessionErrorCode.Closed, 'the sqlite database connection is closed', { cause: error });
  }
  return new SessionError(SessionErrorCode.BackendError, 'sqlite rejected the operation', { cause: error });
}
