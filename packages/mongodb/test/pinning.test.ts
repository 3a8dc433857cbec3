/**
 * The store's handles read from the primary and write with an acknowledged
 * majority write concern whatever the client was configured with. No server
 * needed: a MongoClient can be constructed (and its handles inspected)
 * without connecting.
 */
import { MongoClient } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { MongoStore } from '../src/index.js';

// Nothing listens on port 1; nothing here connects.
const URI = 'mongodb://127.0.0.1:1/?readPreference=secondaryPreferred&readConcernLevel=available&w=0';

function expectPinned(store: MongoStore) {
  for (const collection of [store.collections.sessions, store.collections.items]) {
    expect(collection.readPreference?.mode, collection.collectionName).toBe('primary');
    expect(collection.readConcern?.level, collection.collectionName).toBe('local');
    expect(collection.writeConcern?.w, collection.collectionName).toBe('majority');
  }
}

describe('read preference and concerns are pinned (no MongoDB needed)', () => {
  const clients: MongoClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
  });

  it('a client of yours that reads from secondaries still gets primary reads and majority writes', async () => {
    const client = new MongoClient(URI);
    clients.push(client);
    // The client's own handles follow its URI: the store must not.
    expect(client.db('x').collection('y').readPreference?.mode).toBe('secondaryPreferred');
    const store = new MongoStore({ client });
    expectPinned(store);
    await store.close();
  });

  it('a store-owned client from a URI or clientOptions that read from secondaries is pinned too', async () => {
    for (const options of [
      { uri: URI },
      { uri: 'mongodb://127.0.0.1:1/', clientOptions: { readPreference: 'secondary' as const, writeConcern: { w: 0 } } },
    ]) {
      const store = new MongoStore(options);
      expect(store.client.readPreference.mode).not.toBe('primary');
      expectPinned(store);
      await store.close();
    }
  });
});
