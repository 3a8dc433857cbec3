import { isSessionError, SessionErrorCode } from '@sessionkit/core';
import { redisServerAvailable, startRedis, type RedisServer } from '@sessionkit/test-servers';
import { RedisStore } from '@sessionkit/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniquePrefix } from './setup.js';

// These tests stop and restart the server, so they always start their own
// (REDIS_URL cannot be used: we must not stop someone else's server).
const available = redisServerAvailable();
if (!available) {
  console.warn('!!! SKIPPED redis fault tests: no redis-server on PATH. Install it (apt-get install -y redis-server) to run them.');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!available)('RedisStore when the server goes away and comes back', () => {
  let server: RedisServer;
  beforeAll(async () => {
    // Append-only with fsync on every write, so what the server acknowledged survives the restart.
    server = await startRedis({ appendOnly: true });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('fails with BACKEND_UNAVAILABLE while down, recovers after, and loses or duplicates nothing that succeeded', async () => {
    const store = new RedisStore({ url: server.url, keyPrefix: uniquePrefix('fault'), commandTimeout: 400 });
    const succeeded: number[] = [];
    const failed: number[] = [];
    const errorCodes = new Set<string>();
    let slowest = 0;
    let n = 0;
    let stopped = false;
    let restarted = false;
    let successesAfterRestart = 0;
    let failuresWhileDown = 0;

    // Two writers append unique items; a third reads, so reads are exercised while down too.
    const writer = async () => {
      while (!restarted || successesAfterRestart < 20) {
        const value = n++;
        const started = Date.now();
        try {
          await store.addItems('s', [{ value }]);
          succeeded.push(value);
          if (restarted) successesAfterRestart++;
        } catch (error) {
          failed.push(value);
          errorCodes.add(isSessionError(error) ? error.code : String(error));
          if (stopped && !restarted) failuresWhileDown++;
        }
        slowest = Math.max(slowest, Date.now() - started);
        if (stopped && !restarted) await sleep(20);
      }
    };
    const reader = async () => {
      while (!restarted || successesAfterRestart < 20) {
        try {
          await store.getItems('s', { limit: 5 });
        } catch (error) {
          errorCodes.add(isSessionError(error) ? error.code : String(error));
        }
        await sleep(5);
      }
    };
    const chaos = async () => {
      while (succeeded.length < 50) await sleep(5);
      await server.stop({ keepData: true });
      stopped = true;
      await sleep(1_000);
      await server.restart();
      restarted = true;
    };
    await Promise.all([writer(), writer(), reader(), chaos()]);

    expect(failuresWhileDown).toBeGreaterThan(0);
    expect([...errorCodes]).toEqual([SessionErrorCode.BackendUnavailable]);
    // Bounded by commandTimeout (400 ms) plus scheduling; a hang would be seconds.
    expect(slowest).toBeLessThan(2_500);

    const values = (await store.getItems('s')).map((item: { value: number }) => item.value);
    const counts = new Map<number, number>();
    for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
    for (const v of succeeded) expect(counts.get(v), `item ${v} reported success`).toBe(1);
    for (const v of failed) expect(counts.get(v) ?? 0, `item ${v} reported failure`).toBeLessThanOrEqual(1);
    expect(values.length).toBe(counts.size);
    await store.close();
  });
});
