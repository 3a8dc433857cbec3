/**
 * PostgresStore beside raw `pg` doing the same work on one PostgreSQL this
 * script starts (or POSTGRES_URL), in the same run. Writes results/postgres.md.
 *
 *   pnpm exec tsx bench/postgres.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { postgresUnavailableReason, startPostgres } from '@sessionkit/test-servers';
import { PostgresStore } from '@sessionkit/postgres';
import pg from 'pg';

const DURATION_MS = Number(process.env.BENCH_MS ?? 2000);
const CONCURRENCY = 8;

const reason = process.env.POSTGRES_URL ? undefined : postgresUnavailableReason();
if (reason) {
  console.log(`!!! postgres bench skipped: ${reason}`);
  process.exit(0);
}

const item = (n: number) => ({
  type: 'message',
  role: n % 2 ? 'assistant' : 'user',
  content: [{ type: 'output_text', text: `message ${n} `.padEnd(200, 'lorem ipsum ') }],
});

async function throughput(op: (worker: number, i: number) => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 30; i++) await op(0, -1 - i);
  let done = 0;
  const end = Date.now() + DURATION_MS;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, worker) => {
      for (let i = 0; Date.now() < end; i++) {
        await op(worker, i);
        done++;
      }
    }),
  );
  return done / ((performance.now() - started) / 1000);
}

const server = process.env.POSTGRES_URL ? undefined : await startPostgres();
const url = process.env.POSTGRES_URL ?? server!.url;
const store = new PostgresStore({ connectionString: url, schema: 'bench_store', poolConfig: { max: CONCURRENCY } });
const raw = new pg.Pool({ connectionString: url, max: CONCURRENCY });
const rows: { name: string; store: number; raw: number }[] = [];

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
const rawPop = async (id: string) => {
  const res = await raw.query(
    `DELETE FROM bench_raw WHERE (session_id, seq) = (SELECT session_id, seq FROM bench_raw WHERE session_id = $1 ORDER BY seq DESC LIMIT 1)
     RETURNING item`,
    [id],
  );
  return res.rows[0] ? JSON.parse(res.rows[0].item) : undefined;
};

try {
  await store.ready();
  // Per turn: the Agents SDK runner reads the whole history, then appends the turn's items.
  let round = 0;
  const turn = async (read: () => Promise<unknown>, append: () => Promise<unknown>) => {
    await read();
    await append();
  };
  round++;
  const s1 = await throughput((w, i) =>
    turn(() => store.getItems(`turn-${round}-${w}-${Math.floor(i / 20)}`), () => store.addItems(`turn-${round}-${w}-${Math.floor(i / 20)}`, [item(1), item(2), item(3)])),
  );
  const r1 = await throughput((w, i) =>
    turn(() => rawAll(`turn-${round}-${w}-${Math.floor(i / 20)}`), () => rawAppend(`turn-${round}-${w}-${Math.floor(i / 20)}`, [item(1), item(2), item(3)])),
  );
  rows.push({ name: 'per turn: full read + append 3 (history up to 60 items) (turns/s)', store: s1, raw: r1 });

  for (const history of [100, 10_000]) {
    const id = `tail-${history}`;
    for (let i = 0; i < history; i += 500) {
      const chunk = Array.from({ length: Math.min(500, history - i) }, (_, k) => item(i + k));
      await store.addItems(id, chunk);
      await rawAppend(id, chunk);
    }
    const s = await throughput(() => store.getItems(id, { limit: 20 }));
    const r = await throughput(() => rawTail(id, 20));
    rows.push({ name: `tail read, limit 20, history ${history.toLocaleString('en-US')} (ops/s)`, store: s, raw: r });
  }

  // Pop: each worker pops its own session, refilled in bulk beforehand.
  const POPS = 4000;
  for (let w = 0; w < CONCURRENCY; w++) {
    const chunk = Array.from({ length: POPS }, (_, k) => item(k));
    for (let i = 0; i < POPS; i += 500) {
      await store.addItems(`pop-${w}`, chunk.slice(i, i + 500));
      await rawAppend(`pop-${w}`, chunk.slice(i, i + 500));
    }
  }
  const sp = await throughput((w) => store.popItem(`pop-${w}`));
  const rp = await throughput((w) => rawPop(`pop-${w}`));
  rows.push({ name: 'popItem (ops/s)', store: sp, raw: rp });
} finally {
  await store.close();
  await raw.end();
  await server?.stop();
}

const info = `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, PostgreSQL on loopback (fsync off), ${CONCURRENCY} concurrent callers, ${DURATION_MS} ms per cell.`;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const table = [
  '| operation | PostgresStore | raw pg | store / raw |',
  '| --- | ---: | ---: | ---: |',
  ...rows.map((r) => `| ${r.name} | ${fmt(r.store)} | ${fmt(r.raw)} | ${(r.store / r.raw).toFixed(2)} |`),
].join('\n');
const markdown = `# PostgreSQL benchmark

${info}

Raw baseline: one \`(session_id text, seq, item text)\` table; append is one \`INSERT … SELECT max(seq) + ordinality\`,
reads \`ORDER BY seq [DESC LIMIT n]\` + \`JSON.parse\`, pop one \`DELETE … RETURNING\` (no decode-before-delete).
PostgresStore adds item validation and encoding, the session row (counts, times, version, TTL), and for pop a
read and a version-conditioned write so a corrupt item is never deleted.

${table}
`;
console.log(`\n${table}\n`);
const results = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(results, { recursive: true });
writeFileSync(`${results}postgres.md`, markdown);
