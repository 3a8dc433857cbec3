export { RedisStore, DEFAULT_COMMAND_TIMEOUT, DEFAULT_KEY_PREFIX } from './redis-store.js';
export type { RedisStoreOptions } from './options.js';
export { sessionKeys, encodeSessionId, type SessionKeys } from './keys.js';
export { mapRedisError } from './map-error.js';
