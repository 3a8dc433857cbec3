/**
 * S3Store in both modes beside raw PutObject / GetObject doing comparable
 * work, on one s3rver this script starts (behind the test front from
 * @sessionkit/test-servers, with conditional writes enforced for the
 * conditional mode), in the same run. Counts HTTP requests per operation
 * through the client's middleware stack and times each operation.
 * Writes results/s3.md.
 *
 *   NODE_OPTIONS=--openssl-legacy-provider pnpm exec tsx bench/s3.ts
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startS3rver, type S3rverConstructor, type S3rverServer } from '@sessionkit/test-servers';
import { S3Store } from '@sessionkit/s3';
import S3rver from 's3rver';

const REPEAT = Number(process.env.BENCH_REPEAT ?? 20);
const HISTORIES = [100, 10_000];

// A message shaped like the Agents SDK's items (~250 bytes encoded).
const item = (n: number) => ({
  type: 'message',
  role: n % 2 ? 'assistant' : 'user',
  content: [{ type: 'output_text', text: `message ${n} `.padEnd(200, 'lorem ipsum ') }],
});

function client(server: S3rverServer): { client: S3Client; requests: () => number } {
  const c = new S3Client({
    endpoint: server.endpoint,
    region: server.region,
    forcePathStyle: true,
    credentials: server.credentials,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  let count = 0;
  c.middlewareStack.add((next) => async (args) => (count++, next(args)), { step: 'finalizeRequest', priority: 'low', name: 'benchCounter' });
  return { client: c, requests: () => count };
}

interface Row {
  readonly name: string;
  readonly ms: number;
  readonly requests: number;
}

/** Mean wall time and requests of `op` over REPEAT sequential runs. */
async function measure(name: string, requests: () => number, op: (i: number) => Promise<unknown>, repeat = REPEAT): Promise<Row> {
  await op(-1); // warm-up (connections)
  const before = requests();
  const started = performance.now();
  for (let i = 0; i < repeat; i++) await op(i);
  return { name, ms: (performance.now() - started) / repeat, requests: (requests() - before) / repeat };
}

const rows: { mode: string; rows: Row[] }[] = [];
const started = Date.now();

for (const conditional of [true, false]) {
  const server = await startS3rver({ conditional, S3rver: S3rver as unknown as S3rverConstructor });
  const { client: c, requests } = client(server);
  const store = new S3Store({ client: c, bucket: server.bucket, prefix: `bench-${conditional ? 'cas' : 'log'}/`, conditionalWrites: conditional });
  const out: Row[] = [];
  try {
    let n = 0;
    out.push(await measure('append, batch of 1', requests, () => store.addItems('append', [item(n++)])));
    out.push(await measure('append, batch of 10', requests, () => store.addItems('append10', Array.from({ length: 10 }, () => item(n++)))));
    for (const history of HISTORIES) {
      const id = `history-${history}`;
      for (let i = 0; i < history; i += 100) await store.addItems(id, Array.from({ length: Math.min(100, history - i) }, (_, k) => item(i + k)));
      // Then a few small appends, as a conversation does.
      for (let i = 0; i < 5; i++) await store.addItems(id, [item(history + i)]);
      const h = history.toLocaleString('en-US');
      out.push(await measure(`tail read, limit 20, history ${h}`, requests, () => store.getItems(id, { limit: 20 })));
      out.push(await measure(`full read, history ${h}`, requests, () => store.getItems(id), history > 1000 ? 5 : REPEAT));
      if (conditional) out.push(await measure(`pop, history ${h}`, requests, () => store.popItem(id), 5));
    }
    if (!conditional) {
      // Raw baseline: one object per append; one object of 20 items per read.
      const body20 = Array.from({ length: 20 }, (_, k) => JSON.stringify(item(k))).join('\n');
      let r = 0;
      out.push(
        await measure('raw PutObject (1 item)', requests, () =>
          c.send(new PutObjectCommand({ Bucket: server.bucket, Key: `raw/put-${r++}`, Body: JSON.stringify(item(r)) })),
        ),
      );
      await c.send(new PutObjectCommand({ Bucket: server.bucket, Key: 'raw/tail', Body: body20 }));
      out.push(
        await measure('raw GetObject (20 items) + parse', requests, async () => {
          const got = await c.send(new GetObjectCommand({ Bucket: server.bucket, Key: 'raw/tail' }));
          return (await got.Body!.transformToString()).split('\n').map((line) => JSON.parse(line));
        }),
      );
    }
  } finally {
    await store.close();
    c.destroy();
    await server.stop();
  }
  rows.push({ mode: conditional ? 'conditionalWrites: true (s3rver + conditional front)' : 'conditionalWrites: false (s3rver + front, no conditions)', rows: out });
}

const info = `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, s3rver 3.7.1 in-process on loopback behind the test front, sequential calls, ${REPEAT} runs per row (5 for full reads of 10,000 items and pops); run took ${Math.round((Date.now() - started) / 1000)} s.`;
const fmt = (x: number) => (x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1));
const tables = rows
  .map(
    (m) =>
      `### ${m.mode}\n\n| operation | ms / op | requests / op |\n| --- | ---: | ---: |\n` +
      m.rows.map((r) => `| ${r.name} | ${fmt(r.ms)} | ${fmt(r.requests)} |`).join('\n'),
  )
  .join('\n\n');
const markdown = `# S3 benchmark

${info}

Raw baseline (same server, same client settings, in the log-mode block): one
\`PutObject\` of one JSON item, and one \`GetObject\` of an object holding 20
newline-separated items plus \`JSON.parse\`. S3Store adds item validation and
encoding, the manifest read + compare-and-swap (conditional mode) or the
index write and listing (log mode), and decoding on read. s3rver writes
every object to disk and the test front re-reads each PUT until it is whole,
so absolute times are far above a real service's; the request counts are
what carry over (each request is a billed S3 operation).

Each history is appended 100 items at a time, then five single-item appends,
as a conversation does. Log-mode tail reads cost 1 LIST plus one GET per
object holding part of the newest 20 items: at history 100 that is all six
objects (the five small batches are not merged yet, a merge is due every
\`mergeFanIn\` = 8 appends), so 7 requests; at 10,000 a merge had already folded the newest
batches together, so 3 (1 LIST + 2 GETs). docs/s3.md explains the costs.

${tables}
`;
console.log(`\n${tables}\n`);
const results = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(results, { recursive: true });
writeFileSync(`${results}s3.md`, markdown);
