import { trackLocations, type ConformanceHarness } from '@sessionkit/conformance';
import type { SessionStore } from '@sessionkit/core';
import { SqliteStore } from '@sessionkit/sqlite';
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
