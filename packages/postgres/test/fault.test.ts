/**
 * The server is stopped and started again while a writer runs: calls fail
 * with BACKEND_UNAVAILABLE (never hang, never another code), and every
 * append that was acknowledged is there afterwards.
 */
import { SessionError, SessionErrorCode } from '@sessionkit/core';
import { PostgresStore } from '@sessionkit/postgres';
import { postgresUnavailableReason, startPostgres } from '@sessionkit/test-servers';
import { describe, expect, it } from 'vitest';
import { skipLine, uniqueSchema } from './server.js';

const reason = postgresUnavailableReason();
if (reason) {
  console.warn(skipLine('postgres fault test (needs a server it may stop)', reason));
  describe.skip('PostgresStore across a server restart', () => it('needs PostgreSQL', () => {}));
} else {
  describe('PostgresStore across a server restart', () => {
    it('typed errors while the server is down, no hang, nothing acknowledged lost', async () => {
      const server = await startPostgres();
      const store = new PostgresStore({
        connectionString: server.url,
        schema: uniqueSchema('fault'),
        poolConfig: { max: 4, connectionTimeoutMillis: 2000 },
      });
      try {
        const acknowledged: number[] = [];
        const codes = new Set<string>();
        let n = 0;
        let stop = false;
        const writer = (async () => {
          while (!stop) {
            const value = n++;
            try {
              await store.addItems('s', [{ value }]);
              acknowledged.push(value);
            } catch (error) {
              expect(SessionError.is(error)).toBe(true);
              codes.add((error as SessionError).code);
              await new Promise((r) => setTimeout(r, 50));
            }
          }
        })();
        await new Promise((r) => setTimeout(r, 500));
        await server.halt();
        await new Promise((r) => setTimeout(r, 1000));
        await expect(store.getItems('s')).rejects.toMatchObject({ code: SessionErrorCode.BackendUnavailable });
        await server.start();
        await new Promise((r) => setTimeout(r, 1000));
        stop = true;
        await writer;
        expect([...codes]).toEqual([SessionErrorCode.BackendUnavailable]);
        const stored = ((await store.getItems('s')) as { value: number }[]).map((x) => x.value);
        for (const value of acknowledged) expect(stored).toContain(value);
        expect(acknowledged.length).toBeGreaterThan(0);
      } finally {
        await store.close();
        await server.stop();
      }
    }, 120_000);
  });
}
