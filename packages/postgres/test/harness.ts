import { trackLocations, type ConformanceHarness } from '@sessionkit/conformance';
import { newEpoch } from '@sessionkit/core/adapter';
import { PostgresStore } from '@sessionkit/postgres';
import { tableNames } from '../src/schema.js';
import pg from 'pg';
import { ensureBuilt, openStoreModule, uniqueSchema } from './server.js';

export interface Location {
  readonly url: string;
  readonly schema: string;
  readonly ttl?: number;
  readonly tablePrefix?: string;
}

export function openStore(location: Location): PostgresStore {
  return new PostgresStore({
    connectionString: location.url,
    schema: location.schema,
    ...(location.ttl !== undefined ? { ttl: location.ttl } : {}),
    ...(location.tablePrefix !== undefined ? { tablePrefix: location.tablePrefix } : {}),
  });
}

/**
 * Appends one undecodable item at the end of a session's history through a
 * separate connection, past the codec, keeping the session row in step as
 * the store would.
 */
export async function injectCorruptRow(url: string, schema: string, sessionId: string, text = '{"corrupt": '): Promise<void> {
  const t = tableNames(schema, 'sessionkit_');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const now = Date.now();
    await client.query(
      `WITH s AS (
         INSERT INTO ${t.sessions} AS s (session_id, created_at, updated_at, item_count, last_seq, epoch) VALUES ($1, $2, $2, 1, 1, $4)
         ON CONFLICT (session_id) DO UPDATE SET item_count = s.item_count + 1, last_seq = s.last_seq + 1, updated_at = $2,
           created_at = CASE WHEN s.item_count = 0 THEN $2 ELSE s.created_at END
         RETURNING sid, last_seq)
       INSERT INTO ${t.items} (sid, seq, item) SELECT sid, last_seq, $3 FROM s`,
      [Buffer.from(sessionId, 'utf8'), now, text, newEpoch()],
    );
  } finally {
    await client.end();
  }
}

/** PostgresStore on a fresh schema per store; reopen and child processes open the same schema. */
export function postgresHarness(url: string): ConformanceHarness {
  ensureBuilt();
  const { open, locationOf } = trackLocations((location: Location) => openStore(location));
  return {
    create: (options = {}) => open({ url, schema: uniqueSchema('c'), ...(options.ttl !== undefined ? { ttl: options.ttl } : {}) }),
    reopen: (store) => open(locationOf(store)),
    processes: { module: openStoreModule, exportName: 'openStore', location: locationOf },
    injectCorruptItem: async (store, sessionId) => injectCorruptRow(url, locationOf(store).schema, sessionId),
  };
}
