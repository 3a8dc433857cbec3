/**
 * The conformance suite on a real PostgreSQL (started here, or POSTGRES_URL),
 * cross-process tests included. Without a server: one loud line, skipped.
 */
import { describeConformance } from '@sessionkit/conformance';
import { afterAll, describe, it } from 'vitest';
import { postgresHarness } from './harness.js';
import { postgresTarget, skipLine } from './server.js';

const target = await postgresTarget();
if ('skip' in target) {
  console.warn(skipLine('postgres conformance', target.skip));
  describe.skip('PostgresStore conformance', () => it('needs PostgreSQL', () => {}));
} else {
  afterAll(() => target.stop(), 60_000);
  describeConformance('PostgresStore', postgresHarness(target.url));
}
