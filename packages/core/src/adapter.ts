/**
 * `@sessionkit/core/adapter`: what an adapter or decorator author builds on.
 *
 * Applications import `@sessionkit/core`; this entry holds the building blocks
 * behind it — the base classes, the item codec, argument validation, the
 * transaction preparation every store shares, the conflict-retry policy and the
 * capability guards — so every adapter keeps the contract the same way.
 * See docs/api.md (every name) and docs/architecture.md (where things go).
 */
export type { SessionErrorOptions } from './errors.js';
export type { HistoryChanges, HistoryVersion } from './types.js';
export { AbstractSessionStore, DEFAULT_LIST_PAGE_SIZE, unsupported, assertPreconditionsSupported } from './abstract-store.js';
export { ForwardingStore } from './forwarding-store.js';
export {
  canonicalize,
  decodeItem,
  decodeItems,
  encodeItem,
  encodeItems,
  MAX_ITEM_DEPTH,
  isPlainObject,
  type EncodedItem,
} from './codec.js';
export {
  assertPositiveInteger,
  assertSessionId,
  checkExpectedLength,
  conflicts,
  MAX_IDENTITY_LENGTH,
  MAX_OPERATION_ID_LENGTH,
  MAX_SESSION_ID_LENGTH,
  normalizeLimit,
  normalizeMilliseconds,
  normalizePruneOptions,
  OPERATION_LOG_RETENTION,
  prepareTransaction,
  suffixMatches,
  type PreparedTransaction,
} from './validation.js';
export { normalizeTtl } from './ttl.js';
export { appendedSince, MAX_EPOCH_LENGTH, newEpoch, normalizeSince, type EncodedChanges } from './history-version.js';
export { CONFLICT_RETRY_ATTEMPTS, retryOnConflict, type RetryOnConflictOptions } from './retry.js';
export { SessionQueue } from './session-queue.js';
export { Deadlines, withDeadline, type DeadlineOptions } from './deadline.js';
export { applyMutations, mutateThroughTransactions, validateMutations } from './history-mutations.js';
export {
  hasHistoryMutations,
  hasListSessions,
  hasPrune,
  hasReadChanges,
  hasReplaceHistory,
  hasSessionInfo,
  hasTransactionPreconditions,
  hasTransactions,
  NO_CAPABILITIES,
} from './capabilities.js';
export { STORE_OPERATIONS, type StoreOperation } from './operations.js';
export { sessionLabel, type SessionIdMode } from './session-label.js';
