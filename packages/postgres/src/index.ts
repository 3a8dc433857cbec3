export { PostgresStore, PRUNE_BATCH } from './postgres-store.js';
export {
  DEFAULT_SCHEMA,
  DEFAULT_TABLE_PREFIX,
  SCHEMA_PATTERN,
  TABLE_PREFIX_PATTERN,
  type PostgresStoreOptions,
} from './options.js';
export { CURRENT_SCHEMA_VERSION, MIGRATIONS, ensureSchema, tableNames, type Migration, type TableNames } from './schema.js';
export { statementSql } from './statements.js';
export { isConnectionError, mapPostgresError } from './map-error.js';
