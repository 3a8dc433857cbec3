export {
  S3Store,
  DEFAULT_PREFIX,
  DEFAULT_INLINE_BYTES,
  DEFAULT_SEGMENT_BYTES,
  DEFAULT_MAX_RETRIES,
  DEFAULT_REQUEST_TIMEOUT_MS,
  MAX_PREFIX_BYTES,
} from './s3-store.js';
export type { S3StoreOptions } from './options.js';
export { sessionKeys, sessionSegment, type SessionKeys } from './layout.js';
export { mapS3Error } from './map-error.js';
