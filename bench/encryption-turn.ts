/**
 * withEncryption(SqliteStore) against the bare SqliteStore on the Agents SDK
 * runner's per-turn loop: read the WHOLE history (`getItems()` with no limit),
 * then append the turn's three items (200–450 bytes each), at a history of 10,
 * 100, 1,000 and 10,000 items. Each round measures both stacks back to back at
 * every size (interleaved, so drift and other load hit both alike); a ratio is
 * taken within each round and the table shows the median ratio and its range,
 * with the machine's load average. Writes results/encryption-turn.md.
 *
 *   node_modules/.bin/tsx bench/encryption-turn.ts           # 5 rounds, a few minutes
 *   BENCH_ROUNDS=3 BENCH_SCALE=0.5 node_modules/.bin/tsx bench/encryption-turn.ts
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withEncryption, type SessionStore } from '@sessionkit/core';
import { SqliteStore } from '@sessionkit/sqlite';
import { batch } from './turn-items.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const HISTORIES = [10, 100, 1000, 10000] as const;
/** Per round and stack: `sessions` sessions seeded at the history size, `turns` turns on each. */
const PLAN: Record<number, { sessions: number; turns: number }> = {
  10: { sessions: Math.ceil(1000 * SCALE), turns: 1 },
  100: { sessions: Math.ceil(200 * SCALE), turns: 2 },
  1000: { sessions: Math.ceil(30 * SCALE), turns: 3 },
  10000: { sessions: Math.ceil(3 * SCALE), turns: 4 },
};
const keys = { k1: new Uint8Array(32).fill(9) };


const median = (values: readonly number[]) => {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

const dir = mkdtempSync(join(tmpdir(), 'sessionkit-bench-encryption-turn-'));
// synchronous 'normal': an fsync per commit would measure the disk, not the decorator.
const stacks: Record<string, SessionStore> = {
  SqliteStore: new SqliteStore({ path: join(dir, 'plain.db'), synchronous: 'normal' }),
  withEncryption: withEncryption({ keys, primary: 'k1' })(new SqliteStore({ path: join(dir, 'enc.db'), synchronous: 'normal' })),
};
const rates = new Map<string, number[]>();
const loads: number[] = [loadavg()[0]!];

try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const history of HISTORIES) {
      const { sessions, turns } = PLAN[history]!;
      for (const [name, store] of Object.entries(stacks)) {
        const ids = Array.from({ length: sessions }, (_, s) => `turn-${history}-r${round}-s${s}`);
        // Untimed: seed, and read once (the process has been running this conversation).
        for (const id of ids) {
          for (let i = 0; i < history; i += 500) await store.addItems(id, batch(i, Math.min(500, history - i)));
          await store.getItems(id);
        }
        const started = performance.now();
        for (let t = 0; t < turns; t++) {
          for (const id of ids) {
            const items = await store.getItems(id);
            if (items.length !== history + t * 3) throw new Error(`${name}: read ${items.length} items`);
            await store.addItems(id, batch(history + t * 3, 3));
          }
        }
        const rate = (sessions * turns) / ((performance.now() - started) / 1000);
        for (const id of ids) await store.clearSession(id);
        const key = `${name}@${history}`;
        rates.set(key, [...(rates.get(key) ?? []), rate]);
      }
    }
    loads.push(loadavg()[0]!);
    console.log(`round ${round + 1}/${ROUNDS} (load ${loadavg().map((x) => x.toFixed(2)).join(' ')})`);
  }
} finally {
  for (const store of Object.values(stacks)) await store.close();
  rmSync(dir, { recursive: true, force: true });
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const lines = [
  '# withEncryption per turn (full read + append of 3) ÷ bare SqliteStore',
  '',
  `${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpus().length} cores, ${ROUNDS} interleaved rounds, ` +
    `load average (1 min) during the run ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)}. ` +
    'Ratio: per round, encrypted turns/s ÷ bare turns/s; median (range).',
  '',
  '| history | SqliteStore turns/s | withEncryption turns/s | ratio |',
  '| ---: | ---: | ---: | ---: |',
];
for (const history of HISTORIES) {
  const bare = rates.get(`SqliteStore@${history}`)!;
  const enc = rates.get(`withEncryption@${history}`)!;
  const ratios = enc.map((v, i) => v / bare[i]!);
  lines.push(
    `| ${fmt(history)} | ${fmt(median(bare))} | ${fmt(median(enc))} | ` +
      `${median(ratios).toFixed(2)}× (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}) |`,
  );
}
const table = lines.join('\n') + '\n';
console.log(`\n${table}`);
const out = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'encryption-turn.md'), table);
