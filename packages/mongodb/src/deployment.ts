import { SessionError, SessionErrorCode } from '@sessionkit/core';
import type { Collection, Db } from 'mongodb';
import {
  DEFAULT_MAX_BSON_OBJECT_SIZE,
  ITEM_INDEXES,
  SESSION_INDEXES,
  type ItemDocument,
  type SessionDocument,
} from './documents.js';
import type { TransactionMode } from './options.js';

/** What the store found out about the deployment on first use. */
export interface MongoDeployment {
  /** `standalone`, `replicaSet` or `sharded` (from `hello`: `setName`, `msg: 'isdbgrid'`). */
  readonly kind: 'standalone' | 'replicaSet' | 'sharded';
  /** True when writes run in multi-document transactions; false: the single-document commit scheme. */
  readonly transactions: boolean;
  /** `hello.maxBsonObjectSize`, or 16 MiB when the server does not say. */
  readonly maxBsonObjectSize: number;
}

/**
 * Asks the server (`hello`) what it is, decides whether writes run in
 * transactions, and creates the indexes when asked to.
 */
export async function detectDeployment(
  db: Db,
  mode: TransactionMode,
  ensureIndexes: boolean,
  collections: { readonly sessions: Collection<SessionDocument>; readonly items: Collection<ItemDocument> },
): Promise<MongoDeployment> {
  const hello = await db.command({ hello: 1 });
  const kind: MongoDeployment['kind'] =
    hello.msg === 'isdbgrid' ? 'sharded' : typeof hello.setName === 'string' ? 'replicaSet' : 'standalone';
  // Transactions need a replica set or mongos, and logical sessions.
  const supported = kind !== 'standalone' && hello.logicalSessionTimeoutMinutes != null;
  if (mode === 'always' && !supported) {
    throw new SessionError(
      SessionErrorCode.BackendError,
      "transactions: 'always' needs a replica set or sharded cluster; this deployment is " + kind,
    );
  }
  const maxBsonObjectSize =
    typeof hello.maxBsonObjectSize === 'number' && hello.maxBsonObjectSize > 0
      ? hello.maxBsonObjectSize
      : DEFAULT_MAX_BSON_OBJECT_SIZE;
  if (ensureIndexes) {
    // Idempotent when the same indexes exist; creates the collections too,
    // so later writes never create a collection inside a transaction.
    await collections.sessions.createIndexes(SESSION_INDEXES);
    await collections.items.createIndexes(ITEM_INDEXES);
  }
  return { kind, transactions: mode !== 'never' && supported, maxBsonObjectSize };
}
