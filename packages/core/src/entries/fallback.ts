/** `@sessionkit/core/fallback`: the fallback store and the status it reports. */
export { FallbackStore, type FallbackStatus } from '../decorators/fallback.js';
