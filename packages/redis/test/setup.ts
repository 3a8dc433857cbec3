/**
 * Where the Redis tests run: servers started here on loopback, or the ones
 * named by REDIS_URL / REDIS_CLUSTER_NODES ("host:port,host:port,...").
 */
import { existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { redisServerAvailable, startRedis, startRedisCluster } from '@sessionkit/test-servers';
import { RedisStore, type RedisStoreOptions } from '@sessionkit/redis';

export interface StandaloneTarget {
  readonly url: string;
  /** Present only for servers these tests started (fault tests need to stop them). */
  readonly server?: Awaited<ReturnType<typeof startRedis>>;
  stop(): Promise<void>;
}

export interface ClusterTarget {
  readonly nodes: { host: string; port: number }[];
  stop(): Promise<void>;
}

/** JSON-serialisable: what the fixture module needs to open a store on the same data. */
export interface Location {
  readonly url?: string;
  readonly nodes?: { host: string; port: number }[];
  readonly keyPrefix: string;
  readonly ttl?: number;
}

const binary = redisServerAvailable();
export const standaloneAvailable = Boolean(process.env.REDIS_URL) || binary;
export const clusterAvailable = Boolean(process.env.REDIS_CLUSTER_NODES) || binary;

export function skipLine(what: string): string {
  return `!!! SKIPPED ${what}: no redis-server on PATH and no ${what.includes('cluster') ? 'REDIS_CLUSTER_NODES' : 'REDIS_URL'} set. Install it (apt-get install -y redis-server) or point the variable at a server to run these tests.`;
}

export async function standaloneTarget(options: { appendOnly?: boolean; ownServer?: boolean } = {}): Promise<StandaloneTarget> {
  if (process.env.REDIS_URL && !options.ownServer) return { url: process.env.REDIS_URL, stop: async () => {} };
  const server = await startRedis({ appendOnly: options.appendOnly ?? false });
  return { url: server.url, server, stop: () => server.stop() };
}

export async function clusterTarget(): Promise<ClusterTarget> {
  const env = process.env.REDIS_CLUSTER_NODES;
  if (env) {
    const nodes = env.split(',').map((entry) => {
      const [host, port] = entry.trim().split(':');
      return { host: host ?? '127.0.0.1', port: Number(port) };
    });
    return { nodes, stop: async () => {} };
  }
  const cluster = await startRedisCluster({ masters: 3 });
  return { nodes: [...cluster.nodes], stop: () => cluster.stop() };
}

/** A key prefix no other test uses, so tests on one server never see each other's data. */
export function uniquePrefix(label = 't'): string {
  return `sktest:${label}:${randomUUID().slice(0, 8)}:`;
}

export function openStore(location: Location, extra: Partial<RedisStoreOptions> = {}): RedisStore {
  const common = { keyPrefix: location.keyPrefix, ...(location.ttl !== undefined ? { ttl: location.ttl } : {}), ...extra };
  return location.nodes
    ? new RedisStore({ clusterNodes: location.nodes, ...common })
    : new RedisStore({ url: location.url!, ...common });
}

/** The built fixture module child processes import (it self-imports the package's dist). */
export const fixtureModule = fileURLToPath(new URL('./fixtures/open-store.mjs', import.meta.url));
export const builtDist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
export const distAvailable = existsSync(builtDist);
export const buildHint = 'run `pnpm --filter @sessionkit/redis build` first';
