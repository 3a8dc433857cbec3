import { isSessionError, SessionErrorCode } from '@sessionkit/core';
import { MongoClient } from 'mongodb';
import { describe, expect, it, vi } from 'vitest';
import { MongoStore } from '../src/index.js';
import { resolveOptions, type MongoStoreOptions } from '../src/options.js';

const URI = 'mongodb://127.0.0.1:1/';

function expectInvalid(options: unknown) {
  try {
    resolveOptions(options as MongoStoreOptions);
  } catch (error) {
    expect(isSessionError(error, SessionErrorCode.InvalidArgument), String(error)).toBe(true);
    return;
  }
  throw new Error(`expected INVALID_ARGUMENT for ${JSON.stringify(options)}`);
}

describe('option validation (no server needed)', () => {
  it('applies the documented defaults', () => {
    expect(resolveOptions({ uri: URI })).toMatchObject({
      database: 'sessionkit',
      collectionPrefix: 'sessionkit_',
      transactions: 'auto',
      serverSelectionTimeoutMS: 5000,
      operationLogSize: 1000,
      ensureIndexes: true,
      ttl: undefined,
    });
  });

  it('needs exactly one of client and uri', () => {
    expectInvalid({});
    expectInvalid({ uri: URI, client: new MongoClient(URI) });
    expectInvalid(null);
    expectInvalid('mongodb://x');
  });

  it('refuses malformed values', () => {
    expectInvalid({ uri: 'http://localhost' });
    expectInvalid({ uri: 42 });
    expectInvalid({ client: {} });
    expectInvalid({ uri: URI, database: 'a.b' });
    expectInvalid({ uri: URI, collectionPrefix: '$x' });
    expectInvalid({ uri: URI, transactions: 'sometimes' });
    expectInvalid({ uri: URI, ttl: 0 });
    expectInvalid({ uri: URI, ttl: 1.5 });
    expectInvalid({ uri: URI, serverSelectionTimeoutMS: 0 });
    expectInvalid({ uri: URI, operationLogSize: -1 });
    expectInvalid({ uri: URI, ensureIndexes: 'yes' });
    expectInvalid({ client: new MongoClient(URI), clientOptions: {} });
  });

  it('a URI the driver cannot parse is INVALID_ARGUMENT at construction', () => {
    expect(() => new MongoStore({ uri: 'mongodb://' })).toThrow(
      expect.objectContaining({ code: SessionErrorCode.InvalidArgument }),
    );
  });

  it('constructing connects nothing; close() of a store that never connected resolves', async () => {
    const store = new MongoStore({ uri: URI });
    expect(store.database).toBe('sessionkit');
    expect(store.collections.sessions.collectionName).toBe('sessionkit_sessions');
    expect(store.collections.items.collectionName).toBe('sessionkit_items');
    await store.close();
    await expect(store.getItems('s')).rejects.toMatchObject({ code: SessionErrorCode.Closed });
  });

  it('never closes a client the caller passed in', async () => {
    const client = new MongoClient(URI, { serverSelectionTimeoutMS: 100 });
    const close = vi.spyOn(client, 'close');
    const store = new MongoStore({ client });
    expect(store.client).toBe(client);
    await store.close();
    await store[Symbol.asyncDispose]();
    expect(close).not.toHaveBeenCalled();
    await client.close();
  });

  it('closes the client it created', async () => {
    const store = new MongoStore({ uri: URI });
    const close = vi.spyOn(store.client, 'close');
    await store.close();
    expect(close).toHaveBeenCalledTimes(1);
  });
});
