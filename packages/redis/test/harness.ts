import { trackLocations, type ConformanceHarness } from '@sessionkit/conformance';
import type { RedisStore } from '@sessionkit/redis';
import { lazyTarget } from '@sessionkit/test-servers';
import { distAvailable, fixtureModule, openStore, uniquePrefix, type Location } from './setup.js';

/**
 * The conformance harness for one Redis deployment. `connect` starts (or
 * names) the servers once, on first use; `teardown` stops them. Each store
 * gets its own key prefix, so stores never see each other's data.
 */
export function redisHarness(
  label: string,
  connect: () => Promise<{ url?: string; nodes?: { host: string; port: number }[]; stop(): Promise<void> }>,
): ConformanceHarness<RedisStore> & { stop(): Promise<void> } {
  const { get: where, stop } = lazyTarget(connect);
  const { open, locationOf } = trackLocations((location: Location) => openStore(location));

  return {
    async create(options = {}) {
      const t = await where();
      return open({
        ...(t.nodes ? { nodes: t.nodes } : { url: t.url! }),
        keyPrefix: uniquePrefix(label),
        ...(options.ttl !== undefined ? { ttl: options.ttl } : {}),
      });
    },
    reopen: (store) => open(locationOf(store)),
    ...(distAvailable
      ? {
          processes: {
            module: fixtureModule,
            exportName: 'openStore',
            location: locationOf,
          },
        }
      : {}),
    async injectCorruptItem(store, sessionId) {
      // Straight into the list, past the codec: text JSON.parse rejects.
      const { sessionKeys } = await import('../src/keys.js');
      const keys = sessionKeys(store.keyPrefix, sessionId);
      const now = String(Date.now());
      await store.client.hsetnx(keys.meta, 'c', now);
      await store.client.hset(keys.meta, 'u', now);
      await store.client.rpush(keys.items, '{"corrupt": ');
    },
    teardown: stop,
    stop,
  };
}
