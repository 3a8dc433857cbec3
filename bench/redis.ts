/**
 * RedisStore beside raw ioredis commands doing the same work (RPUSH /
 * LRANGE with JSON.stringify / JSON.parse), on one redis-server this script
 * starts, in the same run. Writes results/redis.md.
 *
 *   pnpm exec tsx bench/redis.ts
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { redisServerAvailable, startRedis } from '@sessionkit/test-servers';
import { RedisStore } from '@sessionkit/redis';
import { sessionKeys } from '../packages/redis/src/keys.js';
import { Redis } from 'ioredis';

const DURATION_MS = Number(process.env.BENCH_MS ?? 2000);
const CONCURRENCY = 8;

if (!redisServerAvailable()) {
  console.log('!!! redis bench skipped: no redis-server on PATH (apt-get install -y redis-server)');
  process.exit(0);
}

// A message shaped like the Agents SDK's items.
const item = (n: number) => ({
  type: 'message',
  role: n % 2 ? 'assistant' : 'user',
  content: [{ type: 'output_text', text: `message ${n} `.padEnd(200, 'lorem ipsum ') }],
});

/** Runs `op` from CONCURRENCY loops for DURATION_MS; returns operations per second. */
async function throughput(op: (worker: number, i: number) => Promise<unknown>): Promise<number> {
  // Warm-up (loads scripts, fills connection buffers).
  for (let i = 0; i < 50; i++) await op(0, -1 - i);
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

const server = await startRedis();
const raw = new Redis(server.url);
const store = new RedisStore({ url: server.url, keyPrefix: 'bench:store:' });
const rows: { name: string; store: number; raw: number }[] = [];
const rawKey = (id: string) => sessionKeys('bench:raw:', id).items;

try {
  for (const batch of [1, 10]) {
    const s = await throughput((w, i) => store.addItems(`append${batch}-${w}`, Array.from({ length: batch }, (_, k) => item(i * batch + k))));
    const r = await throughput((w, i) =>
      raw.rpush(rawKey(`append${batch}-${w}`), ...Array.from({ length: batch }, (_, k) => JSON.stringify(item(i * batch + k)))),
    );
    rows.push({ name: `append, batch of ${batch} (ops/s)`, store: s, raw: r });
  }

  for (const history of [100, 100_000]) {
    const id = `tail-${history}`;
    const all = Array.from({ length: history }, (_, n) => item(n));
    for (let i = 0; i < all.length; i += 1000) {
      const chunk = all.slice(i, i + 1000);
      await store.addItems(id, chunk);
      await raw.rpush(rawKey(id), ...chunk.map((x) => JSON.stringify(x)));
    }
    const s = await throughput(() => store.getItems(id, { limit: 20 }));
    const r = await throughput(async () => (await raw.lrange(rawKey(id), -20, -1)).map((x) => JSON.parse(x)));
    rows.push({ name: `tail read, limit 20, history ${history.toLocaleString('en-US')} (ops/s)`, store: s, raw: r });
  }
} finally {
  await store.close();
  raw.disconnect();
  await server.stop();
}

const info = `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, redis-server on loopback, ${CONCURRENCY} concurrent callers, ${DURATION_MS} ms per row.`;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const table = [
  '| operation | RedisStore | raw ioredis | store / raw |',
  '| --- | ---: | ---: | ---: |',
  ...rows.map((r) => `| ${r.name} | ${fmt(r.store)} | ${fmt(r.raw)} | ${(r.store / r.raw).toFixed(2)} |`),
].join('\n');
const markdown = `# Redis benchmark

${info}

Raw baseline: \`RPUSH\` of \`JSON.stringify\`'d items, and \`LRANGE key -20 -1\` + \`JSON.parse\`.
RedisStore adds item validation and encoding, one Lua script per append (meta
hash, TTL), and decoding on read.

${table}
`;
console.log(`\n${table}\n`);
const results = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(results, { recursive: true });
writeFileSync(`${results}redis.md`, markdown);
