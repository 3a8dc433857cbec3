/**
 * Real `redis-server` processes on loopback ports, for tests and benchmarks.
 * No Redis driver is used (readiness is checked over a raw socket), so this
 * module adds no dependency to the conformance kit.
 *
 * Every server started here is killed when the process exits, and a small
 * watchdog shell kills it if this process dies without running exit hooks
 * (SIGKILL, crash), so no server outlives the run.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Options for {@link startRedis}. */
export interface StartRedisOptions {
  /** The `redis-server` executable. Default: `REDIS_SERVER_BIN` or `redis-server` on PATH. */
  readonly bin?: string;
  /**
   * Persist every write to an append-only file (`appendfsync always`) so data
   * survives `restart()`. Default: false (`--save '' --appendonly no`).
   */
  readonly appendOnly?: boolean;
  /** Extra `redis-server` arguments, e.g. `['--maxmemory', '10mb']`. Default: none. */
  readonly args?: readonly string[];
  /** How long to wait for the server to answer PING. Default: 10 000 ms. */
  readonly startTimeoutMs?: number;
}

/** A running standalone server. */
export interface RedisServer {
  readonly host: string;
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** Data directory (removed by `stop()`). */
  readonly dir: string;
  /** SIGTERM and wait for exit. Idempotent. Removes the data directory unless `keepData`. */
  stop(options?: { keepData?: boolean }): Promise<void>;
  /** Stops the process (keeping its directory) if running, and starts it again on the same port. */
  restart(): Promise<void>;
  /** True while the process runs. */
  readonly running: boolean;
}

/** Options for {@link startRedisCluster}. */
export interface StartRedisClusterOptions extends Omit<StartRedisOptions, 'args'> {
  /** Number of master nodes (no replicas). Default: 3. */
  readonly masters?: number;
  /** `cluster-node-timeout` in ms. Default: 2000. */
  readonly nodeTimeoutMs?: number;
  /** `redis-cli` executable. Default: `REDIS_CLI_BIN` or `redis-cli` on PATH. */
  readonly cliBin?: string;
  /** How long to wait for `cluster_state:ok` on every node. Default: 30 000 ms. */
  readonly readyTimeoutMs?: number;
}

/** A running cluster of masters. */
export interface RedisClusterServer {
  /** One `{ host, port }` per master, the form ioredis's `Cluster` takes. */
  readonly nodes: readonly { host: string; port: number }[];
  readonly servers: readonly RedisServer[];
  /** Stops every node. Idempotent. */
  stop(): Promise<void>;
  /** Restarts every node on its port with its saved cluster config and waits for `cluster_state:ok`. */
  restart(): Promise<void>;
}

const HOST = '127.0.0.1';
const live = new Map<number, ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live.values()) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

function serverBin(bin?: string): string {
  return bin ?? process.env.REDIS_SERVER_BIN ?? 'redis-server';
}

/** Whether a `redis-server` executable can be run here. */
export function redisServerAvailable(bin?: string): boolean {
  const result = spawnSync(serverBin(bin), ['--version'], { stdio: 'ignore', timeout: 5000 });
  return result.status === 0;
}

/** A free loopback port: bind port 0, read it, release it (Redis itself has no port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

function encodeCommand(args: readonly string[]): string {
  let out = `*${args.length}\r\n`;
  for (const arg of args) out += `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`;
  return out;
}

/**
 * Sends one command over a raw socket and returns its reply as text (simple
 * string, bulk string or integer). Replies that are errors reject. Enough for
 * PING and CLUSTER INFO; not a client.
 */
export function rawRedisCommand(port: number, args: readonly string[], timeoutMs = 2000, host = HOST): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let buffer = Buffer.alloc(0);
    const done = (error: Error | undefined, value?: string) => {
      socket.destroy();
      if (error) reject(error);
      else resolve(value ?? '');
    };
    socket.setTimeout(timeoutMs, () => done(new Error('redis command timed out')));
    socket.once('error', (error) => done(error));
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      const text = buffer.toString('utf8');
      const lineEnd = text.indexOf('\r\n');
      if (lineEnd < 0) return;
      const type = text[0];
      const line = text.slice(1, lineEnd);
      if (type === '+' || type === ':') return done(undefined, line);
      if (type === '-') return done(new Error(line));
      if (type === '$') {
        const length = Number(line);
        if (length < 0) return done(undefined, '');
        const start = Buffer.byteLength(text.slice(0, lineEnd + 2));
        if (buffer.length < start + length + 2) return;
        return done(undefined, buffer.subarray(start, start + length).toString('utf8'));
      }
      // RESP3 verbatim string (`=`), as CLUSTER INFO may answer on RESP3 connections.
      if (type === '=') {
        const length = Number(line);
        const start = Buffer.byteLength(text.slice(0, lineEnd + 2));
        if (buffer.length < start + length + 2) return;
        return done(undefined, buffer.subarray(start + 4, start + length).toString('utf8'));
      }
      return done(new Error(`unexpected reply type ${type}`));
    });
    socket.connect(port, host, () => socket.write(encodeCommand(args)));
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error;
    }
    await sleep(25);
  }
  throw new Error(`timed out waiting for ${what}`, { cause: lastError });
}

/** Kills `pid` if this process (`parent`) dies without running its exit hooks. */
function spawnWatchdog(pid: number): ChildProcess {
  const script = `while kill -0 ${process.pid} 2>/dev/null && kill -0 ${pid} 2>/dev/null; do sleep 1; done; kill -9 ${pid} 2>/dev/null`;
  const watchdog = spawn('sh', ['-c', script], { stdio: 'ignore', detached: true });
  watchdog.unref();
  return watchdog;
}

interface ServerSpec {
  bin: string;
  /** Config file given before every other argument (Sentinel needs a writable one). */
  configFile?: string;
  port: number;
  dir: string;
  args: string[];
  startTimeoutMs: number;
}

function launch(spec: ServerSpec): Promise<ChildProcess> {
  installExitHook();
  const args = [
    ...(spec.configFile ? [spec.configFile] : []),
    '--port', String(spec.port),
    '--bind', HOST,
    '--dir', spec.dir,
    '--save', '',
    '--daemonize', 'no',
    '--protected-mode', 'no',
    '--logfile', '',
    ...spec.args,
  ];
  const child = spawn(spec.bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-2000);
  });
  return new Promise((resolve, reject) => {
    let exited = false;
    child.once('error', (error) => {
      exited = true;
      reject(error);
    });
    child.once('exit', (code) => {
      exited = true;
      if (child.pid !== undefined) live.delete(child.pid);
      reject(new Error(`redis-server exited early (code ${code}): ${stderr}`));
    });
    if (child.pid === undefined) return;
    live.set(child.pid, child);
    const watchdog = spawnWatchdog(child.pid);
    child.once('exit', () => {
      try {
        watchdog.kill('SIGKILL');
      } catch {
        // already gone
      }
    });
    waitFor('redis-server to answer PING', spec.startTimeoutMs, async () => {
      if (exited) throw new Error('exited');
      return (await rawRedisCommand(spec.port, ['PING'], 500)) === 'PONG';
    }).then(
      () => resolve(child),
      (error) => {
        child.kill('SIGKILL');
        reject(error);
      },
    );
  });
}

function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

async function startOn(spec: ServerSpec): Promise<RedisServer> {
  let child: ChildProcess | undefined = await launch(spec);
  let removed = false;
  const server: RedisServer = {
    host: HOST,
    port: spec.port,
    url: `redis://${HOST}:${spec.port}`,
    dir: spec.dir,
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    async stop(options = {}) {
      if (child) await terminate(child);
      child = undefined;
      if (!options.keepData && !removed) {
        removed = true;
        rmSync(spec.dir, { recursive: true, force: true });
      }
    },
    async restart() {
      if (child) await terminate(child);
      child = undefined;
      child = await launch(spec);
    },
  };
  return server;
}

/**
 * Starts a standalone `redis-server` on a free loopback port with its own
 * temporary directory, and waits until it answers PING.
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sessionkit-redis-'));
  const args = [
    ...(options.appendOnly ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
    ...(options.args ?? []),
  ];
  try {
    return await startOn({ bin: serverBin(options.bin), port, dir, args, startTimeoutMs: options.startTimeoutMs ?? 10_000 });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

async function clusterOk(ports: readonly number[]): Promise<boolean> {
  for (const port of ports) {
    const info = await rawRedisCommand(port, ['CLUSTER', 'INFO'], 1000);
    if (!/cluster_state:ok/.test(info)) return false;
  }
  return true;
}

/**
 * Starts `masters` cluster-enabled servers, joins them with
 * `redis-cli --cluster create … --cluster-replicas 0`, and waits until every
 * node reports `cluster_state:ok`.
 */
export async function startRedisCluster(options: StartRedisClusterOptions = {}): Promise<RedisClusterServer> {
  const masters = options.masters ?? 3;
  const bin = serverBin(options.bin);
  const cli = options.cliBin ?? process.env.REDIS_CLI_BIN ?? 'redis-cli';
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  const servers: RedisServer[] = [];
  try {
    for (let i = 0; i < masters; i++) {
      const port = await freePort();
      const dir = mkdtempSync(join(tmpdir(), 'sessionkit-redis-cluster-'));
      const args = [
        ...(options.appendOnly ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
        '--cluster-enabled', 'yes',
        '--cluster-config-file', join(dir, 'nodes.conf'),
        '--cluster-node-timeout', String(options.nodeTimeoutMs ?? 2000),
      ];
      try {
        servers.push(await startOn({ bin, port, dir, args, startTimeoutMs: options.startTimeoutMs ?? 10_000 }));
      } catch (error) {
        rmSync(dir, { recursive: true, force: true });
        throw error;
      }
    }
    const ports = servers.map((s) => s.port);
    const created = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
      const child = spawn(
        cli,
        ['--cluster', 'create', ...ports.map((p) => `${HOST}:${p}`), '--cluster-replicas', '0', '--cluster-yes'],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let output = '';
      child.stdout?.on('data', (c: Buffer) => (output = (output + c.toString('utf8')).slice(-4000)));
      child.stderr?.on('data', (c: Buffer) => (output = (output + c.toString('utf8')).slice(-4000)));
      child.once('error', reject);
      child.once('exit', (code) => resolve({ code, output }));
    });
    if (created.code !== 0) throw new Error(`redis-cli --cluster create failed: ${created.output}`);
    await waitFor('cluster_state:ok on every node', readyTimeoutMs, () => clusterOk(ports));
    return {
      nodes: servers.map((s) => ({ host: s.host, port: s.port })),
      servers,
      async stop() {
        await Promise.all(servers.map((s) => s.stop()));
      },
      async restart() {
        await Promise.all(servers.map((s) => s.stop({ keepData: true })));
        await Promise.all(servers.map((s) => s.restart()));
        await waitFor('cluster_state:ok on every node', readyTimeoutMs, () => clusterOk(ports));
      },
    };
  } catch (error) {
    await Promise.all(servers.map((s) => s.stop()));
    throw error;
  }
}

/** Options for {@link startRedisSentinel}. */
export interface StartRedisSentinelOptions extends Pick<StartRedisOptions, 'bin' | 'startTimeoutMs'> {
  /** The master to monitor, e.g. a server from {@link startRedis}. */
  readonly master: { readonly host: string; readonly port: number };
  /** The master's name in Sentinel. Default: `'mymaster'`. */
  readonly name?: string;
}

/** A running Sentinel. */
export interface RedisSentinelServer extends RedisServer {
  /** The monitored master's name. */
  readonly name: string;
  /** `[{ host, port }]`, the form ioredis's `sentinels` option takes. */
  readonly sentinels: readonly { host: string; port: number }[];
}

/**
 * Starts one `redis-server --sentinel` (quorum 1) monitoring `master`, and
 * waits until it answers PING.
 */
export async function startRedisSentinel(options: StartRedisSentinelOptions): Promise<RedisSentinelServer> {
  const name = options.name ?? 'mymaster';
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'sessionkit-redis-sentinel-'));
  const configFile = join(dir, 'sentinel.conf');
  writeFileSync(configFile, `sentinel monitor ${name} ${options.master.host} ${options.master.port} 1\n`);
  const startTimeoutMs = options.startTimeoutMs ?? 10_000;
  try {
    const server = await startOn({ bin: serverBin(options.bin), configFile, port, dir, args: ['--sentinel'], startTimeoutMs });
    // The master's address comes from the config file, so Sentinel can answer as soon as it answers PING.
    return Object.assign(server, { name, sentinels: [{ host: HOST, port }] });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
