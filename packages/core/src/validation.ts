import { hash } from 'node:crypto';
import { canonicalize, encodeItems, type EncodedItem } from './codec.js';
import { SessionError, SessionErrorCode } from './errors.js';
import type { AddItemsOptions, HistoryTransactionArgs, StoreCapabilities } from './types.js';

/** Longest accepted session id, in UTF-16 code units. */
export const MAX_SESSION_ID_LENGTH = 512;
/** Longest accepted transaction operation id, in UTF-16 code units. */
export const MAX_OPERATION_ID_LENGTH = 256;
/** Longest accepted `HistoryTransactionArgs.identity`. */
export const MAX_IDENTITY_LENGTH = 1024;
/** How many operation ids each built-in store remembers per session (oldest forgotten first). */
export const OPERATION_LOG_RETENTION = 1000;

function invalidArgument(message: string): SessionError {
  return new SessionError(SessionErrorCode.InvalidArgument, message);
}

/**
 * Session ids are opaque data: any well-formed string of 1–512 code units.
 * Lone surrogates are refused because no backend can store them faithfully.
 */
export function assertSessionId(sessionId: unknown): asserts sessionId is string {
  if (typeof sessionId !== 'string') throw invalidArgument('session id must be a string');
  if (sessionId.length === 0) throw invalidArgument('session id must not be empty');
  if (sessionId.length > MAX_SESSION_ID_LENGTH) {
    throw invalidArgument(`session id must be at most ${MAX_SESSION_ID_LENGTH} characters`);
  }
  if (!sessionId.isWellFormed()) throw invalidArgument('session id must be well-formed Unicode');
}

/**
 * `undefined` means the whole history; otherwise a non-negative safe integer.
 * Anything else is a caller bug and is refused rather than guessed at.
 */
export function normalizeLimit(limit: unknown): number | undefined {
  if (limit === undefined) return undefined;
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 0) {
    throw invalidArgument('limit must be a non-negative integer or undefined');
  }
  return limit;
}

/** Shared check for page sizes and similar positive counts in options. */
export function assertPositiveInteger(value: unknown, name: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw invalidArgument(`${name} must be a positive integer`);
  }
}

/**
 * Shared check for an option in milliseconds where 0 means none (a timeout,
 * a wait): `fallback` when undefined, else a non-negative safe integer.
 */
export function normalizeMilliseconds(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalidArgument(`${name} must be a non-negative integer number of milliseconds (0: none)`);
  }
  return value;
}

/** Checks `prune`'s options; returns the cutoff in epoch milliseconds. */
export function normalizePruneOptions(options: unknown): number {
  const olderThan = (options as { olderThan?: unknown } | undefined)?.olderThan;
  if (!(olderThan instanceof Date) || Number.isNaN(olderThan.getTime())) {
    throw invalidArgument('prune needs { olderThan: Date } with a valid date');
  }
  return olderThan.getTime();
}

/**
 * A validated, encoded transaction, in the one shape adapters implement:
 * `append_items` is a `replace_suffix` whose expected suffix is empty.
 */
export interface PreparedTransaction {
  readonly operationId: string;
  /** SHA-256 (hex) of the transaction's canonical form: equal exactly for equal transactions. */
  readonly fingerprint: string;
  readonly type: 'append_items' | 'replace_suffix';
  /** Canonical forms of the expected newest items (compare with {@link canonicalize} of stored items). */
  readonly expectedSuffix: readonly string[];
  /**
   * The expected newest items as the codec stores them (insertion key order).
   * Items written by sessionkit and read back encode to exactly these bytes, so
   * a store that compares bytes (a Redis script) matches on its first try.
   */
  readonly expectedEncoded: readonly EncodedItem[];
  /** Encoded items that replace the suffix (or are appended). */
  readonly replacement: readonly EncodedItem[];
  /** Required item count before the change (`HistoryTransactionArgs.expectedLength`). */
  readonly expectedLength?: number;
}

/** Validates transaction arguments and encodes every item, before anything is written. */
export function prepareTransaction(args: HistoryTransactionArgs): PreparedTransaction {
  if (typeof args !== 'object' || args === null) throw invalidArgument('transaction arguments must be an object');
  const { operationId, transaction, expectedLength, identity } = args as unknown as Record<string, unknown>;
  if (typeof operationId !== 'string' || operationId.trim() === '') {
    throw invalidArgument('operationId must be a non-empty string');
  }
  if (operationId.length > MAX_OPERATION_ID_LENGTH || !operationId.isWellFormed()) {
    throw invalidArgument(`operationId must be well-formed and at most ${MAX_OPERATION_ID_LENGTH} characters`);
  }
  if (typeof transaction !== 'object' || transaction === null) throw invalidArgument('transaction must be an object');
  const tx = transaction as Record<string, unknown>;
  let expected: EncodedItem[];
  let replacement: EncodedItem[];
  if (tx.type === 'append_items') {
    if (!Array.isArray(tx.items)) throw invalidArgument('append_items needs an items array');
    expected = [];
    replacement = encodeItems(tx.items);
  } else if (tx.type === 'replace_suffix') {
    if (!Array.isArray(tx.expectedSuffix) || !Array.isArray(tx.replacement)) {
      throw invalidArgument('replace_suffix needs expectedSuffix and replacement arrays');
    }
    expected = encodeItems(tx.expectedSuffix);
    replacement = encodeItems(tx.replacement);
  } else {
    throw invalidArgument('transaction type must be append_items or replace_suffix');
  }
  if (expectedLength !== undefined && (!Number.isSafeInteger(expectedLength) || (expectedLength as number) < 0)) {
    throw invalidArgument('expectedLength must be a non-negative integer');
  }
  if (
    identity !== undefined &&
    (typeof identity !== 'string' || identity.length === 0 || identity.length > MAX_IDENTITY_LENGTH || !identity.isWellFormed())
  ) {
    throw invalidArgument(`identity must be a well-formed string of 1 to ${MAX_IDENTITY_LENGTH} characters`);
  }
  const expectedSuffix = expected.map(canonicalize);
  // With an identity the caller says what the change is; the stored forms may differ between attempts.
  const body =
    identity !== undefined
      ? JSON.stringify(['identity', identity])
      : JSON.stringify([tx.type, expectedSuffix, replacement.map(canonicalize), ...(expectedLength === undefined ? [] : [expectedLength])]);
  return {
    operationId,
    fingerprint: hash('sha256', body, 'hex'),
    type: tx.type,
    expectedSuffix,
    expectedEncoded: expected,
    replacement,
    ...(expectedLength === undefined ? {} : { expectedLength: expectedLength as number }),
  };
}

/** True when the stored newest items equal the expected suffix (key order ignored). */
export function suffixMatches(storedNewest: readonly EncodedItem[], expectedSuffix: readonly string[]): boolean {
  if (storedNewest.length !== expectedSuffix.length) return false;
  for (let i = 0; i < expectedSuffix.length; i++) {
    let stored: string;
    try {
      stored = canonicalize(storedNewest[i]!);
    } catch (cause) {
      throw new SessionError(SessionErrorCode.CorruptData, 'stored item is not valid JSON', { cause });
    }
    if (stored !== expectedSuffix[i]) return false;
  }
  return true;
}

/** The CONFLICT errors every store raises, with the same wording. */
export const conflicts = {
  operationReused: () =>
    new SessionError(SessionErrorCode.Conflict, 'operation id was already applied with a different transaction'),
  suffixMismatch: () =>
    new SessionError(SessionErrorCode.Conflict, 'session history suffix no longer matches the transaction'),
  lengthMismatch: () =>
    new SessionError(SessionErrorCode.Conflict, 'session no longer holds the expected number of items'),
};

/**
 * Checks a conditional append's `expectedLength` before anything is written:
 * INVALID_ARGUMENT unless a non-negative integer, UNSUPPORTED when the store
 * does not declare `conditionalAppend` (never ignored).
 */
export function assertAppendOptions(options: AddItemsOptions | undefined, capabilities: StoreCapabilities): void {
  const expectedLength = options?.expectedLength;
  if (expectedLength === undefined) return;
  if (!Number.isSafeInteger(expectedLength) || expectedLength < 0) throw invalidArgument('expectedLength must be a non-negative integer');
  if (capabilities.conditionalAppend !== true) {
    throw new SessionError(SessionErrorCode.Unsupported, 'this store does not support addItems with expectedLength');
  }
}

/** Throws CONFLICT when a transaction's or a conditional append's `expectedLength` differs from the session's item count. */
export function checkExpectedLength(tx: { readonly expectedLength?: number | undefined }, itemCount: number): void {
  if (tx.expectedLength !== undefined && tx.expectedLength !== itemCount) throw conflicts.lengthMismatch();
}
