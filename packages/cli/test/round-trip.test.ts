import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import S3rver from 's3rver';
import { redisServerAvailable, startRedis, startS3rver, type S3rverConstructor } from '@sessionkit/test-servers';
import { SqliteStore } from '@sessionkit/sqlite';
import { cli, cliJson, sampleItems, tempDir } from './helpers.js';

const haveRedis = redisServerAvailable();
if (!haveRedis) console.warn('!!! SKIPPED cli round trip: no redis-server on PATH (apt-get install -y redis-server)');

describe.skipIf(!haveRedis)('round trip SQLite → Redis → S3 → SQLite', () => {
  const tmp = tempDir();
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let s3: Awaited<ReturnType<typeof startS3rver>>;
  let s3Url: string;
  // The AWS SDK reads credentials from the process environment.
  const env = () => ({});
  const expected = new Map<string, unknown[]>();

  beforeAll(async () => {
    redis = await startRedis();
    s3 = await startS3rver({ S3rver: S3rver as unknown as S3rverConstructor });
    // s3rver ignores conditional writes: the log layout is the honest mode for it.
    process.env.AWS_ACCESS_KEY_ID = s3.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = s3.credentials.secretAccessKey;
    s3Url = `s3://${s3.bucket}/rt/?endpoint=${encodeURIComponent(s3.endpoint)}&region=${s3.region}&conditionalWrites=false`;
    const store = new SqliteStore({ path: tmp.path('a.db') });
    for (let i = 0; i < 25; i++) {
      const items = sampleItems(i);
      expected.set(`user-${i}`, items);
      await store.addItems(`user-${i}`, items);
    }
    await store.close();
  });
  afterAll(async () => {
    await redis?.stop();
    await s3?.stop();
    tmp.remove();
  });

  it('copies through every backend and compares every item', async () => {
    const hops = [`sqlite:${tmp.path('a.db')}`, `${redis.url}?keyPrefix=rt:`, s3Url, `sqlite:${tmp.path('b.db')}`];
    for (let i = 0; i + 1 < hops.length; i++) {
      const report = await cliJson(['copy', hops[i]!, hops[i + 1]!, '--verify', '--checkpoint', tmp.path(`hop${i}.checkpoint`)], env());
      expect(report.written).toBe(25);
      expect(report.failures).toEqual([]);
      expect(report.verify.differences).toEqual([]);
    }
    const back = new SqliteStore({ path: tmp.path('b.db') });
    for (const [id, items] of expected) expect(await back.getItems(id)).toEqual(items);
    await back.close();

    // Every read command on every backend, --json parsed.
    for (const url of hops) {
      const ls = await cliJson(['ls', url, '--limit', '10'], env());
      expect(ls.total).toBe(25);
      expect(ls.sessions).toHaveLength(10);
      expect(ls.sessions[0]).toMatchObject({ itemCount: 6 });
      const shown = await cliJson(['show', url, 'user-3'], env());
      expect(shown).toEqual(expected.get('user-3'));
      const stats = await cliJson(['stats', url, 'user-3'], env());
      expect(stats.total).toMatchObject({ items: 6, turns: 2, toolCalls: 1, toolOutputs: 1 });
      const doctor = await cliJson(['doctor', url], env());
      expect(doctor).toMatchObject({ sessions: 25, items: 150, problems: [] });
    }
  });

  it('export then import is idempotent and exact', async () => {
    const file = tmp.path('all.jsonl');
    expect((await cli(['export', `sqlite:${tmp.path('a.db')}`, '--out', file])).code).toBe(0);
    const target = `${redis.url}?keyPrefix=imp:`;
    const first = await cliJson(['import', target, file]);
    expect(first).toMatchObject({ sessions: 25, written: 25, unchanged: 0 });
    // To stdout as well: the same bytes as the file, and --older-than filters by last write.
    const stdout = await cli(['export', `sqlite:${tmp.path('a.db')}`, 'user-1', 'user-2']);
    const lines = stdout.stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(lines.filter((l) => l.kind === 'session').map((l) => l.sessionId)).toEqual(['user-1', 'user-2']);
    expect(lines).toHaveLength(2 + 2 * 6);
    expect((await cliJson(['ls', `sqlite:${tmp.path('a.db')}`, '--older-than', '1h'])).total).toBe(0);
    expect((await cli(['ls', `sqlite:${tmp.path('a.db')}`, '--older-than', 'soon'])).code).toBe(2);
    const second = await cliJson(['import', target, file]);
    expect(second).toMatchObject({ sessions: 25, written: 0, unchanged: 25 });
    for (const [id, items] of expected) expect(await cliJson(['show', target, id])).toEqual(items);
  });

  it('show renders roles, tool calls, results and reasoning', async () => {
    const out = await cli(['show', `sqlite:${tmp.path('a.db')}`, 'user-1']);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/#0 user\n {4}question 1/);
    expect(out.stdout).toMatch(/reasoning summary\n {4}thinking about it/);
    expect(out.stdout).toMatch(/tool call lookup call_1\n {4}arguments: \{"q":"x"\}/);
    expect(out.stdout).toMatch(/tool result lookup call_1\n {4}result 1/);
    expect(out.stdout).not.toMatch(/\u001b\[/); // no colors off a TTY
  });

  it('prune, clear and errors with exit codes', async () => {
    const url = `sqlite:${tmp.path('b.db')}`;
    expect(await cliJson(['clear', url, 'user-0'])).toEqual({ cleared: 'user-0' });
    expect((await cliJson(['ls', url])).total).toBe(24);
    expect(await cliJson(['prune', url, '--older-than', '1h'])).toEqual({ deleted: 0 });
    const usage = await cli(['prune', url]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/^usage error: prune needs --older-than/);
    const down = await cli(['ls', 'redis://127.0.0.1:1']);
    expect(down.code).toBe(1);
    expect(down.stderr.trim().split('\n')).toHaveLength(1);
    expect(down.stderr).toMatch(/^error \[BACKEND_UNAVAILABLE\]: .* — check that the backend is running/);
    expect((await cli(['show', url, 'user-1', '--help'])).stdout).toMatch(/Examples:/);
  });
});
