/**
 * Decorators composed on Postgres: encryption (innermost), monitoring and
 * cache, through the whole conformance suite. One handle per store (no
 * reopen or processes: a cache in front of other writers needs revalidate
 * mode, which the sqlite stack tests cover).
 */
import { describeConformance } from '@sessionkit/conformance';
import { compose, withCache, withEncryption, withMonitoring } from '@sessionkit/core';
import { PostgresStore } from '@sessionkit/postgres';
import { afterAll, describe, it } from 'vitest';
import { postgresTarget, skipLine, uniqueSchema } from './server.js';

const target = await postgresTarget();
if ('skip' in target) {
  console.warn(skipLine('postgres decorator stack conformance', target.skip));
  describe.skip('encryption+monitoring+cache on PostgresStore', () => it('needs PostgreSQL', () => {}));
} else {
  afterAll(() => target.stop(), 60_000);
  const keys = { k1: new Uint8Array(32).fill(7) };
  describeConformance('encryption+monitoring+cache on PostgresStore', {
    create: (options = {}) =>
      compose(
        new PostgresStore({ connectionString: target.url, schema: uniqueSchema('stack'), ...(options.ttl !== undefined ? { ttl: options.ttl } : {}) }),
        withEncryption({ keys, primary: 'k1' }),
        withMonitoring({ onOperation: () => undefined }),
        withCache({ maxSessions: 100 }),
      ),
  });
}
