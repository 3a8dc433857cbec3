export { SqliteStore } from './sqlite-store.js';
export type { SqliteStoreOptions } from './options.js';
