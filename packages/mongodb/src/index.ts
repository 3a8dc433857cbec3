export { MongoStore } from './mongo-store.js';
export type { MongoDeployment } from './deployment.js';
export type { MongoStoreOptions, TransactionMode } from './options.js';
