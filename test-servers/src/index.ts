export * from './redis.js';
export * from './s3.js';
export * from './postgres.js';
export * from './json-mutations.js';
export * from './build.js';
export * from './node-job.js';
