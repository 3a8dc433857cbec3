/**
 * PostgresStore beside raw `pg` doing the same work on one PostgreSQL this
 * script starts (or POSTGRES_URL), in the same run. Writes results/postgres.md.
 *
 *   pnpm --filter @sessionkit/postgres build && node_modules/.bin/tsx bench/postgres.ts
 *
 * Fairness: both sides run the same number of operations per round with the
 * same concurrency (CONCURRENCY callers, each on its own pool of that size),
 * the same ~260-byte SDK-shaped items, and encode/decode JSON (raw: plain
 * JSON.stringify / JSON.parse). The machine is shared, so every cell runs
 * ROUNDS rounds alternating which side goes first; a round's ratio is
 * store ÷ raw in that round, and the table shows the median of those ratios
 * and their range (a background burst then hits one round, not the verdict).
 * The load average is printed before and after.
 *
 * Env: BENCH_ROUNDS (default 7), BENCH_SCALE (operations per round, default 1),
 * BENCH_ONLY (run only the cells whose name contains it).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { postgresUnavailableReason, startPostgres } from '@sessionkit/test-servers';
import { PostgresStore } from '@sessionkit/postgres';
import pg from 'pg';
import { median, ratioSummary } from './median.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const CONCURRENCY = 8;
const ONLY = process.env.BENCH_ONLY;

const reason = process.env.POSTGRES_URL ? undefined : postgresUnavailableReason();
if (reason) {
  console.log(`!!! postgres bench skipped: ${reason}`);
  process.exit(0);
}

// A message shaped like the Agents SDK's items.
const item = (n: number) => ({
  type: 'message',
  role: n % 2 ? 'assistant' : 'user',
  content: [{ type: 'output_text', text: `message ${n} `.padEnd(200, 'lorem ipsum ') }],
});
const batch = (from: number, size: number) => Array.from({ length: size }, (_, k) => item(from + k));

const load = () => loadavg().map((n) => n.toFixed(1)).join(' / ');

/** CONCURRENCY callers, each running `perWorker` operations back to back; operations per second. */
async function run(perWorker: number, op: (worker: number, i: number) => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, worker) => {
      for (let i = 0; i < perWorker; i++) await op(worker, i);
    }),
  );
  return (CONCURRENCY * perWorker) / ((performance.now() - started) / 1000);
}

type Side = (round: number) => Promise<{ setup?: () => Promise<void>; op: (worker: number, i: number) => Promise<unknown> }>;

interface Row {
  name: string;
  store: number[];
  raw: number[];
  /** A second raw baseline that also does what one of the store's guarantees costs. */
  guarded?: { label: string; values: number[] };
}

/** ROUNDS rounds, alternating which side goes first; each side sets up (untimed) then runs `perWorker` ops. */
async function compare(name: string, perWorker: number, sides: { store: Side; raw: Side; guarded?: { label: string; side: Side } }): Promise<Row[]> {
  if (ONLY && !name.includes(ONLY)) return [];
  const row: Row = { name, store: [], raw: [], ...(sides.guarded ? { guarded: { label: sides.guarded.label, values: [] } } : {}) };
  const measure = async (side: Side, round: number) => {
    const { setup, op } = await side(round);
    await setup?.();
    for (let i = 0; i < 3; i++) await op(0, -1 - i); // warm the connection and statement caches
    return run(perWorker, op);
  };
  for (let round = 0; round < ROUNDS; round++) {
    const order: ('store' | 'raw' | 'guarded')[] = round % 2 ? ['raw', 'store'] : ['store', 'raw'];
    if (sides.guarded) order.splice(round % 3, 0, 'guarded');
    for (const which of order) {
      if (which === 'store') row.store.push(await measure(sides.store, round));
      else if (which === 'raw') row.raw.push(await measure(sides.raw, round));
      else row.guarded!.values.push(await measure(sides.guarded!.side, round));
    }
  }
  console.log(`  ${name}: ${ratioSummary(row.store, row.raw)}${row.guarded ? `; vs ${row.guarded.label}: ${ratioSummary(row.store, row.guarded.values)}` : ''}`);
  return [row];
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

const server = process.env.POSTGRES_URL ? undefined : await startPostgres();
const url = process.env.POSTGRES_URL ?? server!.url;
const store = new PostgresStore({ connectionString: url, schema: 'bench_store', poolConfig: { max: CONCURRENCY } });
const raw = new pg.Pool({ connectionString: url, max: CONCURRENCY });
const rows: Row[] = [];
const loadBefore = load();

// Raw baseline: one items table keyed (session_id, seq), the sequence taken from max(seq) in the insert.
await raw.query('CREATE TABLE IF NOT EXISTS bench_raw (session_id text, seq bigint, item text, PRIMARY KEY (session_id, seq))');
const rawAppend = (id: string, items: unknown[]) =>
  raw.query(
    `INSERT INTO bench_raw (session_id, seq, item)
     SELECT $1, coalesce((SELECT max(seq) FROM bench_raw WHERE session_id = $1), 0) + i.ord, i.item
     FROM unnest($2::text[]) WITH ORDINALITY AS i(item, ord)`,
    [id, items.map((x) => JSON.stringify(x))],
  );
const rawAll = async (id: string) =>
  (await raw.query('SELECT item FROM bench_raw WHERE session_id = $1 ORDER BY seq', [id])).rows.map((r: { item: string }) => JSON.parse(r.item));
const rawTail = async (id: string, limit: number) =>
  (await raw.query('SELECT item FROM bench_raw WHERE session_id = $1 ORDER BY seq DESC LIMIT $2', [id, limit])).rows
    .map((r: { item: string }) => JSON.parse(r.item))
    .reverse();
/** One statement: deletes the newest item whatever it holds (a corrupt item would be gone). */
const rawPop = async (id: string) => {
  const res = await raw.query(
    `DELETE FROM bench_raw WHERE (session_id, seq) = (SELECT session_id, seq FROM bench_raw WHERE session_id = $1 ORDER BY seq DESC LIMIT 1)
     RETURNING item`,
    [id],
  );
  return res.rows[0] ? JSON.parse(res.rows[0].item) : undefined;
};
/** Decode before delete in the client: read the newest, parse it, delete exactly that row (again if it went). */
const rawPopDecodeFirst = async (id: string): Promise<unknown> => {
  for (;;) {
    const read = await raw.query('SELECT seq, item FROM bench_raw WHERE session_id = $1 ORDER BY seq DESC LIMIT 1', [id]);
    const row = read.rows[0] as { seq: string; item: string } | undefined;
    if (!row) return undefined;
    const value = JSON.parse(row.item);
    const done = await raw.query('DELETE FROM bench_raw WHERE session_id = $1 AND seq = $2', [id, row.seq]);
    if (done.rowCount === 1) return value;
  }
};
const fillStore = async (id: string, n: number) => {
  for (let i = 0; i < n; i += 500) await store.addItems(id, batch(i, Math.min(500, n - i)));
};
const fillRaw = async (id: string, n: number) => {
  for (let i = 0; i < n; i += 500) await rawAppend(id, batch(i, Math.min(500, n - i)));
};
const perWorker = (n: number) => Math.max(1, Math.round(n * SCALE));

try {
  await store.ready();
  console.log(`load average before: ${loadBefore}`);

  // Per turn: the Agents SDK runner reads the whole history, then appends the turn's items (3).
  // Fresh sessions every 20 turns: the history grows 0 → 57 items.
  const TURNS = perWorker(100);
  const turnId = (side: string, round: number, w: number, i: number) => `turn-${side}-${round}-${w}-${Math.floor(i / 20)}`;
  rows.push(
    ...await compare('per turn: full read + append 3, history 0–60', TURNS, {
      store: async (round) => ({
        op: async (w, i) => {
          const id = turnId('s', round, w, i);
          await store.getItems(id);
          await store.addItems(id, batch(i, 3));
        },
      }),
      raw: async (round) => ({
        op: async (w, i) => {
          const id = turnId('r', round, w, i);
          await rawAll(id);
          await rawAppend(id, batch(i, 3));
        },
      }),
    }),
  );
  // A long conversation: 1,000 items before the round, +3 per turn.
  const LONG = 1000;
  // 40 turns per caller: a round of 20 was under a second, too short to ride out the shared machine's bursts.
  const LONG_TURNS = perWorker(40);
  rows.push(
    ...await compare(`per turn: full read + append 3, history ${LONG.toLocaleString('en-US')}`, LONG_TURNS, {
      store: async (round) => ({
        setup: async () => {
          for (let w = 0; w < CONCURRENCY; w++) await fillStore(`long-s-${round}-${w}`, LONG);
        },
        op: async (w, i) => {
          const id = `long-s-${round}-${w}`;
          await store.getItems(id);
          await store.addItems(id, batch(i, 3));
        },
      }),
      raw: async (round) => ({
        setup: async () => {
          for (let w = 0; w < CONCURRENCY; w++) await fillRaw(`long-r-${round}-${w}`, LONG);
        },
        op: async (w, i) => {
          const id = `long-r-${round}-${w}`;
          await rawAll(id);
          await rawAppend(id, batch(i, 3));
        },
      }),
    }),
  );

  for (const history of [100, 10_000]) {
    const id = `tail-${history}`;
    await fillStore(id, history);
    await fillRaw(id, history);
    // Other sessions around it, so the index holds more than the one being read.
    await store.addItems(`neighbour-${history}`, batch(0, 10));
    await rawAppend(`neighbour-${history}`, batch(0, 10));
    if (ONLY && !`tail read, limit 20, history ${history.toLocaleString('en-US')}`.includes(ONLY)) continue;
    rows.push(
      ...await compare(`tail read, limit 20, history ${history.toLocaleString('en-US')}`, perWorker(300), {
        store: async () => ({ op: () => store.getItems(id, { limit: 20 }) }),
        raw: async () => ({ op: () => rawTail(id, 20) }),
      }),
    );
  }

  // Pop: each caller pops its own session, filled (untimed) before the round.
  const POPS = perWorker(300);
  rows.push(
    ...await compare('popItem', POPS, {
      store: async (round) => ({
        setup: async () => {
          for (let w = 0; w < CONCURRENCY; w++) await fillStore(`pop-s-${round}-${w}`, POPS + 10);
        },
        op: (w) => store.popItem(`pop-s-${round}-${w}`),
      }),
      raw: async (round) => ({
        setup: async () => {
          for (let w = 0; w < CONCURRENCY; w++) await fillRaw(`pop-r-${round}-${w}`, POPS + 10);
        },
        op: (w) => rawPop(`pop-r-${round}-${w}`),
      }),
      guarded: {
        label: 'raw pop, decode before delete (2 round trips)',
        side: async (round) => ({
          setup: async () => {
            for (let w = 0; w < CONCURRENCY; w++) await fillRaw(`pop-g-${round}-${w}`, POPS + 10);
          },
          op: (w) => rawPopDecodeFirst(`pop-g-${round}-${w}`),
        }),
      },
    }),
  );
} finally {
  await store.close();
  await raw.end();
  await server?.stop();
}

const loadAfter = load();
const info = `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, PostgreSQL on loopback (fsync off), ${CONCURRENCY} concurrent callers per side, ${ROUNDS} rounds per cell alternating which side goes first. Load average (1/5/15 min) before: ${loadBefore}; after: ${loadAfter}.`;
const cell = (values: readonly number[]) => `${fmt(median(values))} (${fmt(Math.min(...values))}–${fmt(Math.max(...values))})`;
const table = [
  '| operation (ops/s) | PostgresStore | raw pg | store ÷ raw, median of rounds (range) |',
  '| --- | ---: | ---: | ---: |',
  ...rows.flatMap((r) => [
    `| ${r.name} | ${cell(r.store)} | ${cell(r.raw)} | **${ratioSummary(r.store, r.raw)}** |`,
    ...(r.guarded ? [`| ${r.name} vs ${r.guarded.label} | | ${cell(r.guarded.values)} | **${ratioSummary(r.store, r.guarded.values)}** |`] : []),
  ]),
].join('\n');
const markdown = `# PostgreSQL benchmark

${info}

Raw baseline: one \`(session_id text, seq, item text)\` table; append is one \`INSERT … SELECT max(seq) + ordinality\`,
reads \`ORDER BY seq [DESC LIMIT n]\` + \`JSON.parse\`, pop one \`DELETE … RETURNING\` — which deletes the newest
item without any check, so a corrupt item would be lost. PostgresStore's pop is one statement too, but deletes
only an item PostgreSQL parses as \`json\` (others are decoded in JS first and stay if corrupt). The second pop
baseline keeps the contract in the client instead (read the newest, \`JSON.parse\` it, then delete exactly that
row, again if a racer took it: two round trips). PostgresStore also validates and encodes items, keeps the
session row (counts, times, version, TTL) and assigns sequence numbers from it. See docs/postgres.md.

${table}
`;
console.log(`\n${table}\n`);
const results = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(results, { recursive: true });
writeFileSync(`${results}postgres.md`, markdown);
