/**
 * The Agents SDK runner's per-turn loop: read the WHOLE history (`getItems()`
 * with no limit), then append the turn's items (three, 200–450 bytes each).
 * Measured at a history of 10, 100, 1,000 and 10,000 items for
 *
 * - SqliteStore vs raw better-sqlite3 (the store's own schema, hand-written
 *   prepared statements, JSON.stringify / JSON.parse);
 * - RedisStore vs raw ioredis (RPUSH + LRANGE) on a redis-server this script starts;
 *   pops also against raw ioredis keeping the store's guarantee (a checking script),
 *   with and without the store's session-metadata write;
 *   the raw baselines live in raw-drivers.ts;
 * - withEncryption, withCache (per process, and with `revalidate`: several processes,
 *   exact, through the store's readChanges) and the README's stack (encryption + monitoring +
 *   cache) over SqliteStore vs the bare SqliteStore;
 *
 * plus popItem at 10,000 items and a tail read of 20 vs the raw driver, and the
 * memory (RSS, heap) of one process after one full read of a 10,000-item
 * session through each stack. Every cell runs ROUNDS times, interleaved (round 1
 * of every stack, then round 2, …); a ratio is taken round by round against the
 * baseline measured in the same round, and the table shows the median ratio and
 * its range. Writes results/per-turn.md.
 *
 *   pnpm bench per-turn                    # from the repository root (builds first)
 *   node_modules/.bin/tsx bench/per-turn.ts --quick   # 3 rounds, fewer turns (about a minute)
 *   BENCH_ROUNDS=7 node_modules/.bin/tsx bench/per-turn.ts
 *   node_modules/.bin/tsx bench/per-turn.ts --quick --histories=10 --stacks=withEncryption   # some cells only; writes nothing
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { withCache, withEncryption, type SessionStore } from '@sessionkit/core';
import { SqliteStore } from '@sessionkit/sqlite';
import { batch } from './turn-items.js';
import { median, ratioSummary } from './median.js';
import { keys, readmeStack } from './readme-stack.js';
import { RedisStore } from '@sessionkit/redis';
import { redisServerAvailable, startRedis } from '@sessionkit/test-servers';
import { rawRedis, rawSqlite, type Side } from './raw-drivers.js';
import { seededShuffle } from './turn-order.js';

const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (QUICK ? 3 : 5));
/** Turns per round per cell: `sessions` sessions seeded at the history size, `turns` turns on each. */
const PLAN: Record<number, { sessions: number; turns: number }> = QUICK
  ? { 10: { sessions: 300, turns: 1 }, 100: { sessions: 60, turns: 2 }, 1000: { sessions: 10, turns: 2 }, 10000: { sessions: 2, turns: 2 } }
  : { 10: { sessions: 1000, turns: 1 }, 100: { sessions: 200, turns: 2 }, 1000: { sessions: 30, turns: 3 }, 10000: { sessions: 4, turns: 3 } };
/** `--histories=10,100` and `--stacks=withEncryption,RedisStore`: a partial look at some cells (the bare SqliteStore always runs, as the baseline); prints the per-turn tables, writes nothing. */
const listArgument = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3).split(',');
const ONLY_HISTORIES = listArgument('histories')?.map(Number);
const ONLY_STACKS = listArgument('stacks');
const PARTIAL = ONLY_HISTORIES !== undefined || ONLY_STACKS !== undefined;
const ALL_HISTORIES: readonly number[] = [10, 100, 1000, 10000];
if (ONLY_HISTORIES?.some((h) => !ALL_HISTORIES.includes(h))) throw new Error('--histories takes 10, 100, 1000 and 10000');
const HISTORIES = ALL_HISTORIES.filter((h) => ONLY_HISTORIES === undefined || ONLY_HISTORIES.includes(h));
const POPS = QUICK ? 200 : 500;
const TAILS = QUICK ? 500 : 2000;
/** Raw ioredis popping through a script with RedisStore's JSON check: the same guarantee, without the store. */
const CHECKED_POP = 'raw ioredis, checked pop';
/** The same script also writes the session's updated-at and a new epoch (one HSET), as RedisStore's pop does: the same work, without the store. */
const CHECKED_META_POP = 'raw ioredis, checked pop + updated-at';
/** Raw ioredis appending through one script that also keeps the length check and updated-at, as RedisStore's append does. */
const SCRIPTED_APPEND = 'raw ioredis (scripted append + updated-at)';


const storeSide = (store: SessionStore): Side => ({
  getAll: (id) => store.getItems(id),
  append: (id, items) => store.addItems(id, items as never),
  tail: (id, limit) => store.getItems(id, { limit }),
  pop: (id) => store.popItem(id),
  clear: (id) => store.clearSession(id),
  close: () => store.close(),
});

async function seed(side: Side, id: string, count: number): Promise<void> {
  for (let i = 0; i < count; i += 500) await side.append(id, batch(i, Math.min(500, count - i)));
}

// ---------------------------------------------------------------------------------------------
// Memory child: `--memory <stack> <sqlite path> <redis url>` opens one stack, reads the 10,000-item
// session "mem" once, holds the result and prints { rss, heapUsed } in bytes after a full GC.
if (argv[0] === '--memory') {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const [, stackName, path, url] = argv;
  const side = openStack(stackName!, path!, url!);
  gc();
  const before = process.memoryUsage();
  const held = await side.getAll('mem');
  gc();
  const after = process.memoryUsage();
  if (held.length !== 10_000) throw new Error(`read ${held.length} items`);
  console.log(JSON.stringify({ rss: after.rss, heapUsed: after.heapUsed, rssDelta: after.rss - before.rss, heapDelta: after.heapUsed - before.heapUsed }));
  await side.close();
  process.exit(0);
}

function openStack(name: string, path: string, url: string): Side {
  const sqlite = () => new SqliteStore({ path, synchronous: 'normal' });
  switch (name) {
    case 'raw better-sqlite3':
      return rawSqlite(path);
    case 'SqliteStore':
      return storeSide(sqlite());
    case 'withEncryption':
      return storeSide(withEncryption({ keys, primary: 'k1' })(sqlite()));
    case 'withCache':
      return storeSide(withCache({ maxSessions: 10_000 })(sqlite()));
    case 'withCache revalidate':
      return storeSide(withCache({ maxSessions: 10_000, revalidate: true })(sqlite()));
    case 'README stack':
      return storeSide(readmeStack(sqlite()));
    case 'raw ioredis':
      return rawRedis(url);
    case 'raw ioredis, checked pop':
      return rawRedis(url, { checkedPop: true });
    case 'raw ioredis, checked pop + updated-at':
      return rawRedis(url, { checkedPop: true, sessionMeta: true });
    case SCRIPTED_APPEND:
      return rawRedis(url, { scriptedAppend: true });
    case 'RedisStore':
      return storeSide(new RedisStore({ url, keyPrefix: 'bench:store:' }));
    default:
      throw new Error(`unknown stack ${name}`);
  }
}

// ---------------------------------------------------------------------------------------------
const haveRedis = redisServerAvailable();
if (!haveRedis) console.log('!!! redis rows skipped: no redis-server on PATH (apt-get install -y redis-server)');
const dir = mkdtempSync(join(tmpdir(), 'sessionkit-bench-per-turn-'));
const server = haveRedis ? await startRedis() : undefined;
const load: number[][] = [loadavg()];

/** A comparison: each stack against the baseline stack, per history size. */
interface Group {
  title: string;
  baseline: string;
  stacks: string[];
}
const allGroups: Group[] = [
  { title: 'SqliteStore ÷ raw better-sqlite3', baseline: 'raw better-sqlite3', stacks: ['SqliteStore'] },
  ...(haveRedis
    ? [
        { title: 'RedisStore ÷ raw ioredis (RPUSH + LRANGE)', baseline: 'raw ioredis', stacks: ['RedisStore'] },
        { title: 'RedisStore ÷ raw ioredis (scripted append + updated-at, LRANGE)', baseline: SCRIPTED_APPEND, stacks: ['RedisStore'] },
      ]
    : []),
  { title: '÷ SqliteStore', baseline: 'SqliteStore', stacks: ['withEncryption', 'withCache', 'withCache revalidate', 'README stack'] },
];
const allStacks = [...new Set(allGroups.flatMap((g) => [g.baseline, ...g.stacks]))];
if (ONLY_STACKS?.some((name) => !allStacks.includes(name))) throw new Error(`--stacks takes ${allStacks.join(', ')}`);
const stackNames = allStacks.filter((name) => ONLY_STACKS === undefined || name === 'SqliteStore' || ONLY_STACKS.includes(name));
// A partial run reports the groups whose baseline runs; other stacks it runs still take their turns in between.
const groups = allGroups
  .map((g) => ({ ...g, stacks: g.stacks.filter((name) => stackNames.includes(name)) }))
  .filter((g) => stackNames.includes(g.baseline) && g.stacks.length > 0);
/** turns/s per stack, per history, per round. */
const turnsPerSecond = new Map<string, number[]>();
const cellKey = (stack: string, history: number) => `${stack}@${history}`;
const sides = new Map<string, Side>();
const paths = new Map<string, string>();
for (const name of stackNames) {
  const path = join(dir, `${name.replace(/\W+/g, '-')}.db`);
  paths.set(name, path);
  sides.set(name, openStack(name, path, server?.url ?? ''));
}

try {
  // Per turn: for each round and history size, every stack gets fresh sessions (seeded and read once,
  // untimed: the process has been running these conversations, so a cache is as warm as between two
  // turns). Then the turns run interleaved turn by turn across the stacks, each turn timed on its own: a burst
  // of load from elsewhere hits every stack alike. The order is shuffled every turn (seeded, so runs repeat):
  // a fixed cycle always ran each stack right after the same one, and a stack following another of its own
  // backend found it warm (RedisStore after raw ioredis measured 1.3× raw, raw ioredis after SQLite work paid
  // for redis-server waking up).
  const shuffled = seededShuffle(14);
  for (let round = 0; round < ROUNDS; round++) {
    for (const history of HISTORIES) {
      const { sessions, turns } = PLAN[history]!;
      const ids = Array.from({ length: sessions }, (_, s) => `turn-${history}-r${round}-s${s}`);
      for (const name of stackNames) {
        for (const id of ids) {
          await seed(sides.get(name)!, id, history);
          await sides.get(name)!.getAll(id);
        }
      }
      const spent = new Map(stackNames.map((name) => [name, 0]));
      for (let t = 0; t < turns; t++) {
        for (const id of ids) {
          for (const name of shuffled(stackNames)) {
            const side = sides.get(name)!;
            const started = performance.now();
            await side.getAll(id);
            await side.append(id, batch(history + t * 3, 3));
            spent.set(name, spent.get(name)! + performance.now() - started);
          }
        }
      }
      for (const name of stackNames) {
        for (const id of ids) await sides.get(name)!.clear(id);
        const key = cellKey(name, history);
        turnsPerSecond.set(key, [...(turnsPerSecond.get(key) ?? []), (sessions * turns) / (spent.get(name)! / 1000)]);
      }
    }
    load.push(loadavg());
    console.log(`per turn: round ${round + 1}/${ROUNDS} done (load ${loadavg().map((x) => x.toFixed(2)).join(' ')})`);
  }

  // Tail read of 20 and popItem at 10,000 items, store vs raw, alternating operation by operation. Redis pops
  // also run against raw ioredis keeping the same guarantee (a script that checks the item before removing it),
  // with and without the store's updated-at write: the distance to a bare RPOP is the price of "a pop never
  // deletes what does not decode" (and of the metadata getSessionInfo and prune read); the last row is the same work.
  const ops: { title: string; baseline: string; stack: string; rates: { store: number[]; raw: number[] } }[] = [];
  if (haveRedis && !PARTIAL) for (const name of [CHECKED_POP, CHECKED_META_POP]) sides.set(name, openStack(name, '', server!.url));
  const comparisons = PARTIAL ? [] : [
    { stack: 'SqliteStore', tail: ['raw better-sqlite3'], pop: ['raw better-sqlite3'] },
    ...(haveRedis ? [{ stack: 'RedisStore', tail: ['raw ioredis'], pop: ['raw ioredis', CHECKED_POP, CHECKED_META_POP] }] : []),
  ];
  for (const comparison of comparisons) {
    for (const op of ['tail read of 20, history 10,000', 'popItem, history 10,000'] as const) {
      const tailing = op.startsWith('tail');
      const baselines = tailing ? comparison.tail : comparison.pop;
      const names = [comparison.stack, ...baselines];
      const rates = new Map(names.map((name) => [name, [] as number[]]));
      for (const baseline of baselines) {
        ops.push({ title: op, baseline, stack: comparison.stack, rates: { store: rates.get(comparison.stack)!, raw: rates.get(baseline)! } });
      }
      const id = tailing ? 'tail' : 'pop';
      for (const name of names) await seed(sides.get(name)!, id, 10_000);
      for (let round = 0; round < ROUNDS; round++) {
        const count = tailing ? TAILS : POPS;
        const spent = new Map(names.map((name) => [name, 0]));
        for (const name of names) {
          const side = sides.get(name)!;
          // Pops take the history from 10,000 + POPS back to 10,000.
          if (!tailing) for (let i = 0; i < POPS; i += 100) await side.append(id, batch(10_000 + i, 100));
          for (let i = 0; i < 20; i++) await side.tail(id, 20); // warm-up
          if (!tailing) {
            await side.pop(id); // loads a script, if the side runs one
            await side.append(id, batch(10_000 + POPS, 1));
          }
        }
        for (let i = 0; i < count; i++) {
          for (const name of shuffled(names)) {
            const side = sides.get(name)!;
            const started = performance.now();
            if (tailing) await side.tail(id, 20);
            else await side.pop(id);
            spent.set(name, spent.get(name)! + performance.now() - started);
          }
        }
        for (const name of names) rates.get(name)!.push(count / (spent.get(name)! / 1000));
      }
    }
  }
  load.push(loadavg());

  for (const side of sides.values()) await side.close();
  sides.clear();

  // Memory: one child process per stack, each reading the same kind of 10,000-item session once.
  const memory: { stack: string; rss: number; heapUsed: number; rssDelta: number; heapDelta: number }[] = [];
  for (const name of PARTIAL ? [] : stackNames) {
    const path = paths.get(name)!;
    const writer = openStack(name, path, server?.url ?? '');
    await seed(writer, 'mem', 10_000);
    await writer.close();
    const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--memory', name, path, server?.url ?? ''], {
      encoding: 'utf8',
    });
    const line = child.stdout.trim().split('\n').pop() ?? '';
    if (child.status !== 0 || !line.startsWith('{')) {
      console.log(`!!! memory of ${name} not measured: ${child.stderr.trim().split('\n').slice(-3).join(' / ')}`);
      continue;
    }
    memory.push({ stack: name, ...JSON.parse(line) });
  }

  report(ops, memory);
} finally {
  for (const side of sides.values()) await side.close();
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
}

function report(
  ops: { title: string; baseline: string; stack: string; rates: { store: number[]; raw: number[] } }[],
  memory: { stack: string; rss: number; heapUsed: number; rssDelta: number; heapDelta: number }[],
): void {
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  const header = `| per turn (full read + append of 3), history | ${HISTORIES.map((h) => h.toLocaleString('en-US')).join(' | ')} |`;
  const align = `| --- | ${HISTORIES.map(() => '---:').join(' | ')} |`;
  const ratioRows: string[] = [];
  for (const group of groups) {
    for (const stack of group.stacks) {
      const title = group.title.startsWith('÷') ? `${stack} ${group.title}` : group.title;
      ratioRows.push(
        `| ${title} | ${HISTORIES.map((h) => ratioSummary(turnsPerSecond.get(cellKey(stack, h))!, turnsPerSecond.get(cellKey(group.baseline, h))!)).join(' | ')} |`,
      );
    }
  }
  const ratioTable = [header, align, ...ratioRows].join('\n');
  const absolute = [
    `| turns/s (median of ${ROUNDS} rounds), history | ${HISTORIES.map((h) => h.toLocaleString('en-US')).join(' | ')} |`,
    align,
    ...stackNames.map((s) => `| ${s} | ${HISTORIES.map((h) => fmt(median(turnsPerSecond.get(cellKey(s, h))!))).join(' | ')} |`),
  ].join('\n');
  const opsTable = [
    '| operation | store | raw | store ÷ raw (median, range) |',
    '| --- | ---: | ---: | ---: |',
    ...ops.map(
      (o) => `| ${o.title}: ${o.stack} vs ${o.baseline} | ${fmt(median(o.rates.store))}/s | ${fmt(median(o.rates.raw))}/s | ${ratioSummary(o.rates.store, o.rates.raw)} |`,
    ),
  ].join('\n');
  const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
  const memoryTable = [
    '| stack | RSS | heap used | RSS growth from the read | heap growth from the read |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...memory.map((m) => `| ${m.stack} | ${mib(m.rss)} | ${mib(m.heapUsed)} | ${mib(m.rssDelta)} | ${mib(m.heapDelta)} |`),
  ].join('\n');
  const loads = load.map((l) => l[0]!.toFixed(2));
  const info = `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}; SQLite on a temp file (WAL, synchronous=normal); redis-server on loopback; one caller; ${ROUNDS} interleaved rounds${QUICK ? ' (--quick)' : ''}. Machine load (1-minute loadavg) at the start, after each round and after the tail/pop rows: ${loads.join(', ')}.`;
  const plan = HISTORIES.map((h) => `${h.toLocaleString('en-US')}: ${PLAN[h]!.sessions} sessions × ${PLAN[h]!.turns} turns`).join('; ');
  const markdown = `# Per-turn benchmark

${info}

What the Agents SDK runner does every turn: \`getItems()\` (the whole history), then \`addItems\` of three
items of 200–450 bytes. Per round and history size every stack gets fresh sessions seeded to that size and
read once (untimed, so a cache is as warm as between two turns of a running conversation), then timed turns
(${plan}; each turn adds 3 items). The turns of all stacks are interleaved turn by turn, in an order shuffled
every turn (each turn timed on its own), so a burst of load from elsewhere hits every stack alike and no stack
always runs right after the same one; tail reads and pops are interleaved the same way, one operation at a time.
A cell is the median over ${ROUNDS} rounds of the per-round ratio to the baseline, with the range of those
ratios in brackets: a wide range means noise from other load, not a difference.

- raw better-sqlite3: the store's own tables, hand-written prepared statements (find the session row, insert
  the items, update the row in one IMMEDIATE transaction; reads run the store's own query by the session's id,
  expiry bound included; a pop deletes the newest row and updates the session row in one transaction;
  JSON.stringify / JSON.parse).
- raw ioredis: one list per session, RPUSH / LRANGE 0 -1 / RPOP and JSON.
- raw ioredis, checked pop: the same lists, popped by one script that reads the newest item, runs RedisStore's
  JSON check and only then removes it (what keeps "a pop never deletes an item that does not decode"; no
  session metadata, no expiry).
- raw ioredis, checked pop + updated-at: that script also sets the session's updated-at and a new epoch
  (made by the client) in a hash beside the list (one HSET, as RedisStore's pop does for \`getSessionInfo\`,
  \`prune\` and \`readChanges\`): the store's pop, work for work.
- raw ioredis (scripted append + updated-at): lists read by LRANGE as above, appended by one script that reads
  the list's length, pushes the items and sets updated-at (created-at and an epoch from the client on a new
  session) in a hash beside the list, as RedisStore's append does for \`getSessionInfo\`, \`prune\`,
  \`readChanges\` and \`expectedLength\`: the store's turn, work for work (no expiry, as the store has no ttl
  here). The raw baselines live in \`bench/raw-drivers.ts\`.
- withCache revalidate: \`withCache({ maxSessions: 10_000, revalidate: true })\` over SqliteStore, the mode for several
  processes writing the same sessions: every read asks the store for what was appended since the entry's version
  (\`readChanges\`: here the turn's three items) and copies the history to the caller.
- README stack: \`compose(SqliteStore, withEncryption, withMonitoring, withCache({ maxSessions: 10_000 }))\`.

${ratioTable}

${absolute}

Tail read and \`popItem\` on a 10,000-item session (${TAILS} reads, ${POPS} pops per round):

${opsTable}

Memory of one process after one full read of a 10,000-item session through each stack (result held,
after a full GC; each stack in its own child process):

${memoryTable}

Regenerate: \`pnpm bench per-turn\` (or \`node_modules/.bin/tsx bench/per-turn.ts --quick\` for a quick look).
`;
  if (PARTIAL) {
    console.log(`\n${info}\n\n${ratioTable}\n\n${absolute}\n\n(a partial run: nothing written)`);
    return;
  }
  console.log(`\n${ratioTable}\n\n${absolute}\n\n${opsTable}\n\n${memoryTable}\n`);
  if (!QUICK) {
    // The docs quote these figures between markers; a full run rewrites them (one command regenerates all).
    const when = `Measured by \`pnpm bench per-turn\` on ${new Date().toISOString().slice(0, 10)}. ${info}`;
    const rowsFor = (prefix: string) => ratioRows.filter((row) => row.startsWith(`| ${prefix}`));
    const opsFor = (stack: string) => ops.filter((o) => o.stack === stack).map((o) => `| ${o.title} vs ${o.baseline} | ${ratioSummary(o.rates.store, o.rates.raw)} |`);
    const storeBlock = (stack: string, rows: string[]) =>
      [when, '', header, align, ...rows, '', '| operation | store ÷ raw (median, range) |', '| --- | ---: |', ...opsFor(stack)].join('\n');
    updateDocs('sqlite.md', 'per-turn', storeBlock('SqliteStore', rowsFor('SqliteStore')));
    if (haveRedis) updateDocs('redis.md', 'per-turn', storeBlock('RedisStore', rowsFor('RedisStore')));
    updateDocs(
      'decorators.md',
      'per-turn',
      [when, '', header, align, ...rowsFor('with'), ...rowsFor('README'), '', memoryTable].join('\n'),
    );
  }
  const results = fileURLToPath(new URL('./results/', import.meta.url));
  mkdirSync(results, { recursive: true });
  writeFileSync(`${results}per-turn${QUICK ? '-quick' : ''}.md`, markdown);
}

/** Replaces the text between `<!-- name -->` and `<!-- /name -->` in docs/<file>, if both markers are there. */
function updateDocs(file: string, name: string, body: string): void {
  const path = fileURLToPath(new URL(`../docs/${file}`, import.meta.url));
  const text = readFileSync(path, 'utf8');
  const open = `<!-- ${name} -->`;
  const close = `<!-- /${name} -->`;
  const from = text.indexOf(open);
  const to = text.indexOf(close);
  if (from < 0 || to < from) {
    console.log(`!!! docs/${file}: no ${open} … ${close} markers; not updated`);
    return;
  }
  writeFileSync(path, `${text.slice(0, from + open.length)}\n${body}\n${text.slice(to)}`);
  console.log(`docs/${file}: per-turn figures updated`);
}
