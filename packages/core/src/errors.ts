/**
 * Stable error codes. Branch on `error.code`, never on messages: messages may
 * change, codes are part of the public contract.
 */
export const SessionErrorCode = {
  /** An argument is malformed: bad session id, bad limit, bad options. */
  InvalidArgument: 'INVALID_ARGUMENT',
  /** An item cannot be stored without being altered (function, cycle, NaN, class instance, ...). */
  InvalidItem: 'INVALID_ITEM',
  /** An item or batch exceeds what the backend can store. */
  TooLarge: 'TOO_LARGE',
  /** Stored data could not be decoded. Reported, never skipped or deleted. */
  CorruptData: 'CORRUPT_DATA',
  /** Stored data could not be decrypted or authenticated (wrong key, tampering, swapped ciphertext). */
  DecryptionFailed: 'DECRYPTION_FAILED',
  /** A precondition failed: operation id reused with another transaction, suffix no longer matches, lost race. */
  Conflict: 'CONFLICT',
  /** The backend cannot be reached now (connection refused, timeout, 5xx). Retrying later may succeed. */
  BackendUnavailable: 'BACKEND_UNAVAILABLE',
  /** The backend rejected the operation for a reason retrying will not fix (permissions, misconfiguration). */
  BackendError: 'BACKEND_ERROR',
  /** The store (or the resource it uses) has been closed. */
  Closed: 'CLOSED',
  /** The store does not support this operation (see its capabilities). */
  Unsupported: 'UNSUPPORTED',
} as const;

export type SessionErrorCode = (typeof SessionErrorCode)[keyof typeof SessionErrorCode];

// A registry-wide symbol brand instead of `instanceof`, so two copies of core
// (e.g. an adapter with its own nested core) still recognise each other's errors.
const BRAND = Symbol.for('sessionkit.SessionError');

export interface SessionErrorOptions {
  /** The underlying error (driver error, parse error, ...). */
  cause?: unknown;
}

/**
 * The one error type every sessionkit store throws. Messages never contain item
 * contents, keys or session ids.
 */
export class SessionError extends Error {
  readonly code: SessionErrorCode;
  override readonly name: string = 'SessionError';

  constructor(code: SessionErrorCode, message: string, options: SessionErrorOptions = {}) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    this.code = code;
    Object.defineProperty(this, BRAND, { value: true });
  }

  static is(value: unknown, code?: SessionErrorCode): value is SessionError {
    return (
      typeof value === 'object' &&
      value !== null &&
      (value as Record<symbol, unknown>)[BRAND] === true &&
      (code === undefined || (value as SessionError).code === code)
    );
  }
}

/** Type guard for any sessionkit error, optionally of one code. Works across package copies. */
export function isSessionError(value: unknown, code?: SessionErrorCode): value is SessionError {
  return SessionError.is(value, code);
}
