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

const DURATION_MS = Number(process.env.BENCH_MS ?? 1500);

// A message shaped like the Agents SDK's items (~250 bytes encoded).
const item = (n: number) => ({
  type: 'message',
  role: n % 2 ? 'assistant' : 'user',
  content: [{ type: 'output_text', text: `message ${n} `.padEnd(200, 'lorem ipsum ') }],
});

/** Runs `op` in one loop for DURATION_MS (better-sqlite3 is synchronous: concurrency adds nothing); ops per second. */
async function throughput(op: (i: number) => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 50; i++) await op(-1 - i); // warm-up
  let done = 0;
  const end = Date.now() + DURATION_MS;
  const started = performance.now();
  while (Date.now() < end) {
    for (let k = 0; k < 20; k++) await op(done++);
  }
  return done / ((performance.now() - started) / 1000);
}

const dir = mkdtempSync(join(tmpdir(), 'sessionkit-bench-decorators-'));
const keys = { k1: new Uint8Array(32).fill(9) };
let files = 0;
// synchronous 'normal': fsync on every commit would measure the disk, not the decorators.
const sqlite = () => new SqliteStore({ path: join(dir, `${++files}.db`), synchronous: 'normal' });

type Row = { name: string; plain: number; results: Record<string, number> };
const rows: Row[] = [];
const columns = ['encryption', 'monitoring', 'cache hit', 'cache miss'] as const;

async function seeded(store: SessionStore, sessionId: string, count: number): Promise<void> {
  for (let i = 0; i < count; i += 500) {
    await store.addItems(sessionId, Array.from({ length: Math.min(500, count - i) }, (_, k) => item(i + k)));
  }
}

try {
  const plain = sqlite();
  const encrypted = withEncryption({ keys, primary: 'k1' })(sqlite());
  const monitored = withMonitoring({ onOperation: () => {}, slowThresholdMs: 60_000 })(sqlite());
  const cached = withCache({ maxSessions: 1000 })(sqlite());
  const stores = { plain, encryption: encrypted, monitoring: monitored, cache: cached };

  // Appends: a fresh session per 1000 appends so histories stay realistic.
  for (const batch of [1, 10]) {
    const results: Record<string, number> = {};
    let plainResult = 0;
    for (const [name, store] of Object.entries(stores)) {
      const ops = await throughput((i) =>
        store.addItems(`append${batch}-${Math.floor(i / 1000)}`, Array.from({ length: batch }, (_, k) => item(i * batch + k))),
      );
      if (name === 'plain') plainResult = ops;
      else if (name === 'cache') results['cache hit'] = ops; // write-through costs the same either way
      else results[name] = ops;
    }
    results['cache miss'] = results['cache hit']!;
    rows.push({ name: `append, batch of ${batch} (ops/s)`, plain: plainResult, results });
  }

  for (const [label, history, limit] of [
    ['tail read, limit 20, history 1,000', 1000, 20],
    ['full read, history 100', 100, undefined],
  ] as const) {
    const id = `read-${history}`;
    for (const store of Object.values(stores)) await seeded(store, id, history);
    const read = (store: SessionStore) => () => store.getItems(id, limit === undefined ? {} : { limit });
    const results: Record<string, number> = {
      encryption: await throughput(read(encrypted)),
      monitoring: await throughput(read(monitored)),
      'cache hit': await throughput(read(cached)),
      'cache miss': await throughput(async () => {
        cached.invalidate(id);
        return cached.getItems(id, limit === undefined ? {} : { limit });
      }),
    };
    rows.push({ name: `${label} (ops/s)`, plain: await throughput(read(plain)), results });
  }
  console.log(`cache stats: ${JSON.stringify(cached.stats())}`);
  for (const store of Object.values(stores)) await store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const ratio = (n: number, base: number) => `${(n / base).toFixed(2)}×`;
const table = [
  `| operation | plain SqliteStore | ${columns.join(' | ')} |`,
  `| --- | ---: | ${columns.map(() => '---:').join(' | ')} |`,
  ...rows.map((r) => `| ${r.name} | ${fmt(r.plain)} | ${columns.map((c) => `${fmt(r.results[c]!)} (${ratio(r.results[c]!, r.plain)})`).join(' | ')} |`),
].join('\n');
const info = `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, SqliteStore on a temp file (WAL, synchronous=normal), one caller, ${DURATION_MS} ms per cell.`;
const markdown = `# Decorator benchmark

${info}

Each column is one decorator alone over its own SqliteStore; the figure in
brackets is its throughput relative to the plain store in the same row (1.00× =
no overhead). Baseline: the plain SqliteStore, measured in the same run.

- **encryption**: XChaCha20-Poly1305 per item (libsodium, WebAssembly) plus the
  synthetic nonce hash, positions bound (an append is a tail read plus a
  compare-and-swap transaction); reads decrypt every returned item.
- **monitoring**: per-operation figures and an \`onOperation\` hook, no
  OpenTelemetry exporter.
- **cache hit**: the session's history is in the LRU; the read decodes cached
  items and never reaches SQLite. **cache miss**: the entry is dropped before
  each read, so the read goes to SQLite and refills the cache. Appends are
  write-through, the same cost in both columns.

${table}
`;
console.log(`\n${table}\n`);
const results = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(results, { recursive: true });
writeFileSync(`${results}decorators.md`, markdown);
