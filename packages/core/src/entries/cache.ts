/** `@sessionkit/core/cache`: the cache store and its hit/miss figures. */
export { CacheStore, type CacheStats } from '../decorators/cache.js';
