import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { redisServerAvailable, startRedis } from '@sessionkit/test-servers';
import { SqliteStore } from '@sessionkit/sqlite';
import { RedisStore } from '@sessionkit/redis';
import { binBuilt, binPath, cliJson, tempDir } from './helpers.js';

const SESSIONS = 10_000;
const ready = redisServerAvailable() && binBuilt;
if (!ready) console.warn('!!! SKIPPED cli kill-and-resume: needs redis-server on PATH and a built CLI (pnpm --filter @sessionkit/cli build)');

/**
 * Runs the built CLI and sends `signal` once `killWhen` answers true (polled every 10 ms), or lets it
 * finish. Killing on observed progress, not after a fixed delay, lands mid-copy on a fast machine too.
 */
function runCopy(args: string[], killWhen?: () => Promise<boolean>, signal: NodeJS.Signals = 'SIGKILL'): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [binPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let exited = false;
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', () => {});
    const poll = async (): Promise<void> => {
      while (killWhen && !exited) {
        if (await killWhen()) {
          child.kill(signal);
          return;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    void poll().catch(reject);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      exited = true;
      resolve({ code, signal, stdout });
    });
  });
}

describe.skipIf(!ready)('copy of 10,000 sessions killed with SIGKILL three times, then resumed', () => {
  const tmp = tempDir();
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let probe: Redis;
  /** True once the target holds `keys` more keys than when it was called (the copy has made progress). */
  const grownBy = async (keys: number): Promise<() => Promise<boolean>> => {
    const start = await probe.dbsize();
    return async () => (await probe.dbsize()) >= start + keys;
  };

  beforeAll(async () => {
    redis = await startRedis();
    probe = new Redis(redis.url);
    const store = new SqliteStore({ path: tmp.path('src.db'), synchronous: 'normal' });
    for (let i = 0; i < SESSIONS; i++) await store.addItems(`s-${i}`, [{ role: 'user', content: `q${i}` }, { role: 'assistant', content: `a${i}` }]);
    await store.close();
  }, 120_000);
  afterAll(async () => {
    probe?.disconnect();
    await redis?.stop();
    tmp.remove();
  });

  it('neither duplicates nor skips', async () => {
    const from = `sqlite:${tmp.path('src.db')}`;
    const to = `${redis.url}?keyPrefix=kill:`;
    const args = ['copy', from, to, '--concurrency', '16', '--checkpoint', tmp.path('copy.checkpoint'), '--json'];
    const target = new RedisStore({ url: redis.url, keyPrefix: 'kill:' });
    let killed = 0;
    let previous = -1;
    for (let round = 0; round < 3; round++) {
      // Each round is killed after it has written a random number of keys, so each kill lands mid-copy.
      const result = await runCopy(args, await grownBy(500 + Math.floor(Math.random() * 1500)));
      if (result.signal === 'SIGKILL') killed++;
      let count = 0;
      for await (const _ of target.listSessions()) count++;
      expect(count).toBeGreaterThanOrEqual(previous);
      previous = count;
    }
    expect(killed).toBe(3);
    const final = await runCopy(args);
    expect(final.code).toBe(0);
    const report = JSON.parse(final.stdout);
    expect(report.failures).toEqual([]);
    expect(report.skippedByCheckpoint + report.written + report.unchanged).toBe(SESSIONS);

    // Every session exactly once with exactly its two items.
    let sessions = 0;
    for await (const info of target.listSessions()) {
      sessions++;
      expect(info.itemCount).toBe(2);
    }
    expect(sessions).toBe(SESSIONS);
    for (const i of [0, 1, 4999, 9998, 9999]) {
      expect(await target.getItems(`s-${i}`)).toEqual([{ role: 'user', content: `q${i}` }, { role: 'assistant', content: `a${i}` }]);
    }
    await target.close();
    const verify = await cliJson(['copy', from, to, '--verify', '--checkpoint', tmp.path('verify.checkpoint'), '--concurrency', '16']);
    expect(verify.verify.differences).toEqual([]);
    expect(verify.written).toBe(0);
    // The source is untouched.
    const db = new Database(tmp.path('src.db'), { readonly: true });
    expect((db.prepare('SELECT COUNT(*) AS n FROM "sessionkit_items"').get() as { n: number }).n).toBe(2 * SESSIONS);
    db.close();
  }, 180_000);

  it('Ctrl-C (SIGINT) finishes sessions in flight, records them, exits 130, and the copy resumes', async () => {
    const from = `sqlite:${tmp.path('src.db')}`;
    const to = `${redis.url}?keyPrefix=int:`;
    const checkpoint = tmp.path('int.checkpoint');
    const args = ['copy', from, to, '--concurrency', '8', '--checkpoint', checkpoint, '--json'];
    const interrupted = await runCopy(args, await grownBy(1000), 'SIGINT');
    expect(interrupted.code).toBe(130);
    const partial = JSON.parse(interrupted.stdout);
    expect(partial.interrupted).toBe(true);
    expect(partial.written).toBeGreaterThan(0);
    expect(partial.written).toBeLessThan(SESSIONS);
    // Everything written is in the checkpoint (a clean stop flushes it): the resume re-writes nothing.
    const resumed = await runCopy(args);
    expect(resumed.code).toBe(0);
    const rest = JSON.parse(resumed.stdout);
    expect(rest.skippedByCheckpoint).toBe(partial.written);
    expect(rest.unchanged).toBe(0);
    expect(rest.written).toBe(SESSIONS - partial.written);
  }, 120_000);
});
