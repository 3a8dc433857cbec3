export { SessionError, SessionErrorCode, isSessionError, type SessionErrorOptions } from './errors.js';
export type {
  AppendItemsTransaction,
  BindableStore,
  CallOptions,
  GetItemsOptions,
  HistoryMutation,
  HistoryMutationArgs,
  HistoryTransaction,
  HistoryTransactionArgs,
  ListSessionsOptions,
  PruneOptions,
  ReplaceSuffixTransaction,
  Session,
  SessionFactory,
  SessionInfo,
  SessionItem,
  SessionSettings,
  SessionStore,
  ReplaceFunctionCallMutation,
  StoreCapabilities,
} from './types.js';
export {
  canonicalize,
  decodeItem,
  decodeItems,
  encodeItem,
  encodeItems,
  MAX_ITEM_DEPTH,
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
  normalizePruneOptions,
  OPERATION_LOG_RETENTION,
  prepareTransaction,
  suffixMatches,
  type PreparedTransaction,
} from './validation.js';
export { normalizeTtl } from './ttl.js';
export {
  hasHistoryMutations,
  hasListSessions,
  hasPrune,
  hasReplaceHistory,
  hasSessionInfo,
  hasTransactionPreconditions,
  hasTransactions,
  NO_CAPABILITIES,
} from './capabilities.js';
export { bindSession, isTransactionalSession } from './session.js';
export { AbstractSessionStore, DEFAULT_LIST_PAGE_SIZE, unsupported } from './abstract-store.js';
export { MemoryStore, type MemoryStoreOptions } from './memory-store.js';
export { compose, type StoreDecorator } from './compose.js';
export { STORE_OPERATIONS, type StoreOperation } from './operations.js';
export { ForwardingStore } from './forwarding-store.js';
export { sessionLabel, type SessionIdMode } from './session-label.js';
export {
  AnalyticsStore,
  withAnalytics,
  type AnalyticsDelta,
  type AnalyticsEvent,
  type AnalyticsOptions,
  type GetAnalyticsOptions,
  type SessionAnalytics,
} from './decorators/analytics.js';
export {
  estimateItemTokens,
  estimateTokens,
  heuristicTokenizer,
  itemText,
  type Tokenizer,
} from './token-estimate.js';
export { tiktokenTokenizer, type TiktokenEncodingName } from './tiktoken-tokenizer.js';
export {
  itemCallId,
  itemRole,
  itemType,
  isToolCall,
  isToolOutput,
  TOOL_CALL_TYPES,
  TOOL_OUTPUT_TYPES,
} from './item-kinds.js';
export {
  FallbackStore,
  withFallback,
  type FallbackOptions,
  type FallbackStatus,
  type FallbackWritePolicy,
} from './decorators/fallback.js';
export {
  CompactionStore,
  compactionCut,
  withCompaction,
  type CompactionOptions,
  type CompactionPhase,
  type CompactionResult,
  type SummarizeContext,
} from './decorators/compaction.js';
export {
  EncryptionStore,
  reencryptSession,
  withEncryption,
  type EncryptedEnvelope,
  type EncryptionOptions,
} from './decorators/encryption.js';
export {
  deriveKey,
  generateKey,
  KEY_BYTES,
  type DeriveKeyOptions,
  type DerivedPassphraseKey,
  type KeyRingEntry,
  type PassphraseKey,
} from './key-ring.js';
export { CacheStore, withCache, type CacheOptions, type CacheStats } from './decorators/cache.js';
export {
  DEFAULT_LATENCY_BUCKETS,
  MonitoringStore,
  withMonitoring,
  type MonitoredOperation,
  type MonitoringMeter,
  type MonitoringOptions,
  type MonitoringSpan,
  type MonitoringSpanOptions,
  type MonitoringStats,
  type MonitoringTracer,
  type OperationEvent,
  type OperationStats,
} from './decorators/monitoring.js';
