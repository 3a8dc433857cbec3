export { S3Store } from './s3-store.js';
export type { S3StoreOptions } from './options.js';
