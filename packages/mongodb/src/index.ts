export { MongoStore, type MongoDeployment } from './mongo-store.js';
export type { MongoStoreOptions, TransactionMode } from './options.js';
