/**
 * Many active sessions: the Agents SDK runner's per-turn loop (read the whole history, append three items of
 * 200–450 bytes) over N sessions taken in turn, as a process serving N conversations at once does, each
 * conversation's next turn coming after every other one's. withCache and withEncryption's plaintext memory keep
 * what they hold per session under a byte budget, least recently used first: when the N sessions' histories do
 * not fit, each session is evicted before its next turn and every read misses. Measured at 2,000 and 8,000
 * sessions (histories of 10 items, growing by 3 a round), each decorator and the README stack over SqliteStore
 * with the default budgets (64 MiB each) and with budgets that fit (1 GiB), against the bare SqliteStore.
 * Every stack runs in this one process, turn by turn in an order shuffled every turn; a cell is the median over
 * the rounds of the per-round ratio to the bare store, with the range in brackets. Writes results/many-sessions.md.
 *
 *   pnpm bench many-sessions                                            # from the repository root
 *   node_modules/.bin/tsx bench/many-sessions.ts --sessions=2000        # some counts only; writes nothing
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withCache, withEncryption, type SessionStore } from '@sessionkit/core';
import { SqliteStore } from '@sessionkit/sqlite';
import { batch } from './turn-items.js';
import { median, ratioSummary } from './median.js';
import { keys, readmeStack } from './readme-stack.js';
import { seededShuffle } from './turn-order.js';

const argv = process.argv.slice(2);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const ALL_COUNTS = [2000, 8000];
const only = argv.find((a) => a.startsWith('--sessions='))?.slice('--sessions='.length).split(',').map(Number);
const COUNTS = only ?? ALL_COUNTS;
const HISTORY = 10;
/** A budget that holds every stack's whole working set here. */
const FITS = 1024 * 1024 * 1024;

const STACKS: [string, (base: SessionStore) => SessionStore][] = [
  ['SqliteStore', (base) => base],
  ['withEncryption', (base) => withEncryption({ keys, primary: 'k1' })(base)],
  ['withCache', (base) => withCache({ maxSessions: 10_000 })(base)],
  ['README stack', (base) => readmeStack(base)],
  ['withEncryption, 1 GiB memory', (base) => withEncryption({ keys, primary: 'k1', plaintextCacheBytes: FITS })(base)],
  ['withCache, 1 GiB', (base) => withCache({ maxSessions: 10_000, maxBytes: FITS })(base)],
  ['README stack, 1 GiB budgets', (base) => readmeStack(base, { maxBytes: FITS, plaintextCacheBytes: FITS })],
];

const dir = mkdtempSync(join(tmpdir(), 'sessionkit-bench-many-'));
const load: number[] = [loadavg()[0]!];
/** turns/s per stack, per session count, per round. */
const rates = new Map<string, number[]>();
const key = (stack: string, count: number) => `${stack}@${count}`;
const shuffled = seededShuffle(14);
try {
  for (const count of COUNTS) {
    const stacks = STACKS.map(([name, make], i) => ({ name, store: make(new SqliteStore({ path: join(dir, `${count}-${i}.sqlite`), synchronous: 'normal' })) }));
    // Seeded and read once (untimed): every layer has seen every session, as between two turns of a running conversation.
    for (const { store } of stacks) {
      for (let s = 0; s < count; s++) {
        await store.addItems(`s${s}`, batch(0, HISTORY) as never);
        await store.getItems(`s${s}`);
      }
    }
    for (let round = 0; round < ROUNDS; round++) {
      const nanos = new Map(stacks.map(({ name }) => [name, 0]));
      const items = batch(HISTORY + 3 * round, 3);
      for (let s = 0; s < count; s++) {
        for (const { name, store } of shuffled(stacks)) {
          const started = process.hrtime.bigint();
          await store.getItems(`s${s}`);
          await store.addItems(`s${s}`, items as never);
          nanos.set(name, nanos.get(name)! + Number(process.hrtime.bigint() - started));
        }
      }
      for (const { name } of stacks) {
        const list = rates.get(key(name, count)) ?? [];
        list.push(count / (nanos.get(name)! / 1e9));
        rates.set(key(name, count), list);
      }
      load.push(loadavg()[0]!);
      console.log(`many sessions: ${count} sessions, round ${round + 1}/${ROUNDS} done (load ${loadavg().map((x) => x.toFixed(2)).join(' ')})`);
    }
    for (const { store } of stacks) await store.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const header = `| per turn ÷ SqliteStore, active sessions | ${COUNTS.map((c) => c.toLocaleString('en-US')).join(' | ')} |`;
const align = `| --- | ${COUNTS.map(() => '---:').join(' | ')} |`;
const ratioCell = (stack: string, count: number) => ratioSummary(rates.get(key(stack, count))!, rates.get(key('SqliteStore', count))!);
const ratioTable = [header, align, ...STACKS.slice(1).map(([name]) => `| ${name} | ${COUNTS.map((c) => ratioCell(name, c)).join(' | ')} |`)].join('\n');
const absolute = [
  `| turns/s (median of ${ROUNDS} rounds), active sessions | ${COUNTS.map((c) => c.toLocaleString('en-US')).join(' | ')} |`,
  align,
  ...STACKS.map(([name]) => `| ${name} | ${COUNTS.map((c) => Math.round(median(rates.get(key(name, c))!)).toLocaleString('en-US')).join(' | ')} |`),
].join('\n');
const info = `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}; SQLite on a temp file (WAL, synchronous=normal); one caller; ${ROUNDS} rounds. Machine load (1-minute loadavg) at the start and after each round: ${load.map((l) => l.toFixed(2)).join(', ')}.`;

if (only !== undefined) {
  console.log(`\n${info}\n\n${ratioTable}\n\n${absolute}\n\n(a partial run: nothing written)`);
} else {
  const markdown = `# Many active sessions

Measured by \`pnpm bench many-sessions\` on ${new Date().toISOString().slice(0, 10)}. ${info}

The per-turn loop (\`getItems()\` of the whole history, then \`addItems\` of three items of 200–450 bytes) over
N sessions taken in turn: every session's next turn comes after one turn of each of the others, the pattern of a
process serving N conversations at once. Sessions start at ${HISTORY} items and grow by 3 a round. withCache and
withEncryption's plaintext memory evict the least recently used session when their byte budget is full, so once
the N histories do not fit, each session is gone again before its next turn and every read misses: withCache
reads the store and copies the result into the cache, withEncryption decrypts every item and remembers it again.
The stacks are those of the per-turn benchmark (the README stack is
\`compose(SqliteStore, withEncryption, withMonitoring, withCache({ maxSessions: 10_000 }))\`), with the default
budgets (\`maxBytes\` and \`plaintextCacheBytes\`: 64 MiB each) and with budgets of 1 GiB, which hold everything
here. All stacks run in one process, turn by turn in an order shuffled every turn; a cell is the median of the
per-round ratio to the bare store's turns per second, with the range over the rounds.

${ratioTable}

${absolute}

Regenerate: \`pnpm bench many-sessions\`.
`;
  writeFileSync(fileURLToPath(new URL('./results/many-sessions.md', import.meta.url)), markdown);
  console.log(`\n${ratioTable}\n\n${absolute}\n`);
}
