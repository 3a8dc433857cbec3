/**
 * `sessionkit copy` from SQLite to Redis: 10 000 sessions of 6 items (about
 * 200 bytes each), run through the built CLI as a user would, then
 * `--verify`. Reports sessions/s and items/s at two concurrencies. Writes
 * results/cli-copy.md.
 *
 *   pnpm --filter @sessionkit/cli build && pnpm exec tsx bench/cli-copy.ts
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { redisServerAvailable, startRedis } from '@sessionkit/test-servers';
import { SqliteStore } from '@sessionkit/sqlite';

const SESSIONS = Number(process.env.BENCH_SESSIONS ?? 10_000);
const ITEMS = 6;
const bin = fileURLToPath(new URL('../packages/cli/dist/bin.js', import.meta.url));

if (!redisServerAvailable()) {
  console.log('!!! cli-copy bench skipped: no redis-server on PATH (apt-get install -y redis-server)');
  process.exit(0);
}
if (!existsSync(bin)) {
  console.log('!!! cli-copy bench skipped: build the CLI first (pnpm --filter @sessionkit/cli build)');
  process.exit(0);
}

const item = (n: number) => ({
  type: 'message',
  role: n % 2 ? 'assistant' : 'user',
  content: [{ type: 'output_text', text: `message ${n} `.padEnd(200, 'lorem ipsum ') }],
});

const dir = mkdtempSync(join(tmpdir(), 'sk-bench-cli-'));
const source = join(dir, 'source.db');
const seed = new SqliteStore({ path: source, synchronous: 'normal' });
for (let s = 0; s < SESSIONS; s++) await seed.addItems(`user-${s}`, Array.from({ length: ITEMS }, (_, i) => item(i)));
await seed.close();

const redis = await startRedis();
const rows: string[] = [];
try {
  for (const concurrency of [8, 32]) {
    const prefix = `bench${concurrency}:`;
    const args = [bin, 'copy', `sqlite:${source}`, `${redis.url}?keyPrefix=${prefix}`, '--concurrency', String(concurrency), '--checkpoint', join(dir, `c${concurrency}.checkpoint`), '--verify', '--json'];
    const started = process.hrtime.bigint();
    const run = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const wall = Number(process.hrtime.bigint() - started) / 1e9;
    if (run.status !== 0) throw new Error(`copy failed (${run.status}): ${run.stderr}`);
    const report = JSON.parse(run.stdout);
    if (report.verify.differences.length !== 0) throw new Error('verify found differences');
    rows.push(
      `| ${concurrency} | ${report.written} | ${report.items} | ${report.seconds.toFixed(2)} | ${report.sessionsPerSecond} | ${report.itemsPerSecond} | ${wall.toFixed(2)} | ${report.verify.differences.length} |`,
    );
    console.log(rows.at(-1));
  }
} finally {
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
}

const table = [
  '# sessionkit copy: SQLite → Redis',
  '',
  `${SESSIONS} sessions × ${ITEMS} items (~200-byte messages), built CLI, one local redis-server, ${cpus().length} cores shared with other work, Node ${process.version}.`,
  'Copy time covers listing the source and copying (not process startup or the verify pass); wall time includes both, and --verify re-reads every session on both sides.',
  '',
  '| concurrency | sessions | items | copy s | sessions/s | items/s | wall s (with --verify) | differences |',
  '|---|---|---|---|---|---|---|---|',
  ...rows,
  '',
];
mkdirSync(fileURLToPath(new URL('./results/', import.meta.url)), { recursive: true });
writeFileSync(fileURLToPath(new URL('./results/cli-copy.md', import.meta.url)), table.join('\n'));
console.log(table.join('\n'));
