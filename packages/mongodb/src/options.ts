import { SessionError, SessionErrorCode } from '@sessionkit/core';
import { assertPositiveInteger, normalizeTtl, OPERATION_LOG_RETENTION } from '@sessionkit/core/adapter';
import type { MongoClient, MongoClientOptions } from 'mongodb';
import { assertCollectionPrefix, assertDatabaseName } from './documents.js';

/** How batches are made atomic. See docs/mongodb.md ("Atomicity"). */
export type TransactionMode = 'auto' | 'always' | 'never';

/**
 * Options for {@link MongoStore}. Give exactly one of `client` (yours, never
 * closed by the store) or `uri` (the store creates and closes the client).
 */
export interface MongoStoreOptions {
  /** A `MongoClient` you created and own. The store never closes it. Default: none. */
  readonly client?: MongoClient;
  /** `mongodb://` or `mongodb+srv://` connection string; the store owns the client it creates. Default: none. */
  readonly uri?: string;
  /**
   * Driver options for a store-owned client (with `uri`). Your values override
   * the store's defaults (`serverSelectionTimeoutMS`, `connectTimeoutMS`). Default: none.
   */
  readonly clientOptions?: MongoClientOptions;
  /** Database holding the two collections. Default: `'sessionkit'`. */
  readonly database?: string;
  /**
   * Prefix of the two collection names (`<prefix>sessions`, `<prefix>items`).
   * Two stores on the same database and prefix see the same sessions.
   * Default: `'sessionkit_'`.
   */
  readonly collectionPrefix?: string;
  /**
   * Milliseconds after the last write (append, pop, transaction) at which a
   * session expires. Expired sessions read as empty at once and are deleted
   * by MongoDB's TTL monitor (which runs about every 60 s). Default: none.
   */
  readonly ttl?: number;
  /**
   * `'auto'`: multi-document transactions when the deployment supports them
   * (replica set or sharded cluster, detected with `hello` on first use), the
   * single-document commit scheme otherwise. `'always'`: require
   * transactions (fails with BACKEND_ERROR on a standalone). `'never'`: always
   * the single-document scheme. Both are atomic; see docs/mongodb.md.
   * Default: `'auto'`.
   */
  readonly transactions?: TransactionMode;
  /**
   * How long a store-owned client waits to find a usable server before a call
   * fails with BACKEND_UNAVAILABLE. Ignored with `client` (configure yours).
   * Default: `5000`.
   */
  readonly serverSelectionTimeoutMS?: number;
  /** Operation ids remembered per session for transaction idempotency. Default: 1000 (`OPERATION_LOG_RETENTION`). */
  readonly operationLogSize?: number;
  /**
   * Create the collections' indexes on first use (`createIndexes`, a no-op
   * when they exist). Turn off when your deployment manages indexes; the
   * required ones are listed in docs/mongodb.md. Default: `true`.
   */
  readonly ensureIndexes?: boolean;
}

/** Default `database`. */
export const DEFAULT_DATABASE = 'sessionkit';
/** Default `collectionPrefix`. */
export const DEFAULT_COLLECTION_PREFIX = 'sessionkit_';
/** Default `serverSelectionTimeoutMS` for store-owned clients. */
export const DEFAULT_SERVER_SELECTION_TIMEOUT_MS = 5000;

/** Options after validation, with defaults applied. */
export interface ResolvedOptions {
  readonly client: MongoClient | undefined;
  readonly uri: string | undefined;
  readonly clientOptions: MongoClientOptions;
  readonly database: string;
  readonly collectionPrefix: string;
  readonly ttl: number | undefined;
  readonly transactions: TransactionMode;
  readonly serverSelectionTimeoutMS: number;
  readonly operationLogSize: number;
  readonly ensureIndexes: boolean;
}

function invalid(message: string): SessionError {
  return new SessionError(SessionErrorCode.InvalidArgument, message);
}

/** Validates {@link MongoStoreOptions} (INVALID_ARGUMENT) without touching the network. */
export function resolveOptions(options: MongoStoreOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw invalid('MongoStore options must be an object');
  const { client, uri } = options;
  if ((client === undefined) === (uri === undefined)) throw invalid('MongoStore needs exactly one of: client, uri');
  if (client !== undefined && (typeof client !== 'object' || client === null || typeof client.db !== 'function')) {
    throw invalid('client must be a MongoClient');
  }
  if (uri !== undefined && (typeof uri !== 'string' || !/^mongodb(\+srv)?:\/\//.test(uri))) {
    throw invalid('uri must be a mongodb:// or mongodb+srv:// connection string');
  }
  if (options.clientOptions !== undefined && client !== undefined) {
    throw invalid('clientOptions only apply to a client the store creates (uri)');
  }
  const database = options.database ?? DEFAULT_DATABASE;
  assertDatabaseName(database);
  const collectionPrefix = options.collectionPrefix ?? DEFAULT_COLLECTION_PREFIX;
  assertCollectionPrefix(collectionPrefix);
  const transactions = options.transactions ?? 'auto';
  if (transactions !== 'auto' && transactions !== 'always' && transactions !== 'never') {
    throw invalid("transactions must be 'auto', 'always' or 'never'");
  }
  const serverSelectionTimeoutMS = options.serverSelectionTimeoutMS ?? DEFAULT_SERVER_SELECTION_TIMEOUT_MS;
  assertPositiveInteger(serverSelectionTimeoutMS, 'serverSelectionTimeoutMS');
  const operationLogSize = options.operationLogSize ?? OPERATION_LOG_RETENTION;
  assertPositiveInteger(operationLogSize, 'operationLogSize');
  const ensureIndexes = options.ensureIndexes ?? true;
  if (typeof ensureIndexes !== 'boolean') throw invalid('ensureIndexes must be a boolean');
  return {
    client,
    uri,
    clientOptions: options.clientOptions ?? {},
    database,
    collectionPrefix,
    ttl: normalizeTtl(options.ttl),
    transactions,
    serverSelectionTimeoutMS,
    operationLogSize,
    ensureIndexes,
  };
}
