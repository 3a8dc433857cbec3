/**
 * A real PgBouncer in front of the test PostgreSQL, in transaction pooling
 * mode with fewer server connections than the store's pool has clients, so
 * consecutive statements of one client land on different server connections.
 * Used to prove the store's defaults work behind it: behind Debian 12's
 * PgBouncer (1.18, apt-get install -y pgbouncer) and behind the newer one
 * `scripts/pgbouncer.sh` builds into .tools (1.24.1; Debian 12 packages
 * nothing newer). No usable binary: the caller skips with one loud line.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@sessionkit/test-servers';
import pg from 'pg';

/** Where scripts/pgbouncer.sh puts the PgBouncer it builds. */
const BUILT = fileURLToPath(new URL('../../../.tools/pgbouncer/bin/pgbouncer', import.meta.url));

/** The PgBouncer binaries to run behind: `PGBOUNCER_BINS` (colon-separated), else the system's and the built one. */
export const pgbouncerBinaries: readonly string[] = process.env.PGBOUNCER_BINS
  ? process.env.PGBOUNCER_BINS.split(':').filter((path) => path !== '')
  : ['/usr/sbin/pgbouncer', BUILT];

export const pgbouncerHint =
  'apt-get install -y pgbouncer for 1.18 on Debian 12, bash scripts/pgbouncer.sh to build a newer one into .tools (scripts/test.sh does both), or list binaries in PGBOUNCER_BINS';

export interface Bouncer {
  readonly url: string;
  /** `major.minor` of the running PgBouncer, e.g. 1.18. */
  readonly version: number;
  stop(): Promise<void>;
}

/** Why PgBouncer at `bin` cannot be started here, or undefined. */
export function pgbouncerUnavailableReason(bin: string): string | undefined {
  if (!existsSync(bin)) return `no PgBouncer binary at ${bin}`;
  if (process.getuid?.() === 0 && spawnSync('id', ['-u', 'postgres'], { stdio: 'ignore' }).status !== 0) {
    return 'running as root and there is no `postgres` user to run PgBouncer as';
  }
  return undefined;
}

/** `major.minor` of the PgBouncer at `bin`, e.g. 1.18 (NaN when it cannot tell). */
export function pgbouncerVersion(bin: string): number {
  const [, major, minor] = /PgBouncer (\d+)\.(\d+)/.exec(spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout ?? '') ?? [];
  return Number(`${major}.${minor}`);
}

/**
 * Starts the PgBouncer at `bin` for the server at `serverUrl` (trust auth, user postgres).
 * `settings` go into the [pgbouncer] section (e.g. max_prepared_statements).
 */
export async function startPgbouncer(bin: string, serverUrl: string, settings: Record<string, string> = {}): Promise<Bouncer> {
  const server = new URL(serverUrl);
  const version = pgbouncerVersion(bin);
  const dir = mkdtempSync(join(tmpdir(), 'sessionkit-pgbouncer-'));
  const port = await freePort();
  const asRoot = process.getuid?.() === 0;
  writeFileSync(join(dir, 'userlist.txt'), '"postgres" ""\n');
  const config = {
    listen_addr: '127.0.0.1',
    listen_port: String(port),
    unix_socket_dir: '',
    auth_type: 'trust',
    auth_file: join(dir, 'userlist.txt'),
    pool_mode: 'transaction',
    // Two server connections for up to eight clients: a client's next statement usually runs on the other one.
    default_pool_size: '2',
    max_client_conn: '200',
    logfile: join(dir, 'pgbouncer.log'),
    pidfile: join(dir, 'pgbouncer.pid'),
    ...settings,
  };
  writeFileSync(
    join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `postgres = host=${server.hostname} port=${server.port} dbname=postgres user=postgres`,
      '[pgbouncer]',
      ...Object.entries(config).map(([k, v]) => `${k} = ${v}`),
      '',
    ].join('\n'),
  );
  let run = bin;
  if (asRoot) {
    const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    for (const path of [dir, join(dir, 'userlist.txt'), join(dir, 'pgbouncer.ini')]) chownSync(path, uid, gid);
    // A binary built into the checkout (.tools) may sit under a directory the postgres user cannot enter (/root).
    run = join(dir, 'pgbouncer');
    copyFileSync(bin, run);
    chmodSync(run, 0o755);
  }
  const [cmd, args] = asRoot
    ? ['runuser', ['-u', 'postgres', '--', run, join(dir, 'pgbouncer.ini')]]
    : [run, [join(dir, 'pgbouncer.ini')]];
  const child: ChildProcess = spawn(cmd, args, { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // Ready when a query goes through it.
  const deadline = Date.now() + 15_000;
  for (;;) {
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.query('SELECT 1');
      await client.end();
      return { url, version, stop };
    } catch (error) {
      await client.end().catch(() => undefined);
      if (Date.now() > deadline || child.exitCode !== null) {
        await stop();
        throw new Error(`PgBouncer did not start: ${(error as Error).message}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
