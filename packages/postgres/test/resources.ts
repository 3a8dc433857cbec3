/** What one test file opens on its PostgreSQL, closed together after the file (then the server is stopped). */
import { PostgresStore, type PostgresStoreOptions } from '@sessionkit/postgres';
import pg from 'pg';
import { afterAll } from 'vitest';
import type { PostgresTarget } from './server.js';

export interface TestResources {
  /** A store on its own pool of `max` connections (default 2). */
  store(schema: string, options?: { readonly max?: number } & Omit<PostgresStoreOptions, 'connectionString' | 'pool' | 'poolConfig' | 'schema'>): PostgresStore;
  /** A pool of `max` connections (default 1), for stores that share one. */
  pool(max?: number): pg.Pool;
  /** A connected client: a backend of its own (locks, raw rows). */
  client(): Promise<pg.Client>;
}

export function testResources(target: PostgresTarget): TestResources {
  const stores: PostgresStore[] = [];
  const pools: pg.Pool[] = [];
  const clients: pg.Client[] = [];
  /** Each pooled connection's close: `pool.end()` resolves before its sockets have closed. */
  const pooledClosed: Promise<void>[] = [];
  afterAll(async () => {
    // Clients first: one may hold a lock a store's close would wait behind.
    await Promise.all(clients.map((c) => c.end()));
    await Promise.all(stores.map((s) => s.close()));
    await Promise.all(pools.map((p) => p.end()));
    // Stopping the server under a connection still closing makes it fail with 57P01, uncaught.
    await Promise.all(pooledClosed);
    await target.stop();
  }, 60_000);
  return {
    store(schema, { max = 2, ...options } = {}) {
      const store = new PostgresStore({ ...options, connectionString: target.url, schema, poolConfig: { max } });
      stores.push(store);
      return store;
    },
    pool(max = 1) {
      const pool = new pg.Pool({ connectionString: target.url, max });
      pool.on('connect', (client) => pooledClosed.push(new Promise((resolve) => client.once('end', () => resolve()))));
      pools.push(pool);
      return pool;
    },
    async client() {
      const client = new pg.Client({ connectionString: target.url });
      await client.connect();
      clients.push(client);
      return client;
    },
  };
}
