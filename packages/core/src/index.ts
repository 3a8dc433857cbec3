/**
 * `@sessionkit/core`: what an application uses — the contract, errors,
 * MemoryStore, binding a session, composing decorators. Adapter and decorator
 * authors build on `@sessionkit/core/adapter`; each decorator's store class and
 * figures live under its own subpath (`/analytics`, `/cache`, `/compaction`,
 * `/encryption`, `/fallback`, `/monitoring`). docs/api.md lists every name.
 */
export { SessionError, SessionErrorCode, isSessionError } from './errors.js';
export type {
  AddItemsOptions,
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
  ReplaceFunctionCallMutation,
  ReplaceSuffixTransaction,
  Session,
  SessionFactory,
  SessionInfo,
  SessionItem,
  SessionSettings,
  SessionStore,
  StoreCapabilities,
} from './types.js';
export { bindSession, isTransactionalSession } from './session.js';
export { MemoryStore, type MemoryStoreOptions } from './memory-store.js';
export { compose, type StoreDecorator } from './compose.js';
export { withAnalytics, type AnalyticsOptions } from './decorators/analytics.js';
export { withCache, type CacheOptions } from './decorators/cache.js';
export { withCompaction, type CompactionOptions } from './decorators/compaction.js';
export { withEncryption, type EncryptionOptions } from './decorators/encryption.js';
export { withFallback, type FallbackOptions } from './decorators/fallback.js';
export { withMonitoring, type MonitoringOptions } from './decorators/monitoring.js';
export { deriveKey, generateKey, type KeyRingEntry } from './key-ring.js';
