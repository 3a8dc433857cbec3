import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RedisStore } from '@sessionkit/redis';
import { sessionKeys } from '../src/keys.js';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHint, clusterAvailable, clusterTarget, distAvailable, skipLine, uniquePrefix, type ClusterTarget } from './setup.js';

if (!clusterAvailable) console.warn(skipLine('redis cluster tests'));

const worker = fileURLToPath(new URL('./fixtures/tx-worker.mjs', import.meta.url));

function run(args: unknown): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [worker, JSON.stringify(args)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stderr }));
  });
}

describe.skipIf(!clusterAvailable)('RedisStore on a 3-master cluster', () => {
  let target: ClusterTarget;
  let admin: Cluster;
  let slotOwners: { start: number; end: number; node: string }[] = [];
  const ownerOf = (slot: number) => slotOwners.find((r) => slot >= r.start && slot <= r.end)?.node;
  beforeAll(async () => {
    target = await clusterTarget();
    admin = new Cluster(target.nodes);
    const ranges = (await admin.cluster('SLOTS')) as unknown as [number, number, [string, number]][];
    slotOwners = ranges.map(([start, end, [host, port]]) => ({ start, end, node: `${host}:${port}` }));
  });
  afterAll(async () => {
    admin?.disconnect();
    await target?.stop();
  });

  it('puts every key of a session in one slot, whatever the id contains, and spreads sessions over masters', async () => {
    const store = new RedisStore({ clusterNodes: target.nodes, keyPrefix: uniquePrefix('slots') });
    const hostile = ['{', '}', '{a}', 'a}{b', '{}', '*', '?', '[x]', ':', 'new\nline', 'ünï😀', ...Array.from({ length: 30 }, (_, i) => `user-${i}`)];
    for (const id of hostile) {
      await store.addItems(id, [{ id }]);
      await store.applyHistoryTransaction(id, { operationId: 'o', transaction: { type: 'append_items', items: [1] } });
    }
    const slotsUsed = new Set<number>();
    for (const id of hostile) {
      const keys = Object.values(sessionKeys(store.keyPrefix, id));
      const slots = await Promise.all(keys.map((key) => admin.cluster('KEYSLOT', key)));
      expect(new Set(slots).size, id).toBe(1);
      slotsUsed.add(Number(slots[0]));
    }
    // Hash tags come from the encoded id: distinct ids spread over slots, so over masters.
    expect(slotsUsed.size).toBeGreaterThan(hostile.length / 2);
    const found = new Set<string>();
    for (const node of admin.nodes('master')) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', `${store.keyPrefix}*`, 'COUNT', 1000);
        cursor = next;
        for (const key of keys) found.add(key);
      } while (cursor !== '0');
    }
    const expected = hostile.flatMap((id) => Object.values(sessionKeys(store.keyPrefix, id)));
    expect([...found].sort()).toEqual(expected.sort());
    const listed = [];
    for await (const info of store.listSessions({ pageSize: 7 })) listed.push(info.sessionId);
    expect(listed.sort()).toEqual([...hostile].sort());
    expect(await store.prune({ olderThan: new Date(Date.now() + 60_000) })).toBe(hostile.length);
    await store.close();
  });

  it('readChanges on every master: the epoch sits in the slot of the session\'s other keys, whatever the id; sliding reads too', async () => {
    const keyPrefix = uniquePrefix('changes');
    const store = new RedisStore({ clusterNodes: target.nodes, keyPrefix, ttl: 60_000 });
    const sliding = new RedisStore({ clusterNodes: target.nodes, keyPrefix, ttl: 60_000, slidingTtl: true });
    const hostile = ['{', '}', '{a}', 'a}{b', '{}', '*', '?', ':', 'new\nline', 'ünï😀', ...Array.from({ length: 20 }, (_, i) => `user-${i}`)];
    const owners = new Set<string | undefined>();
    for (const id of hostile) {
      const keys = sessionKeys(keyPrefix, id);
      await store.addItems(id, [{ id }]);
      const { version } = await store.readChanges(id);
      // The script reads both keys on the node owning the session's slot (CROSSSLOT otherwise).
      const [itemsSlot, metaSlot] = await Promise.all([admin.cluster('KEYSLOT', keys.items), admin.cluster('KEYSLOT', keys.meta)]);
      expect(metaSlot, id).toBe(itemsSlot);
      owners.add(ownerOf(Number(metaSlot)));
      expect(await admin.hget(keys.meta, 'e'), id).toBe(version.epoch);
      await store.addItems(id, [{ n: 2 }]);
      const appended = await sliding.readChanges(id, version);
      expect(appended, id).toEqual({ version: { epoch: version.epoch, length: 2 }, whole: false, items: [{ n: 2 }] });
      await store.popItem(id);
      await store.addItems(id, [{ n: 3 }]);
      const renewed = await store.readChanges(id, appended.version);
      expect(renewed.whole, `${id}: a pop renews`).toBe(true);
      expect(renewed.items, id).toEqual([{ id }, { n: 3 }]);
      expect(await admin.hget(keys.meta, 'e'), id).toBe(renewed.version.epoch);
    }
    expect(owners.size).toBe(3);
    await store.close();
    await sliding.close();
  });

  it('recognises a Cluster that is not an instance of this copy of ioredis (isCluster), and lists every master', async () => {
    const keyPrefix = uniquePrefix('foreign');
    const client = new Cluster(target.nodes);
    // Another copy of ioredis in node_modules: same shape, `instanceof Cluster` false. A Proxy reproduces that exactly.
    const foreign = new Proxy(client, { getPrototypeOf: () => Object.prototype });
    expect(foreign instanceof Cluster).toBe(false);
    const store = new RedisStore({ client: foreign as unknown as Cluster, keyPrefix });
    const ids = Array.from({ length: 30 }, (_, i) => `foreign-${i}`);
    for (const id of ids) await store.addItems(id, [{ id }]);
    // Spread over all three masters; a store that took it for one server would SCAN only one of them.
    const owners = new Set(await Promise.all(ids.map((id) => admin.cluster('KEYSLOT', sessionKeys(keyPrefix, id).meta))).then((slots) => slots.map((slot) => ownerOf(Number(slot)))));
    expect(owners.size).toBe(3);
    const listed = [];
    for await (const info of store.listSessions({ pageSize: 7 })) listed.push(info.sessionId);
    expect(listed.sort()).toEqual([...ids].sort());
    expect(await store.prune({ olderThan: new Date(Date.now() + 60_000) })).toBe(ids.length);
    await store.close();
    client.disconnect();
  });

  it.skipIf(!distAvailable)('keeps batches whole and transactions idempotent with writers in several processes', async () => {
    const keyPrefix = uniquePrefix('procs');
    const location = { nodes: target.nodes, keyPrefix };
    const workers = 4;
    const batches = 15;
    const results = await Promise.all(
      Array.from({ length: workers }, (_, w) => run({ location, sessionId: 'shared', worker: w, batches })),
    );
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    const store = new RedisStore({ clusterNodes: target.nodes, keyPrefix });
    for (const sessionId of ['shared', 'shared:plain']) {
      const items = (await store.getItems(sessionId)) as { worker: number; batch: number; i: number }[];
      // Every transaction applied once despite being sent twice; every batch contiguous and in order.
      expect(items).toHaveLength(workers * batches * 3);
      for (let k = 0; k < items.length; k += 3) {
        const [a, b, c] = [items[k]!, items[k + 1]!, items[k + 2]!];
        expect([a.i, b.i, c.i]).toEqual([0, 1, 2]);
        expect(new Set([a.worker, b.worker, c.worker]).size).toBe(1);
        expect(new Set([a.batch, b.batch, c.batch]).size).toBe(1);
      }
      for (let w = 0; w < workers; w++) {
        const order = items.filter((x) => x.worker === w && x.i === 0).map((x) => x.batch);
        expect(order).toEqual(Array.from({ length: batches }, (_, b) => b));
      }
    }
    await store.close();
  });
  if (!distAvailable) console.warn(`!!! redis cluster multi-process test skipped: ${buildHint}`);
});
