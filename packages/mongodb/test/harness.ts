import { randomUUID } from 'node:crypto';
import { trackLocations, type ConformanceHarness } from '@sessionkit/conformance';
import { MongoClient } from 'mongodb';
import { MongoStore, type TransactionMode } from '../src/index.js';
import { distAvailable, fixtureModule, type MongoTarget } from './server.js';

/** JSON-serialisable: what the fixture module needs to open a store on the same data. */
export interface Location {
  readonly uri: string;
  readonly database: string;
  readonly collectionPrefix: string;
  readonly transactions: TransactionMode;
  readonly ttl?: number;
}

export function openStore(location: Location): MongoStore {
  return new MongoStore({
    uri: location.uri,
    database: location.database,
    collectionPrefix: location.collectionPrefix,
    transactions: location.transactions,
    ...(location.ttl !== undefined ? { ttl: location.ttl } : {}),
  });
}

/**
 * The conformance harness for one server and one commit scheme. Every store
 * gets its own collection prefix in a database of its own, dropped in teardown.
 */
export function mongoHarness(target: MongoTarget, transactions: TransactionMode, database: string): ConformanceHarness<MongoStore> {
  const { open, locationOf } = trackLocations((location: Location) => openStore(location));
  return {
    create: (options = {}) =>
      open({
        uri: target.uri,
        database,
        collectionPrefix: `c${randomUUID().slice(0, 8)}_`,
        transactions,
        ...(options.ttl !== undefined ? { ttl: options.ttl } : {}),
      }),
    reopen: (store) => open(locationOf(store)),
    ...(distAvailable
      ? { processes: { module: fixtureModule, exportName: 'openStore', location: locationOf } }
      : {}),
    async injectCorruptItem(store, sessionId) {
      // A real item first (so the session document references it), then its text replaced past the codec.
      await store.addItems(sessionId, [{ placeholder: true }]);
      const doc = await store.collections.sessions.findOne({ _id: { $eq: sessionId } });
      if (!doc) throw new Error('session document missing after addItems');
      const last = doc.runs[doc.runs.length - 1]!;
      await store.collections.items.updateOne(
        { sessionId: { $eq: sessionId }, gen: { $eq: doc.gen }, seq: { $eq: last[1] - 1 } },
        { $set: { item: '{"corrupt": ' } },
      );
    },
    async teardown() {
      const client = new MongoClient(target.uri, { serverSelectionTimeoutMS: 5_000 });
      try {
        await client.db(database).dropDatabase();
      } finally {
        await client.close();
      }
    },
  };
}
