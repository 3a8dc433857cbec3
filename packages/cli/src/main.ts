import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { createRequire } from 'node:module';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import type { Writable } from 'node:stream';
import {
  isSessionError,
  SessionError,
  SessionErrorCode,
  withAnalytics,
  type SessionStore,
} from '@sessionkit/core';
import type { SessionAnalytics } from '@sessionkit/core/analytics';
import { EncryptionStore, reencryptSession } from '@sessionkit/core/encryption';
import { encodeItem, hasPrune } from '@sessionkit/core/adapter';
import { Checkpoint } from './checkpoint.js';
import { copySessions, pool, selectSessions, verifyCopy } from './copy.js';
import { olderThan } from './duration.js';
import { describeError, usage, UsageError } from './errors.js';
import { headerLine, itemLine, readExport } from './export-format.js';
import { loadKeyRing } from './key-ring.js';
import { COMMANDS, commandHelp, mainHelp } from './help.js';
import { openStore, type OpenedStore } from './open-store.js';
import { progress } from './progress.js';
import { mapPythonItems } from './python-items.js';
import { readPythonRedis, readPythonSqlite, type PythonSession } from './python-source.js';
import { palette, renderItem } from './render.js';
import { historyHash } from './sessions.js';
import { writeHistory } from './write-history.js';

export interface CliIo {
  readonly stdout: Writable & { isTTY?: boolean };
  readonly stderr: Writable & { isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
  /** Aborted on Ctrl-C: copies stop taking sessions and record what finished. */
  readonly signal?: AbortSignal;
}

const OPTIONS = {
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  'keyring-file': { type: 'string' },
  'older-than': { type: 'string' },
  limit: { type: 'string' },
  offset: { type: 'string' },
  out: { type: 'string' },
  from: { type: 'string' },
  overwrite: { type: 'boolean' },
  'sessions-table': { type: 'string' },
  'messages-table': { type: 'string' },
  'key-prefix': { type: 'string' },
  concurrency: { type: 'string' },
  checkpoint: { type: 'string' },
  verify: { type: 'boolean' },
  'allow-plaintext': { type: 'boolean' },
  'per-session': { type: 'boolean' },
} as const;

type Values = ReturnType<typeof parse>['values'];

function parse(args: string[]) {
  return parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
}

function integer(value: string | undefined, flag: string, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw usage(`${flag} takes an integer ≥ ${min} (got "${value}")`);
  return n;
}

/** Runs one command; resolves to the exit code (0 ok, 1 failure, 2 usage). */
export async function run(argv: readonly string[], io: CliIo = defaultIo()): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    const topic = rest[0];
    io.stdout.write(`${topic && COMMANDS[topic] ? commandHelp(topic) : mainHelp()}\n`);
    return command === undefined ? 2 : 0;
  }
  if (command === '--version' || command === '-v') {
    // Read from the package itself (src/ and dist/ both sit beside it), so it never drifts from a release.
    const { version } = createRequire(import.meta.url)('../package.json') as { version: string };
    io.stdout.write(`sessionkit ${version}\n`);
    return 0;
  }
  const opened: OpenedStore[] = [];
  try {
    if (!COMMANDS[command]) throw usage(`unknown command "${command}"`);
    let parsed;
    try {
      parsed = parse(rest);
    } catch (error) {
      throw usage((error as Error).message);
    }
    const { values, positionals } = parsed;
    if (values.help) {
      io.stdout.write(`${commandHelp(command)}\n`);
      return 0;
    }
    const keyRing = loadKeyRing({ ...(values['keyring-file'] ? { keyringFile: values['keyring-file'] } : {}), env: io.env });
    const open = async (url: string | undefined, what = 'a store URL') => {
      if (!url) throw usage(`${command} needs ${what}`);
      const store = await openStore(url, keyRing ? { encryption: { ...keyRing, ...(values['allow-plaintext'] ? { allowPlaintext: true } : {}) } } : {});
      opened.push(store);
      return store;
    };
    const ctx: Context = { io, values, positionals, open, color: palette(Boolean(io.stdout.isTTY) && !io.env.NO_COLOR) };
    return await COMMAND_RUNNERS[command]!(ctx);
  } catch (error) {
    io.stderr.write(`${describeError(error)}\n`);
    return error instanceof UsageError ? 2 : 1;
  } finally {
    await Promise.allSettled(opened.map((o) => o.store.close()));
  }
}

function defaultIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env };
}

interface Context {
  readonly io: CliIo;
  readonly values: Values;
  readonly positionals: string[];
  readonly open: (url: string | undefined, what?: string) => Promise<OpenedStore>;
  readonly color: ReturnType<typeof palette>;
}

const json = (io: CliIo, value: unknown) => io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
const showProgress = (ctx: Context) => !ctx.values.quiet && !ctx.values.json;

async function write(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

const COMMAND_RUNNERS: Record<string, (ctx: Context) => Promise<number>> = {
  async ls(ctx) {
    const { store } = await ctx.open(ctx.positionals[0]);
    const cut = ctx.values['older-than'] ? olderThan(ctx.values['older-than']) : undefined;
    const limit = integer(ctx.values.limit, '--limit', 50, 1);
    const offset = integer(ctx.values.offset, '--offset', 0);
    const all = await selectSessions(store, cut ? { olderThan: cut } : {});
    all.sort((a, b) => b.updatedAt.getTime() - a.updatedAt.getTime() || (a.sessionId < b.sessionId ? -1 : 1));
    const page = all.slice(offset, offset + limit);
    if (ctx.values.json) {
      json(ctx.io, {
        total: all.length,
        offset,
        limit,
        sessions: page.map((s) => ({ sessionId: s.sessionId, itemCount: s.itemCount, createdAt: s.createdAt.toISOString(), updatedAt: s.updatedAt.toISOString() })),
      });
      return 0;
    }
    const c = ctx.color;
    const width = Math.max(10, ...page.map((s) => s.sessionId.length));
    ctx.io.stdout.write(`${c.bold('SESSION'.padEnd(width))}  ${c.bold('ITEMS'.padStart(7))}  ${c.bold('CREATED'.padEnd(24))}  ${c.bold('UPDATED')}\n`);
    for (const s of page) {
      ctx.io.stdout.write(`${s.sessionId.padEnd(width)}  ${String(s.itemCount).padStart(7)}  ${s.createdAt.toISOString().padEnd(24)}  ${s.updatedAt.toISOString()}\n`);
    }
    const next = offset + page.length < all.length ? ` — next page: --offset ${offset + page.length}` : '';
    ctx.io.stdout.write(c.dim(`${offset + 1}–${offset + page.length} of ${all.length} sessions${next}\n`));
    return 0;
  },

  async show(ctx) {
    const { store } = await ctx.open(ctx.positionals[0]);
    const id = ctx.positionals[1];
    if (!id) throw usage('show needs a session id');
    const limit = ctx.values.limit === undefined ? undefined : integer(ctx.values.limit, '--limit', 0, 1);
    const info = store.getSessionInfo ? await store.getSessionInfo(id) : undefined;
    const items = await store.getItems(id, limit === undefined ? {} : { limit });
    if (ctx.values.json) {
      // In the export format's encoding: binary values as {"$sk:bytes": base64}, not a plain object of indexes.
      json(ctx.io, items.map((item) => JSON.parse(encodeItem(item)) as unknown));
      return 0;
    }
    const total = info?.itemCount ?? items.length;
    const first = total - items.length;
    ctx.io.stdout.write(ctx.color.bold(`session ${id}`) + ctx.color.dim(` — ${total} items${first > 0 ? `, showing the newest ${items.length}` : ''}\n\n`));
    items.forEach((item, i) => ctx.io.stdout.write(`${renderItem(item, first + i, ctx.color)}\n`));
    return 0;
  },

  async export(ctx) {
    const [url, ...ids] = ctx.positionals;
    const { store } = await ctx.open(url);
    const cut = ctx.values['older-than'] ? olderThan(ctx.values['older-than']) : undefined;
    const sessions = await selectSessions(store, { ids, ...(cut ? { olderThan: cut } : {}) });
    const out: Writable = ctx.values.out ? createWriteStream(ctx.values.out) : ctx.io.stdout;
    const bar = progress('export', showProgress(ctx) && Boolean(ctx.values.out));
    bar.start(sessions.length);
    let items = 0;
    for (const info of sessions) {
      const history = await store.getItems(info.sessionId);
      await write(
        out,
        `${headerLine({ sessionId: info.sessionId, itemCount: history.length, createdAt: info.createdAt.toISOString(), updatedAt: info.updatedAt.toISOString(), sha256: historyHash(history) })}\n`,
      );
      for (const item of history) await write(out, `${itemLine(item)}\n`);
      items += history.length;
      bar.tick();
    }
    bar.stop();
    if (ctx.values.out) {
      out.end();
      await once(out, 'finish');
      ctx.io.stderr.write(`exported ${sessions.length} sessions, ${items} items\n`);
    }
    return 0;
  },

  async import(ctx) {
    const [url, source] = ctx.positionals;
    const { store } = await ctx.open(url);
    if (!source) throw usage('import needs a file (or --from python-sqlite <db> / --from python-redis <url>)');
    const from = ctx.values.from;
    let sessions: AsyncIterable<{ sessionId: string; items: unknown[]; corrupt?: number[] }>;
    const unmapped: Record<string, number> = {};
    if (from === undefined) {
      sessions = (async function* () {
        for await (const s of readExport(source)) yield { sessionId: s.header.sessionId, items: s.items };
      })();
    } else if (from === 'python-sqlite' || from === 'python-redis') {
      const raw: AsyncIterable<PythonSession> =
        from === 'python-sqlite'
          ? readPythonSqlite(source, {
              ...(ctx.values['sessions-table'] ? { sessionsTable: ctx.values['sessions-table'] } : {}),
              ...(ctx.values['messages-table'] ? { messagesTable: ctx.values['messages-table'] } : {}),
            })
          : readPythonRedis(source, ctx.values['key-prefix'] ?? 'agents:session');
      sessions = (async function* () {
        for await (const s of raw) {
          const mapped = mapPythonItems(s.items);
          for (const [type, n] of Object.entries(mapped.unmapped)) unmapped[type] = (unmapped[type] ?? 0) + n;
          yield { sessionId: s.sessionId, items: mapped.items, corrupt: s.corrupt };
        }
      })();
    } else throw usage('--from takes python-sqlite or python-redis');
    const report = { sessions: 0, written: 0, unchanged: 0, replaced: 0, items: 0, failures: [] as { sessionId: string; code: string; message: string }[], corruptSourceItems: [] as { sessionId: string; positions: number[] }[] };
    const bar = progress('import', showProgress(ctx));
    bar.start(undefined);
    for await (const s of sessions) {
      report.sessions++;
      if (s.corrupt && s.corrupt.length > 0) report.corruptSourceItems.push({ sessionId: s.sessionId, positions: s.corrupt });
      try {
        const outcome = await writeHistory(store, s.sessionId, s.items, ctx.values.overwrite);
        report[outcome]++;
        report.items += s.items.length;
      } catch (error) {
        if (!isSessionError(error)) throw error;
        report.failures.push({ sessionId: s.sessionId, code: error.code, message: error.message });
      }
      bar.tick();
    }
    bar.stop();
    const failed = report.failures.length > 0 || report.corruptSourceItems.length > 0;
    if (ctx.values.json) json(ctx.io, { ...report, unmappedTypes: unmapped });
    else {
      ctx.io.stdout.write(
        `imported ${report.sessions} sessions (${report.written} written, ${report.unchanged} already present, ${report.replaced} replaced), ${report.items} items\n`,
      );
      if (Object.keys(unmapped).length > 0) ctx.io.stdout.write(`carried unchanged (no TS mapping): ${JSON.stringify(unmapped)}\n`);
      for (const f of report.failures) ctx.io.stdout.write(ctx.color.red(`failed ${f.sessionId}: [${f.code}] ${f.message}\n`));
      for (const c of report.corruptSourceItems) ctx.io.stdout.write(ctx.color.red(`source ${c.sessionId}: items at positions ${c.positions.join(', ')} are not valid JSON and were not imported\n`));
    }
    return failed ? 1 : 0;
  },

  async copy(ctx) {
    const [fromUrl, toUrl, ...ids] = ctx.positionals;
    // Arguments first: a usage mistake must not create an empty SQLite file.
    const concurrency = integer(ctx.values.concurrency, '--concurrency', 8, 1);
    const cut = ctx.values['older-than'] ? olderThan(ctx.values['older-than']) : undefined;
    if (!toUrl) throw usage('copy needs a source and a target store URL');
    const from = await ctx.open(fromUrl, 'a source store URL');
    const to = await ctx.open(toUrl, 'a target store URL');
    const identity = `${from.label} -> ${to.label}${ids.length ? ` ids:${ids.join(',')}` : ''}${cut ? ` older-than:${ctx.values['older-than']}` : ''}`;
    const checkpointPath = ctx.values.checkpoint ?? `.sessionkit-copy-${createHash('sha256').update(identity).digest('hex').slice(0, 12)}.checkpoint`;
    let checkpoint: Checkpoint;
    try {
      checkpoint = Checkpoint.open(checkpointPath, identity);
    } catch (error) {
      throw usage((error as Error).message);
    }
    const bar = progress('copy', showProgress(ctx));
    const report = await copySessions(from.store, to.store, {
      ids,
      ...(cut ? { olderThan: cut } : {}),
      concurrency,
      checkpoint,
      overwrite: ctx.values.overwrite ?? false,
      ...(ctx.io.signal ? { signal: ctx.io.signal } : {}),
      onTotal: (n) => bar.start(n),
      onSession: () => bar.tick(),
    });
    bar.stop();
    let verify: Awaited<ReturnType<typeof verifyCopy>> | undefined;
    if (ctx.values.verify && !report.interrupted) {
      const vbar = progress('verify', showProgress(ctx));
      verify = await verifyCopy(from.store, to.store, { ids, ...(cut ? { olderThan: cut } : {}), concurrency, onTotal: (n) => vbar.start(n), onSession: () => vbar.tick() });
      vbar.stop();
    }
    const rate = {
      sessionsPerSecond: Math.round((report.sessions - report.skippedByCheckpoint) / Math.max(report.seconds, 0.001)),
      itemsPerSecond: Math.round(report.items / Math.max(report.seconds, 0.001)),
    };
    if (ctx.values.json) json(ctx.io, { ...report, ...rate, checkpoint: checkpointPath, ...(verify ? { verify } : {}) });
    else {
      const c = ctx.color;
      ctx.io.stdout.write(
        `${report.interrupted ? c.yellow('interrupted') : 'copied'}: ${report.written} written, ${report.unchanged} already identical, ${report.replaced} replaced, ${report.skippedByCheckpoint} done earlier (checkpoint), ${report.failures.length} failed — ${report.items} items in ${report.seconds.toFixed(1)} s (${rate.sessionsPerSecond} sessions/s, ${rate.itemsPerSecond} items/s)\n`,
      );
      for (const f of report.failures) ctx.io.stdout.write(c.red(`failed ${f.sessionId}: [${f.code}] ${f.message}\n`));
      if (report.interrupted) ctx.io.stdout.write(`run the same command again to resume (checkpoint ${checkpointPath})\n`);
      if (verify) {
        ctx.io.stdout.write(`verify: ${verify.sessions - verify.failures.length} sessions compared, ${verify.differences.length} differences, ${verify.failures.length} unreadable\n`);
        for (const f of verify.failures.slice(0, 20)) ctx.io.stdout.write(c.red(`  ${f.sessionId}: not compared: [${f.code}] ${f.message}\n`));
        for (const d of verify.differences.slice(0, 20)) {
          ctx.io.stdout.write(c.red(`  ${d.sessionId}: source ${d.sourceCount} items, target ${d.targetCount} items\n`));
        }
      }
    }
    return report.failures.length > 0 || report.interrupted || (verify && (verify.differences.length > 0 || verify.failures.length > 0)) ? 1 : 0;
  },

  async prune(ctx) {
    const { store } = await ctx.open(ctx.positionals[0]);
    const duration = ctx.values['older-than'];
    if (!duration) throw usage('prune needs --older-than, e.g. --older-than 30d');
    if (!hasPrune(store)) throw new SessionError(SessionErrorCode.Unsupported, 'this store cannot prune');
    const deleted = await store.prune({ olderThan: olderThan(duration) });
    if (ctx.values.json) json(ctx.io, { deleted });
    else ctx.io.stdout.write(`deleted ${deleted} sessions last written more than ${duration} ago\n`);
    return 0;
  },

  async clear(ctx) {
    const { store } = await ctx.open(ctx.positionals[0]);
    const id = ctx.positionals[1];
    if (!id) throw usage('clear needs a session id');
    await store.clearSession(id);
    if (ctx.values.json) json(ctx.io, { cleared: id });
    else ctx.io.stdout.write(`cleared session ${id}\n`);
    return 0;
  },

  async rekey(ctx) {
    const [url, ...ids] = ctx.positionals;
    const opened = await ctx.open(url);
    if (!(opened.store instanceof EncryptionStore)) {
      throw usage('rekey needs a key ring: set SESSIONKIT_KEYRING or SESSIONKIT_KEYRING_FILE (or --keyring-file)');
    }
    const store = opened.store;
    const sessions = await selectSessions(opened.base, { ids });
    const bar = progress('rekey', showProgress(ctx));
    bar.start(sessions.length);
    let changed = 0;
    const failures: { sessionId: string; code: string; message: string }[] = [];
    await pool(sessions, integer(ctx.values.concurrency, '--concurrency', 4, 1), async (info) => {
      try {
        // Await first: `changed += await …` would read `changed` before the await and lose concurrent counts.
        const n = await reencryptSession(store, info.sessionId);
        changed += n;
      } catch (error) {
        if (!isSessionError(error)) throw error;
        failures.push({ sessionId: info.sessionId, code: error.code, message: error.message });
      }
      bar.tick();
    });
    bar.stop();
    if (ctx.values.json) json(ctx.io, { sessions: sessions.length, itemsReencrypted: changed, failures });
    else {
      ctx.io.stdout.write(`re-encrypted ${changed} items in ${sessions.length} sessions, ${failures.length} failed\n`);
      for (const f of failures) ctx.io.stdout.write(ctx.color.red(`failed ${f.sessionId}: [${f.code}] ${f.message}\n`));
    }
    return failures.length > 0 ? 1 : 0;
  },

  async doctor(ctx) {
    const [url, ...ids] = ctx.positionals;
    const { store, base, encrypted } = await ctx.open(url);
    // List through the base store: listing never decrypts, and a corrupt item must not hide its session.
    const sessions = await selectSessions(base, { ids });
    const bar = progress('doctor', showProgress(ctx));
    bar.start(sessions.length);
    const problems: { sessionId: string; itemCount: number; position: number; code: string; message: string }[] = [];
    let items = 0;
    // Without a key ring, envelopes read as plain JSON: say so instead of claiming they decrypt.
    let sealedWithoutKeys = 0;
    const noteSealed = encrypted ? undefined : (read: unknown[]) => {
      if (read.some((item) => typeof item === 'object' && item !== null && '$sk:enc' in item)) sealedWithoutKeys++;
    };
    await pool(sessions, 4, async (info) => {
      const found = await diagnose(store, info.sessionId, info.itemCount, noteSealed);
      items += info.itemCount;
      if (found) problems.push({ sessionId: info.sessionId, itemCount: info.itemCount, ...found });
      bar.tick();
    });
    bar.stop();
    problems.sort((a, b) => (a.sessionId < b.sessionId ? -1 : 1));
    if (ctx.values.json) json(ctx.io, { sessions: sessions.length, items, problems, ...(sealedWithoutKeys ? { encryptedSessionsNotChecked: sealedWithoutKeys } : {}) });
    else {
      ctx.io.stdout.write(`checked ${sessions.length} sessions, ${items} items: ${problems.length === 0 ? ctx.color.green('no problems') : ctx.color.red(`${problems.length} sessions with unreadable items`)}\n`);
      for (const p of problems) {
        ctx.io.stdout.write(`  ${p.sessionId}: item at position ${p.position} of ${p.itemCount} — [${p.code}] ${p.message}${p.position > 0 ? ' (older items not checked past it)' : ''}\n`);
      }
      if (sealedWithoutKeys) {
        ctx.io.stdout.write(ctx.color.yellow(`${sealedWithoutKeys} sessions hold encrypted items that were not decrypted: set SESSIONKIT_KEYRING or SESSIONKIT_KEYRING_FILE to check them\n`));
      }
    }
    return problems.length > 0 ? 1 : 0;
  },

  async stats(ctx) {
    const [url, ...ids] = ctx.positionals;
    const { store } = await ctx.open(url);
    const analytics = withAnalytics({ maxSessions: 1 })(store);
    const sessions = await selectSessions(store, { ids });
    const bar = progress('stats', showProgress(ctx));
    bar.start(sessions.length);
    const per: { sessionId: string; analytics: SessionAnalytics }[] = [];
    for (const info of sessions) {
      per.push({ sessionId: info.sessionId, analytics: await analytics.getAnalytics(info.sessionId, { refresh: true }) });
      bar.tick();
    }
    bar.stop();
    const total = sumAnalytics(per.map((p) => p.analytics));
    if (ctx.values.json) {
      json(ctx.io, { sessions: per.length, total, ...(ctx.values['per-session'] || ids.length > 0 ? { perSession: per } : {}) });
      return 0;
    }
    const line = (label: string, a: ReturnType<typeof sumAnalytics> | SessionAnalytics) =>
      `${label}: ${a.items} items, ${a.turns} turns, ${a.toolCalls} tool calls, ${a.toolOutputs} tool results, ~${a.estimatedTokens} tokens; roles ${JSON.stringify(a.byRole)}; types ${JSON.stringify(a.byType)}\n`;
    if (ctx.values['per-session'] || ids.length > 0) for (const p of per) ctx.io.stdout.write(line(p.sessionId, p.analytics));
    ctx.io.stdout.write(line(`total (${per.length} sessions)`, total));
    return 0;
  },
};

function sumAnalytics(all: readonly SessionAnalytics[]) {
  const add = (into: Record<string, number>, from: Readonly<Record<string, number>>) => {
    for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
  };
  const total = { items: 0, turns: 0, toolCalls: 0, toolOutputs: 0, estimatedTokens: 0, byRole: {} as Record<string, number>, byType: {} as Record<string, number>, toolCallsByName: {} as Record<string, number> };
  for (const a of all) {
    total.items += a.items;
    total.turns += a.turns;
    total.toolCalls += a.toolCalls;
    total.toolOutputs += a.toolOutputs;
    total.estimatedTokens += a.estimatedTokens;
    add(total.byRole, a.byRole);
    add(total.byType, a.byType);
    add(total.toolCallsByName, a.toolCallsByName);
  }
  return total;
}

/**
 * Finds the newest unreadable item of a session using only the contract:
 * `getItems({ limit: k })` reads the newest k items, so the smallest failing
 * k locates it (binary search, O(log n) reads). Items older than it cannot be
 * read through the contract, which the report says.
 */
async function diagnose(
  store: SessionStore,
  sessionId: string,
  count: number,
  onRead?: (items: unknown[]) => void,
): Promise<{ position: number; code: string; message: string } | undefined> {
  const attempt = async (limit?: number) => {
    try {
      const items = await store.getItems(sessionId, limit === undefined ? {} : { limit });
      if (limit === undefined) onRead?.(items);
      return undefined;
    } catch (error) {
      if (isSessionError(error, SessionErrorCode.CorruptData) || isSessionError(error, SessionErrorCode.DecryptionFailed)) return error;
      throw error;
    }
  };
  const whole = await attempt();
  if (!whole) return undefined;
  let low = 1;
  let high = Math.max(count, 1);
  let failure = whole;
  while (low < high) {
    const mid = Math.floor((low + high) / 2);
    const error = await attempt(mid);
    if (error) {
      high = mid;
      failure = error;
    } else low = mid + 1;
  }
  const last = await attempt(low);
  if (last) failure = last;
  return { position: Math.max(count - low, 0), code: failure.code, message: failure.message };
}
