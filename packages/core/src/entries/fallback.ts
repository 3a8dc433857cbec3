/** `@sessionkit/core/fallback`: the fallback store and the status it reports. */
export { FallbackStore, type FallbackStatus, type FallbackWritePolicy } from '../decorators/fallback.js';
