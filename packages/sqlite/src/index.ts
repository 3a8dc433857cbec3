export { SqliteStore } from './sqlite-store.js';
export {
  DEFAULT_BUSY_TIMEOUT,
  DEFAULT_MAX_BUSY_WAIT,
  DEFAULT_TABLE_PREFIX,
  TABLE_PREFIX_PATTERN,
  type SqliteStoreOptions,
} from './options.js';
export { CURRENT_SCHEMA_VERSION, tableNames, type TableNames } from './schema.js';
export { mapSqliteError } from './map-error.js';
