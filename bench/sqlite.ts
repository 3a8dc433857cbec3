/**
 * SqliteStore beside raw better-sqlite3 prepared statements doing the same
 * work (the same tables and indexes, the same pragmas, on the same file
 * system, in the same run; the baseline is rawSqlite in raw-drivers.ts, the
 * one per-turn.ts uses): one IMMEDIATE transaction per append that finds
 * the session row, inserts the items and updates the row; and a tail read of
 * the newest 20 rows through the (sid, seq) index, with the store's expiry
 * bound on the session row, and JSON.parse. Tail-read throughput and latency
 * at 10², 10⁴ and 10⁵ items of history.
 * Writes results/sqlite.md.
 *
 *   pnpm --filter @sessionkit/sqlite build && node_modules/.bin/tsx bench/sqlite.ts
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteStore } from '@sessionkit/sqlite';
import { rawSqlite } from './raw-drivers.js';

const DURATION_MS = Number(process.env.BENCH_MS ?? 600);
const ROUNDS = 3;
const LATENCY_SAMPLES = Number(process.env.BENCH_SAMPLES ?? 2000);
const dir = mkdtempSync(join(tmpdir(), 'sessionkit-bench-sqlite-'));

// A message shaped like the Agents SDK's items.
const item = (n: number) => ({
  type: 'message',
  role: n % 2 ? 'assistant' : 'user',
  content: [{ type: 'output_text', text: `message ${n} `.padEnd(200, 'lorem ipsum ') }],
});

/** Runs `op` back to back for DURATION_MS (better-sqlite3 is synchronous: concurrency adds nothing); ops/s. */
async function throughput(op: (i: number) => unknown): Promise<number> {
  for (let i = 0; i < 50; i++) await op(-1 - i);
  let done = 0;
  const started = performance.now();
  const end = started + DURATION_MS;
  while (performance.now() < end) {
    await op(done);
    done++;
  }
  return done / ((performance.now() - started) / 1000);
}

async function latency(op: () => unknown): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < 100; i++) await op();
  const samples: number[] = [];
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const t = performance.now();
    await op();
    samples.push(performance.now() - t);
  }
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!;
  return { p50: at(0.5), p99: at(0.99) };
}

/**
 * Store and raw measured in alternating rounds, median of each: the machine
 * is shared, and a background burst (or a WAL checkpoint) then hits both
 * sides alike instead of deciding the ratio.
 */
async function compare(store: (i: number) => unknown, raw: (i: number) => unknown): Promise<{ store: number; raw: number }> {
  const s: number[] = [];
  const r: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    s.push(await throughput(store));
    r.push(await throughput(raw));
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return { store: median(s), raw: median(r) };
}

const batchOf = (size: number, i: number) => Array.from({ length: size }, (_, k) => item(i * size + k));
const rows: { name: string; store: number; raw: number }[] = [];
const latencies: { history: number; store: { p50: number; p99: number }; raw: { p50: number; p99: number } }[] = [];

try {
  for (const synchronous of ['full', 'normal'] as const) {
    const store = new SqliteStore({ path: join(dir, `store-${synchronous}.db`), synchronous });
    const raw = rawSqlite(join(dir, `raw-${synchronous}.db`), synchronous === 'full' ? 'FULL' : 'NORMAL');
    for (const batch of [1, 10]) {
      const result = await compare(
        (i) => store.addItems(`append${batch}`, batchOf(batch, i)),
        (i) => raw.append(`append${batch}`, batchOf(batch, i)),
      );
      rows.push({ name: `append, batch of ${batch}, synchronous=${synchronous} (ops/s)`, ...result });
    }
    await store.close();
    raw.close();
  }

  const store = new SqliteStore({ path: join(dir, 'store-tail.db'), synchronous: 'normal' });
  const raw = rawSqlite(join(dir, 'raw-tail.db'), 'NORMAL');
  for (const history of [100, 10_000, 100_000]) {
    const id = `tail-${history}`;
    for (let i = 0; i < history; i += 1000) {
      const chunk = Array.from({ length: Math.min(1000, history - i) }, (_, k) => item(i + k));
      await store.addItems(id, chunk);
      raw.append(id, chunk);
    }
    // Other sessions around it, so the index holds more than the one being read.
    await store.addItems(`neighbour-${history}`, batchOf(10, 0));
    raw.append(`neighbour-${history}`, batchOf(10, 0));
    const result = await compare(
      () => store.getItems(id, { limit: 20 }),
      () => raw.tail(id, 20),
    );
    rows.push({ name: `tail read, limit 20, history ${history.toLocaleString('en-US')} (ops/s)`, ...result });
    latencies.push({
      history,
      store: await latency(() => store.getItems(id, { limit: 20 })),
      raw: await latency(() => raw.tail(id, 20)),
    });
  }
  await store.close();
  raw.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const info = `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, better-sqlite3 on a WAL file in ${tmpdir()}, one caller (the driver is synchronous), throughput as the median of ${ROUNDS} alternating ${DURATION_MS} ms rounds per side, ${LATENCY_SAMPLES} samples per latency row. Items are ~260-byte SDK-shaped messages.`;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => `${n < 0.1 ? n.toFixed(3) : n.toFixed(2)} ms`;
const table = [
  '| operation | SqliteStore | raw better-sqlite3 | store / raw |',
  '| --- | ---: | ---: | ---: |',
  ...rows.map((r) => `| ${r.name} | ${fmt(r.store)} | ${fmt(r.raw)} | ${(r.store / r.raw).toFixed(2)} |`),
].join('\n');
const latencyTable = [
  '| history (items) | SqliteStore p50 | SqliteStore p99 | raw p50 | raw p99 |',
  '| ---: | ---: | ---: | ---: | ---: |',
  ...latencies.map((l) => `| ${l.history.toLocaleString('en-US')} | ${ms(l.store.p50)} | ${ms(l.store.p99)} | ${ms(l.raw.p50)} | ${ms(l.raw.p99)} |`),
].join('\n');
const markdown = `# SQLite benchmark

${info}

Raw baseline: the store's own tables and indexes driven by hand-written
prepared statements — per append one \`BEGIN IMMEDIATE\` transaction that
finds (or creates) the session row, inserts the items with
\`JSON.stringify\` and updates the row; per tail read the store's own query,
\`SELECT item … WHERE sid = (SELECT sid … WHERE session_id = ? AND updated_at > ?)
ORDER BY seq DESC LIMIT 20\` (the expiry bound included), with \`JSON.parse\`.
SqliteStore adds item validation and the codec, argument checks, TTL and
busy-retry bookkeeping, and the async API.

## Throughput

${table}

\`synchronous=full\` (the default) syncs every commit to disk, so appends
there measure the disk's fsync more than either code path.

## Tail-read latency, \`getItems(id, { limit: 20 })\`

${latencyTable}

The tail read walks the \`(sid, seq)\` index backwards and stops after 20 rows:
its cost does not grow with the history (see also the query-plan test in
packages/sqlite/test/query-plan.test.ts).
`;
console.log(`\n${table}\n\n${latencyTable}\n`);
const results = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(results, { recursive: true });
writeFileSync(`${results}sqlite.md`, markdown);
