import { trackLocations, type ConformanceHarness } from '@sessionkit/conformance';
import type { SessionStore } from '@sessionkit/core';
import { SqliteStore } from '@sessionkit/sqlite';
import Database from 'better-sqlite3';
import { ensureBuilt, injectCorruptRow, openStoreModule, tempDir } from './setup.js';

interface Location {
  readonly path: string;
  readonly ttl?: number;
}

/**
 * SqliteStore on a fresh temp file per store: reopen opens the same file,
 * child processes open it through the built dist (fixtures/open-store.mjs),
 * corrupt items go in through a separate better-sqlite3 handle.
 */
export function sqliteFileHarness(): ConformanceHarness {
  ensureBuilt();
  const temp = tempDir('conformance');
  const { open, locationOf } = trackLocations((location: Location) => new SqliteStore({ path: location.path, ...(location.ttl !== undefined ? { ttl: location.ttl } : {}) }));
  return {
    create: (options = {}) => open({ path: temp.file(), ...(options.ttl !== undefined ? { ttl: options.ttl } : {}) }),
    reopen: (store) => open(locationOf(store)),
    processes: { module: openStoreModule, exportName: 'openStore', location: locationOf },
    injectCorruptItem: async (store, sessionId) => injectCorruptRow(locationOf(store).path, sessionId),
    teardown: async () => temp.remove(),
  };
}

/** SqliteStore on ':memory:': not persistent, one process, so no reopen, processes or raw injection. */
export function sqliteMemoryHarness(): ConformanceHarness {
  return {
    create: (options = {}) => new SqliteStore({ path: ':memory:', ...(options.ttl !== undefined ? { ttl: options.ttl } : {}) }),
  };
}

/**
 * SqliteStore on an in-memory better-sqlite3 handle the caller owns: the
 * caller-handle path, and corrupt rows injected through that same handle.
 */
export function sqliteCallerHandleHarness(): ConformanceHarness {
  const handles = new WeakMap<SessionStore, Database.Database>();
  return {
    create: (options = {}) => {
      const database = new Database(':memory:');
      const store = new SqliteStore({ database, ...(options.ttl !== undefined ? { ttl: options.ttl } : {}) });
      handles.set(store, database);
      return store;
    },
    injectCorruptItem: async (store, sessionId) => injectCorruptRow(':memory:', sessionId, { database: handles.get(store)! }),
    // The caller owns the handle: the store's close() leaves it open.
    cleanup: async (store) => {
      handles.get(store)?.close();
    },
  };
}
