/**
 * Differential test: the same random operations on RedisStore and on core's
 * reference MemoryStore must give the same results and the same error codes.
 * readChanges is compared too: each store reads since the versions it handed
 * out itself (the newest, an older one, or none), and both must agree on
 * whether the read is whole, its items and length, and whether the epoch
 * changed since the previous read: Redis renews epochs exactly when the
 * reference does (pop, replace_suffix, replaceHistory, clear, a write to an
 * empty session), and appends keep them.
 */
import { isSessionError, MemoryStore, type SessionStore } from '@sessionkit/core';
import type { HistoryVersion } from '@sessionkit/core/adapter';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterAvailable, clusterTarget, openStore, skipLine, standaloneAvailable, standaloneTarget, uniquePrefix } from './setup.js';

if (!standaloneAvailable) console.warn(skipLine('redis model tests (standalone)'));
if (!clusterAvailable) console.warn(skipLine('redis model tests (cluster)'));

function rng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
}

const ids = ['a', '{b}', 'c*?', 'd\n:'];

// Same content, keys in a random order: suffix comparison must ignore key order.
function shuffledCopy(value: unknown, random: () => number): unknown {
  if (Array.isArray(value)) return value.map((v) => shuffledCopy(v, random));
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).sort(() => random() - 0.5);
    return Object.fromEntries(entries.map(([k, v]) => [k, shuffledCopy(v, random)]));
  }
  return value;
}

async function outcome(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    return { ok: await fn() };
  } catch (error) {
    return { error: isSessionError(error) ? error.code : String(error) };
  }
}

async function runModel(redis: SessionStore, seed: number, steps: number): Promise<void> {
  const memory = new MemoryStore();
  const random = rng(seed);
  // Every version each store handed out, per session id, oldest first (both lists grow in step).
  const versions = new Map<SessionStore, Map<string, HistoryVersion[]>>([
    [memory, new Map()],
    [redis, new Map()],
  ]);
  let renewals = 0;
  let wholeAfterRenewal = 0;
  let appendedReads = 0;
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  let counter = 0;
  const usedOps: string[] = [];
  const newItem = () => ({ z: counter, a: { y: counter++ % 3, b: [1, 'two'] }, role: pick(['user', 'assistant']) });
  for (let step = 0; step < steps; step++) {
    const id = pick(ids);
    const kind = random();
    let op: (s: SessionStore) => Promise<unknown>;
    if (kind < 0.3) {
      const items = Array.from({ length: Math.floor(random() * 4) }, newItem);
      op = (s) => s.addItems(id, items);
    } else if (kind < 0.36) {
      const limit = pick([undefined, 0, 1, 2, 5, 100]);
      op = (s) => s.getItems(id, limit === undefined ? undefined : { limit });
    } else if (kind < 0.42) {
      op = (s) => s.popItem(id);
    } else if (kind < 0.44) {
      op = (s) => s.clearSession(id);
    } else if (kind < 0.47) {
      const items = Array.from({ length: Math.floor(random() * 3) }, newItem);
      op = (s) => s.replaceHistory!(id, items);
    } else if (kind < 0.7) {
      // Since: the newest version of this id (most often), an older one, or none.
      const which = random();
      const back = Math.floor(random() * 4);
      op = async (s) => {
        const seen = versions.get(s)!;
        const list = seen.get(id) ?? [];
        const since = which < 0.1 || list.length === 0 ? undefined : which < 0.75 ? list.at(-1) : list[Math.max(0, list.length - 1 - back)];
        const changes = await s.readChanges!(id, since);
        const previous = list.at(-1);
        seen.set(id, [...list, changes.version]);
        return {
          whole: changes.whole,
          items: changes.items,
          length: changes.version.length,
          noEpoch: changes.version.epoch === '',
          renewed: previous === undefined ? undefined : previous.epoch !== changes.version.epoch,
        };
      };
    } else if (kind < 0.9) {
      const current = await memory.getItems(id);
      const n = Math.min(current.length, Math.floor(random() * 3));
      let expectedSuffix = current.slice(current.length - n).map((x) => shuffledCopy(x, random));
      if (random() < 0.15 && expectedSuffix.length > 0) expectedSuffix = [{ not: 'there' }, ...expectedSuffix.slice(1)];
      const operationId = random() < 0.2 && usedOps.length ? pick(usedOps) : `op${step}`;
      usedOps.push(operationId);
      const replacement = Array.from({ length: Math.floor(random() * 3) }, newItem);
      const transaction =
        n === 0 && random() < 0.5
          ? ({ type: 'append_items', items: replacement } as const)
          : ({ type: 'replace_suffix', expectedSuffix, replacement } as const);
      op = (s) => s.applyHistoryTransaction!(id, { operationId, transaction });
    } else {
      op = async (s) => {
        const info = await s.getSessionInfo!(id);
        return info?.itemCount;
      };
    }
    const expected = await outcome(() => op(memory));
    const actual = await outcome(() => op(redis));
    expect(actual, `step ${step}`).toEqual(expected);
    const read = expected as { ok?: { renewed?: boolean; whole?: boolean; items?: unknown[] } };
    if (read.ok?.renewed) {
      renewals++;
      if (read.ok.whole) wholeAfterRenewal++;
    }
    if (read.ok?.whole === false && read.ok.items!.length > 0) appendedReads++;
  }
  // The walk reached the cases that matter: epochs renewed, and reads since a version that were not whole.
  expect(renewals, 'reads that saw a renewed epoch').toBeGreaterThan(5);
  expect(wholeAfterRenewal, 'whole reads after a renewal').toBeGreaterThan(0);
  expect(appendedReads, 'reads of appended items only').toBeGreaterThan(5);
  for (const id of ids) expect(await redis.getItems(id), id).toEqual(await memory.getItems(id));
  const list = async (s: SessionStore) => {
    const out: [string, number][] = [];
    for await (const info of s.listSessions!({ pageSize: 2 })) out.push([info.sessionId, info.itemCount]);
    return out.sort();
  };
  expect(await list(redis)).toEqual(await list(memory));
  await memory.close();
}

describe.skipIf(!standaloneAvailable)('RedisStore behaves like MemoryStore (standalone)', () => {
  let target: Awaited<ReturnType<typeof standaloneTarget>>;
  beforeAll(async () => {
    target = await standaloneTarget();
  });
  afterAll(async () => {
    await target?.stop();
  });
  for (const seed of [1, 2, 3]) {
    it(`random operations, seed ${seed}`, async () => {
      const store = openStore({ url: target.url, keyPrefix: uniquePrefix('model') });
      await runModel(store, seed, 400);
      await store.close();
    });
  }
});

describe.skipIf(!clusterAvailable)('RedisStore behaves like MemoryStore (cluster)', () => {
  let target: Awaited<ReturnType<typeof clusterTarget>>;
  beforeAll(async () => {
    target = await clusterTarget();
  });
  afterAll(async () => {
    await target?.stop();
  });
  it('random operations, seed 4', async () => {
    const store = openStore({ nodes: target.nodes, keyPrefix: uniquePrefix('model') });
    await runModel(store, 4, 400);
    await store.close();
  });
});
