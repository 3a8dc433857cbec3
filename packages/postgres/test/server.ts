/** The PostgreSQL the tests talk to: POSTGRES_URL when set, else a server started here. */
import { fileURLToPath } from 'node:url';
import { ensureBuilt as build, postgresUnavailableReason, startPostgres, type PostgresServer } from '@sessionkit/test-servers';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
export const openStoreModule = fileURLToPath(new URL('./fixtures/open-store.mjs', import.meta.url));
export const migrateModule = fileURLToPath(new URL('./fixtures/migrate.mjs', import.meta.url));

/** Child processes import the built package; a bare `vitest run` on a fresh tree builds it once. */
export const ensureBuilt = (): void => void build(packageDir, '@sessionkit/postgres');

export interface PostgresTarget {
  readonly url: string;
  /** The server started here (absent with POSTGRES_URL), for fault tests. */
  readonly server?: PostgresServer;
  stop(): Promise<void>;
}

/** The one loud line printed when the suite cannot run. */
export function skipLine(what: string, reason: string): string {
  return `!!! SKIPPED ${what}: ${reason}. Enable: apt-get install -y postgresql (tests start it themselves), or set POSTGRES_URL=postgres://... to use an existing server.`;
}

/** Resolves where the tests run, or why they cannot. */
export async function postgresTarget(): Promise<PostgresTarget | { skip: string }> {
  const url = process.env.POSTGRES_URL;
  if (url) return { url, stop: async () => undefined };
  const reason = postgresUnavailableReason();
  if (reason) return { skip: reason };
  try {
    const server = await startPostgres({ settings: { max_connections: '400' } });
    return { url: server.url, server, stop: () => server.stop() };
  } catch (error) {
    return { skip: `PostgreSQL could not be started: ${(error as Error).message.split('\n')[0]}` };
  }
}

let counter = 0;
/** A schema name no other store in this run uses. */
export function uniqueSchema(label = 't'): string {
  return `${label}_${process.pid}_${Date.now().toString(36)}_${++counter}`;
}
