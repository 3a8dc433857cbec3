/**
 * The server-test target: a MONGODB_URI that is set but unreachable must fail
 * the run, not skip it. No MongoDB needed: a real closed loopback port.
 */
import { freePort } from '@sessionkit/test-servers';
import { describe, expect, it } from 'vitest';
import { failLine, mongoTarget } from './server.js';

// A real closed port (freePort: bound, read, released). Nothing listens there, so the
// driver's connection attempts are refused by the kernel, not by a fake.
const closedPort = freePort;

describe('mongoTarget (no MongoDB needed)', () => {
  it('an explicitly set but unreachable MONGODB_URI is a failure naming MONGODB_URI, not a skip', async () => {
    const result = await mongoTarget({ uri: `mongodb://127.0.0.1:${await closedPort()}/?directConnection=true`, timeoutMS: 300 });
    expect(result).not.toHaveProperty('skip');
    expect(result).not.toHaveProperty('target');
    expect('fail' in result && result.fail).toMatch(/MongoServerSelectionError/);
    if ('fail' in result) expect(failLine(result.fail)).toMatch(/^!!! FAILED .*MONGODB_URI is set but unusable/);
  });

  it('a malformed MONGODB_URI fails too', async () => {
    const result = await mongoTarget({ uri: 'not-a-mongodb-uri', timeoutMS: 300 });
    expect(result).toHaveProperty('fail');
  });
});
