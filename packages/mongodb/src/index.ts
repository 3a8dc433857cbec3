export { MongoStore, type MongoDeployment } from './mongo-store.js';
export {
  DEFAULT_COLLECTION_PREFIX,
  DEFAULT_DATABASE,
  DEFAULT_SERVER_SELECTION_TIMEOUT_MS,
  type MongoStoreOptions,
  type TransactionMode,
} from './options.js';
export {
  collectionNames,
  ITEM_INDEXES,
  SESSION_INDEXES,
  maxItemBytes,
  type CollectionNames,
  type ItemDocument,
  type OperationRecord,
  type Segment,
  type SessionDocument,
} from './layout.js';
export { mapMongoError } from './map-error.js';
