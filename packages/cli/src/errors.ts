import { SessionError, SessionErrorCode, isSessionError } from '@sessionkit/core';

/** A mistake in how the command was called: exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function usage(message: string): UsageError {
  return new UsageError(message);
}

/** What to do about each SessionError code, shown after the one-line error. */
const HINTS: Record<string, string> = {
  [SessionErrorCode.InvalidArgument]: 'check the arguments (sessionkit <command> --help)',
  [SessionErrorCode.InvalidItem]: 'the item cannot be stored as it is; fix it in the source file',
  [SessionErrorCode.TooLarge]: 'the item or batch is too large for this backend',
  [SessionErrorCode.CorruptData]: 'run `sessionkit doctor <store>` to list the corrupt items',
  [SessionErrorCode.DecryptionFailed]:
    'set SESSIONKIT_KEYRING or SESSIONKIT_KEYRING_FILE to a key ring holding every key in use (see docs/cli.md)',
  [SessionErrorCode.Conflict]: 'the data changed meanwhile or differs at the target; retry, or pass --overwrite where offered',
  [SessionErrorCode.BackendUnavailable]: 'check that the backend is running and reachable, then retry',
  [SessionErrorCode.BackendError]: 'check the URL, credentials and permissions',
  [SessionErrorCode.Closed]: 'the store was closed early; retry',
  [SessionErrorCode.Unsupported]: 'this store does not offer that operation (see its capabilities in docs/)',
};

/** One line: `error [CODE]: message — what to do`. Messages never hold item contents or keys. */
export function describeError(error: unknown): string {
  if (error instanceof UsageError) return `usage error: ${error.message} (see --help)`;
  if (isSessionError(error)) {
    const hint = HINTS[error.code];
    return `error [${error.code}]: ${oneLine(error.message)}${causeOf(error)}${hint ? ` — ${hint}` : ''}`;
  }
  const message = error instanceof Error ? error.message : String(error);
  return `error: ${oneLine(message)}`;
}

/**
 * For backend errors, the driver's own first line (e.g. a native module built
 * for another Node version, ECONNREFUSED): the fix is usually in it. Drivers'
 * messages name the failure, not item contents; cut to 160 characters.
 */
function causeOf(error: SessionError): string {
  if (error.code !== SessionErrorCode.BackendError && error.code !== SessionErrorCode.BackendUnavailable) return '';
  const cause = (error as { cause?: unknown }).cause;
  const text = cause instanceof Error ? cause.message.split('\n')[0]?.trim() : undefined;
  return text ? ` (${text.length > 160 ? `${text.slice(0, 157)}...` : text})` : '';
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

export { SessionError, SessionErrorCode };
