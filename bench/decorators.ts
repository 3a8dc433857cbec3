/**
 * Overhead of withEncryption, withMonitoring and withCache (hit and miss)
 * over a plain SqliteStore, all in the same run on the same machine, each on
 * its own database file. Writes results/decorators.md.
 *
 *   pnpm exec tsx bench/decorators.ts
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withCache, withEncryption, withMonitoring, type SessionStore } from '@sessionkit/core';
import { SqliteStore } from '@sessionkit/sqlite';
import { median } from './median.js';
import { keys } from './readme-stack.js';

const DURATION_MS = Number(process.env.BENCH_MS ?? 600);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

// A message shaped like the Agents SDK's items (~250 bytes encoded).
const item = (n: number) => ({
  type: 'message',
  role: n % 2 ? 'assistant' : 'user',
  content: [{ type: 'output_text', text: `message ${n} `.padEnd(200, 'lorem ipsum ') }],
});

/** Runs `op` in one loop for DURATION_MS (better-sqlite3 is synchronous: concurrency adds nothing); ops per second. */
async function throughput(op: (i: number) => Promise<unknown>, offset: number): Promise<number> {
  for (let i = 0; i < 50; i++) await op(offset + i); // warm-up
  let done = 0;
  const end = Date.now() + DURATION_MS;
  const started = performance.now();
  while (Date.now() < end) {
    for (let k = 0; k < 20; k++) await op(offset + 50 + done++);
  }
  return done / ((performance.now() - started) / 1000);
}

const dir = mkdtempSync(join(tmpdir(), 'sessionkit-bench-decorators-'));
let files = 0;
// synchronous 'normal': fsync on every commit would measure the disk, not the decorators.
const sqlite = () => new SqliteStore({ path: join(dir, `${++files}.db`), synchronous: 'normal' });

const columns = ['encryption', 'monitoring', 'cache hit', 'cache miss'] as const;
type Column = (typeof columns)[number];
/** Per row: ops/s of every round, for the plain store and each column; round r of each was measured back to back. */
type Row = { name: string; plain: number[]; results: Record<Column, number[]> };
const rows: Row[] = [];

async function seeded(store: SessionStore, sessionId: string, count: number): Promise<void> {
  for (let i = 0; i < count; i += 500) {
    await store.addItems(sessionId, Array.from({ length: Math.min(500, count - i) }, (_, k) => item(i + k)));
  }
}

/** Measures every cell of one row ROUNDS times, interleaved (round 1 of each, then round 2, …) so drift hits all alike. */
async function measureRow(name: string, ops: Record<'plain' | Column, (i: number) => Promise<unknown>>): Promise<void> {
  const row: Row = { name, plain: [], results: { encryption: [], monitoring: [], 'cache hit': [], 'cache miss': [] } };
  const offsets: Record<string, number> = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (const [cell, op] of Object.entries(ops)) {
      const offset = offsets[cell] ?? 0;
      // Each cell continues its own counter, so append sessions keep growing in 1000-append steps.
      let last = offset;
      const result = await throughput((i) => {
        last = Math.max(last, i + 1);
        return op(i);
      }, offset);
      offsets[cell] = last;
      if (cell === 'plain') row.plain.push(result);
      else row.results[cell as Column].push(result);
    }
  }
  rows.push(row);
}

try {
  const plain = sqlite();
  const encrypted = withEncryption({ keys, primary: 'k1' })(sqlite());
  const monitored = withMonitoring({ onOperation: () => {}, slowThresholdMs: 60_000 })(sqlite());
  const hit = withCache({ maxSessions: 1000 })(sqlite());
  const miss = withCache({ maxSessions: 1000 })(sqlite());
  const all = [plain, encrypted, monitored, hit, miss];

  // Appends: a fresh session per 1000 appends so histories stay realistic. Cache hit: the session's
  // history is cached (read once when the session starts), so each append also updates the entry.
  // Cache miss: the cache never holds the session (dropped before each append), so appends only write through.
  for (const batch of [1, 10]) {
    const session = (i: number) => `append${batch}-${Math.floor(i / 1000)}`;
    const batchOf = (i: number) => Array.from({ length: batch }, (_, k) => item(i * batch + k));
    const append = (store: SessionStore) => (i: number) => store.addItems(session(i), batchOf(i));
    await measureRow(`append, batch of ${batch} (ops/s)`, {
      plain: append(plain),
      encryption: append(encrypted),
      monitoring: append(monitored),
      'cache hit': async (i) => {
        if (i % 1000 === 0) await hit.getItems(session(i));
        return hit.addItems(session(i), batchOf(i));
      },
      'cache miss': async (i) => {
        miss.invalidate(session(i));
        return miss.addItems(session(i), batchOf(i));
      },
    });
  }

  for (const [label, history, limit] of [
    ['tail read, limit 20, history 1,000', 1000, 20],
    ['full read, history 100', 100, undefined],
  ] as const) {
    const id = `read-${history}`;
    for (const store of all) await seeded(store, id, history);
    const options = limit === undefined ? {} : { limit };
    const read = (store: SessionStore) => () => store.getItems(id, options);
    await measureRow(`${label} (ops/s)`, {
      plain: read(plain),
      encryption: read(encrypted),
      monitoring: read(monitored),
      'cache hit': read(hit),
      'cache miss': async () => {
        miss.invalidate(id);
        return miss.getItems(id, options);
      },
    });
  }
  console.log(`cache stats: hit ${JSON.stringify(hit.stats())}, miss ${JSON.stringify(miss.stats())}`);
  for (const store of all) await store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
/** Median ops/s, median ratio to plain (round by round), and the range of those ratios over the rounds. */
const cell = (values: number[], plain: number[]) => {
  const ratios = values.map((v, i) => v / plain[i]!);
  return `${fmt(median(values))} (${median(ratios).toFixed(2)}×; ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`;
};
const table = [
  `| operation | plain SqliteStore | ${columns.join(' | ')} |`,
  `| --- | ---: | ${columns.map(() => '---:').join(' | ')} |`,
  ...rows.map(
    (r) =>
      `| ${r.name} | ${fmt(median(r.plain))} (${fmt(Math.min(...r.plain))}–${fmt(Math.max(...r.plain))}) | ${columns.map((c) => cell(r.results[c], r.plain)).join(' | ')} |`,
  ),
].join('\n');
const info = `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, SqliteStore on a temp file (WAL, synchronous=normal), one caller, ${ROUNDS} rounds of ${DURATION_MS} ms per cell, interleaved.`;
const markdown = `# Decorator benchmark

${info}

Each column is one decorator alone over its own SqliteStore. Every cell was
measured ${ROUNDS} times, interleaved: round 1 of every column of a row, then
round 2, and so on, so drift (WAL checkpoints, other load) hits all columns
alike. A cell shows the median throughput, then in brackets the median of its
round-by-round ratio to the plain store (1.00× = no overhead) and the range of
that ratio over the rounds: a wide range means noise, not overhead. The plain
column shows its median and range in ops/s.

- **encryption**: XChaCha20-Poly1305 per item (libsodium, WebAssembly) under a
  random nonce, positions bound (an append is the store's conditional append
  on the length this process last saw; no read first). Reads take the
  plaintext of envelopes this process already sealed or opened from memory
  and decrypt the rest.
- **monitoring**: per-operation figures and an \`onOperation\` hook, no
  OpenTelemetry exporter.
- **cache hit**: the session's history is in the LRU. Reads decode cached
  items and never reach SQLite; appends write through and also update the
  cached entry. **cache miss**: the cache never holds the session (its entry is
  dropped before each operation): a read goes to SQLite and refills the cache;
  an append writes through with nothing to update.

${table}
`;
console.log(`\n${table}\n`);
const results = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(results, { recursive: true });
writeFileSync(`${results}decorators.md`, markdown);
