import { describeConformance } from '@sessionkit/conformance';
import { afterAll, describe, it } from 'vitest';
import { redisHarness } from './harness.js';
import { buildHint, clusterAvailable, clusterTarget, distAvailable, skipLine } from './setup.js';

if (typeof describeConformance !== 'function') {
  // The kit is built alongside this package; until it exports the suite, say so loudly.
  console.warn('!!! SKIPPED redis cluster conformance: @sessionkit/conformance does not export describeConformance yet');
  describe.skip('RedisStore (cluster) conformance', () => it('needs describeConformance', () => {}));
} else if (clusterAvailable) {
  if (!distAvailable) console.warn(`!!! redis cluster conformance: cross-process tests disabled, ${buildHint}`);
  const harness = redisHarness('cluster', () => clusterTarget());
  // Also stops the nodes when the suite fails before its own teardown.
  afterAll(() => harness.stop());
  describeConformance('RedisStore (3-master cluster)', harness);
} else {
  console.warn(skipLine('redis cluster conformance'));
  describe.skip('RedisStore (cluster) conformance', () => it('needs redis-server or REDIS_CLUSTER_NODES', () => {}));
}
