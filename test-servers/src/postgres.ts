/**
 * A real PostgreSQL server on a loopback port, for tests and benchmarks:
 * `initdb` into a temp directory and `pg_ctl start`, as the `postgres` user
 * when running as root (PostgreSQL refuses to run as root). No driver is
 * used here; callers connect with the returned URL.
 *
 * `POSTGRES_URL` set: {@link startPostgres} is not needed; callers use
 * {@link postgresFromEnv} first.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './redis.js';

/** Options for {@link startPostgres}. */
export interface StartPostgresOptions {
  /** Directory holding `initdb` and `pg_ctl`. Default: `POSTGRES_BIN_DIR`, else the newest `/usr/lib/postgresql/<n>/bin`. */
  readonly binDir?: string;
  /** How long `pg_ctl start` may wait for the server to accept connections. Default: 30 s. */
  readonly startTimeoutSeconds?: number;
  /** Extra `-c name=value` server settings, e.g. `{ max_connections: '200' }`. Default: none. */
  readonly settings?: Readonly<Record<string, string>>;
}

/** A running server. */
export interface PostgresServer {
  readonly host: string;
  readonly port: number;
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust authentication). */
  readonly url: string;
  /** Temp directory with the data directory, socket and log (removed by `stop()`). */
  readonly dir: string;
  /** Fast shutdown and wait. Idempotent. Removes the directory unless `keepData`. */
  stop(options?: { keepData?: boolean }): Promise<void>;
  /** Fast shutdown (keeping the data) and start again on the same port. */
  restart(): Promise<void>;
  /** Fast shutdown, keeping the data, without starting again (see `start`). */
  halt(): Promise<void>;
  /** Starts a halted server again on the same port. */
  start(): Promise<void>;
  readonly running: boolean;
}

const HOST = '127.0.0.1';

/** The directory with PostgreSQL's server binaries, or undefined when none is installed. */
export function postgresBinDir(binDir?: string): string | undefined {
  const explicit = binDir ?? process.env.POSTGRES_BIN_DIR;
  if (explicit) return existsSync(join(explicit, 'pg_ctl')) ? explicit : undefined;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
}

const isRoot = (): boolean => process.getuid?.() === 0;

/** Runs a PostgreSQL binary, as the `postgres` user when this process is root. */
function runPg(bin: string, args: readonly string[], timeoutMs = 60_000): void {
  const [cmd, argv] = isRoot() ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, [...args]];
  const result = spawnSync(cmd, argv, { encoding: 'utf8', timeout: timeoutMs });
  if (result.status !== 0) {
    throw new Error(`${bin} ${args.join(' ')} failed (${result.status ?? result.signal}): ${(result.stderr || result.stdout || String(result.error ?? '')).trim().slice(-1500)}`);
  }
}

/** Why a server cannot be started here, or undefined when it can be tried. */
export function postgresUnavailableReason(binDir?: string): string | undefined {
  if (!postgresBinDir(binDir)) return 'no PostgreSQL server binaries (apt-get install -y postgresql, or set POSTGRES_BIN_DIR)';
  if (isRoot() && spawnSync('id', ['-u', 'postgres'], { stdio: 'ignore' }).status !== 0) {
    return 'running as root and there is no `postgres` user to run the server as';
  }
  return undefined;
}

/**
 * initdb (trust auth, UTF-8) into a fresh temp directory and start the server
 * on a free loopback port, listening on TCP only on 127.0.0.1 and with its
 * Unix socket in that directory. Throws with the tool's output when it cannot.
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const bin = postgresBinDir(options.binDir);
  if (!bin) throw new Error(postgresUnavailableReason(options.binDir));
  const dir = mkdtempSync(join(tmpdir(), 'sessionkit-pg-'));
  chmodSync(dir, 0o755);
  if (isRoot()) {
    const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  runPg(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync', '--locale=C']);
  const port = await freePort();
  const settings = { listen_addresses: HOST, fsync: 'off', ...options.settings };
  const serverOptions = [`-p ${port}`, `-k ${dir}`, ...Object.entries(settings).map(([k, v]) => `-c ${k}=${v}`)].join(' ');
  let running = false;
  const pgCtl = join(bin, 'pg_ctl');
  const timeout = String(options.startTimeoutSeconds ?? 30);
  const start = async () => {
    runPg(pgCtl, ['-D', data, '-w', '-t', timeout, '-o', serverOptions, '-l', join(dir, 'log'), 'start']);
    running = true;
  };
  const halt = async () => {
    if (!running) return;
    runPg(pgCtl, ['-D', data, '-m', 'fast', '-w', 'stop']);
    running = false;
  };
  let stopped = false;
  const stop = async (stopOptions: { keepData?: boolean } = {}) => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', onExit);
    await halt();
    if (!stopOptions.keepData) rmSync(dir, { recursive: true, force: true });
  };
  // A test run that dies without teardown must not leave a server behind.
  const onExit = () => {
    if (running) spawnSync(isRoot() ? 'runuser' : pgCtl, isRoot() ? ['-u', 'postgres', '--', pgCtl, '-D', data, '-m', 'immediate', 'stop'] : ['-D', data, '-m', 'immediate', 'stop']);
  };
  process.on('exit', onExit);
  try {
    await start();
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    host: HOST,
    port,
    url: `postgres://postgres@${HOST}:${port}/postgres`,
    dir,
    stop,
    restart: async () => {
      await halt();
      await start();
    },
    halt,
    start,
    get running() {
      return running;
    },
  };
}
