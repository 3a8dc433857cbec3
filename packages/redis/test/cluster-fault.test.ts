/**
 * One master of a cluster goes down: sessions whose slots live on the other
 * masters keep working. These tests stop a node, so they always start their
 * own cluster (REDIS_CLUSTER_NODES cannot be used).
 */
import { isSessionError, SessionErrorCode } from '@sessionkit/core';
import { rawRedisCommand, redisServerAvailable, startRedisCluster, type RedisClusterServer } from '@sessionkit/test-servers';
import { RedisStore } from '@sessionkit/redis';
import { sessionKeys } from '../src/keys.js';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniquePrefix } from './setup.js';

const available = redisServerAvailable();
if (!available) {
  console.warn('!!! SKIPPED redis cluster fault tests: no redis-server on PATH. Install it (apt-get install -y redis-server) to run them.');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function codeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'ok',
    (error: unknown) => (isSessionError(error) ? error.code : `not a SessionError: ${String(error)}`),
  );
}

describe.skipIf(!available)('RedisStore on a cluster with one master down', () => {
  let cluster: RedisClusterServer;
  let admin: Cluster;
  let owner: (sessionId: string, keyPrefix: string) => Promise<number>;
  beforeAll(async () => {
    // Append-only, so the restarted master still has its sessions.
    cluster = await startRedisCluster({ masters: 3, appendOnly: true });
    admin = new Cluster([...cluster.nodes]);
    const ranges = (await admin.cluster('SLOTS')) as unknown as [number, number, [string, number]][];
    owner = async (sessionId, keyPrefix) => {
      const slot = Number(await admin.cluster('KEYSLOT', sessionKeys(keyPrefix, sessionId).items));
      return ranges.find(([start, end]) => slot >= start && slot <= end)![2][1];
    };
  });
  afterAll(async () => {
    admin?.disconnect();
    await cluster?.stop();
  });

  it('with cluster-require-full-coverage no, sessions on the healthy masters keep working; the lost one reports BACKEND_UNAVAILABLE', async () => {
    // Redis's default (yes) makes every master refuse every command once one slot is uncovered: see the next test.
    for (const server of cluster.servers) await rawRedisCommand(server.port, ['CONFIG', 'SET', 'cluster-require-full-coverage', 'no']);
    const keyPrefix = uniquePrefix('onedown');
    const store = new RedisStore({ clusterNodes: [...cluster.nodes], keyPrefix, commandTimeout: 1_000 });
    // One session per master.
    const byPort = new Map<number, string>();
    for (let i = 0; byPort.size < 3; i++) {
      const id = `s${i}`;
      const port = await owner(id, keyPrefix);
      if (!byPort.has(port)) byPort.set(port, id);
    }
    for (const id of byPort.values()) await store.addItems(id, [{ n: 0 }]);
    const victim = cluster.servers[2]!;
    const lost = byPort.get(victim.port)!;
    const healthy = [...byPort].filter(([port]) => port !== victim.port).map(([, id]) => id);
    await victim.stop({ keepData: true });

    // Past cluster-node-timeout (2 s), when the other masters mark the node failed.
    const until = Date.now() + 4_000;
    let n = 1;
    const lostCodes = new Set<string>();
    while (Date.now() < until) {
      for (const id of healthy) {
        expect(await codeOf(store.addItems(id, [{ n }])), `append to ${id} with a master down`).toBe('ok');
        expect(await codeOf(store.getItems(id, { limit: 1 })), `read ${id}`).toBe('ok');
        expect(await codeOf(store.applyHistoryTransaction(id, { operationId: `t${n}`, transaction: { type: 'append_items', items: [] } }))).toBe('ok');
      }
      const started = Date.now();
      lostCodes.add(await codeOf(store.addItems(lost, [{ n }])));
      expect(Date.now() - started).toBeLessThan(2_500);
      n++;
      await sleep(50);
    }
    expect([...lostCodes]).toEqual([SessionErrorCode.BackendUnavailable]);
    for (const id of healthy) expect(await store.getItems(id)).toHaveLength(n);
    // Listing cannot see the lost master's sessions: it must say so, never return a partial list.
    const listing = (async () => {
      const ids = [];
      for await (const info of store.listSessions()) ids.push(info.sessionId);
      return ids;
    })();
    expect(await codeOf(listing)).toBe(SessionErrorCode.BackendUnavailable);
    expect(await codeOf(store.prune({ olderThan: new Date(0) }))).toBe(SessionErrorCode.BackendUnavailable);

    // A store that connects while the master is down serves the healthy masters too.
    const late = new RedisStore({ clusterNodes: [...cluster.nodes], keyPrefix, commandTimeout: 1_000 });
    for (const id of healthy) expect(await codeOf(late.getItems(id, { limit: 1 })), `fresh store reads ${id}`).toBe('ok');
    expect(await codeOf(late.getItems(lost))).toBe(SessionErrorCode.BackendUnavailable);

    // Back up: the lost master's sessions work again, nothing was lost.
    await victim.restart();
    const deadline = Date.now() + 10_000;
    while ((await codeOf(store.getItems(lost))) !== 'ok' && Date.now() < deadline) await sleep(100);
    expect(await store.getItems(lost)).toEqual([{ n: 0 }]);
    await late.close();
    await store.close();
  });

  it('with the default cluster-require-full-coverage yes, the whole cluster refuses once the master is marked failed: BACKEND_UNAVAILABLE, not a hang', async () => {
    const ports = cluster.servers.map((server) => server.port);
    for (const port of ports) await rawRedisCommand(port, ['CONFIG', 'SET', 'cluster-require-full-coverage', 'yes']);
    const clusterOk = async () => {
      for (const port of ports) if (!/cluster_state:ok/.test(await rawRedisCommand(port, ['CLUSTER', 'INFO']))) return false;
      return true;
    };
    let deadline = Date.now() + 15_000;
    while (!(await clusterOk().catch(() => false)) && Date.now() < deadline) await sleep(100);
    const keyPrefix = uniquePrefix('fullcoverage');
    const store = new RedisStore({ clusterNodes: [...cluster.nodes], keyPrefix, commandTimeout: 1_000 });
    const victim = cluster.servers[1]!;
    let healthy = '';
    for (let i = 0; !healthy; i++) if ((await owner(`h${i}`, keyPrefix)) !== victim.port) healthy = `h${i}`;
    await store.addItems(healthy, [{ n: 0 }]);
    await victim.stop({ keepData: true });

    // Within cluster-node-timeout (2 s) plus gossip, the healthy masters answer CLUSTERDOWN.
    deadline = Date.now() + 10_000;
    let code = 'ok';
    while (code === 'ok' && Date.now() < deadline) {
      const started = Date.now();
      code = await codeOf(store.getItems(healthy));
      expect(Date.now() - started).toBeLessThan(2_500);
      if (code === 'ok') await sleep(100);
    }
    expect(code).toBe(SessionErrorCode.BackendUnavailable);

    await victim.restart();
    deadline = Date.now() + 15_000;
    while ((await codeOf(store.getItems(healthy))) !== 'ok' && Date.now() < deadline) await sleep(100);
    expect(await store.getItems(healthy)).toEqual([{ n: 0 }]);
    await store.close();
  });
});
