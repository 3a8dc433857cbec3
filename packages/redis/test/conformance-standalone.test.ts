import { describeConformance } from '@sessionkit/conformance';
import { afterAll, describe, it } from 'vitest';
import { redisHarness } from './harness.js';
import { buildHint, distAvailable, skipLine, standaloneAvailable, standaloneTarget } from './setup.js';

if (typeof describeConformance !== 'function') {
  // The kit is built alongside this package; until it exports the suite, say so loudly.
  console.warn('!!! SKIPPED redis standalone conformance: @sessionkit/conformance does not export describeConformance yet');
  describe.skip('RedisStore (standalone) conformance', () => it('needs describeConformance', () => {}));
} else if (standaloneAvailable) {
  if (!distAvailable) console.warn(`!!! redis conformance: cross-process tests disabled, ${buildHint}`);
  const harness = redisHarness('standalone', () => standaloneTarget());
  // Also stops the server when the suite fails before its own teardown.
  afterAll(() => harness.stop());
  describeConformance('RedisStore (standalone)', harness);
} else {
  console.warn(skipLine('redis standalone conformance'));
  describe.skip('RedisStore (standalone) conformance', () => it('needs redis-server or REDIS_URL', () => {}));
}
