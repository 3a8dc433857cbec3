/**
 * queryTimeout on a real server that stops answering: the backend process
 * serving the store's connection is frozen (SIGSTOP), so the server neither
 * answers nor closes the socket, as a stalled host would. Calls fail with
 * BACKEND_UNAVAILABLE at the limit instead of hanging, the stalled connection
 * is dropped, and the next call runs on a fresh one.
 */
import { SessionErrorCode } from '@sessionkit/core';
import { PostgresStore } from '@sessionkit/postgres';
import { postgresUnavailableReason, startPostgres, type PostgresServer } from '@sessionkit/test-servers';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipLine, uniqueSchema } from './server.js';

describe('queryTimeout: the option', () => {
  it.each([-1, 1.5, '100', Number.NaN])('%s is INVALID_ARGUMENT before any connection', (queryTimeout) => {
    expect(() => new PostgresStore({ connectionString: 'postgres://127.0.0.1:1/x', queryTimeout: queryTimeout as number })).toThrow(
      expect.objectContaining({ code: SessionErrorCode.InvalidArgument }),
    );
  });

  it('0 (no limit) is accepted', async () => {
    const store = new PostgresStore({ connectionString: 'postgres://127.0.0.1:1/x', queryTimeout: 0 });
    await store.close();
  });
});

const reason = postgresUnavailableReason();
if (reason) {
  console.warn(skipLine('postgres queryTimeout tests (need a server whose backends they may freeze)', reason));
  describe.skip('queryTimeout on a stalled server', () => it('needs PostgreSQL', () => {}));
} else {
  describe('queryTimeout on a stalled server', () => {
    let server: PostgresServer;
    const frozen: number[] = [];
    beforeAll(async () => {
      server = await startPostgres();
    }, 60_000);
    afterAll(async () => {
      for (const pid of frozen) {
        try {
          process.kill(pid, 'SIGCONT');
        } catch {
          // Already gone.
        }
      }
      await server?.stop();
    });

    /** Freezes the backend behind the pool's one connection; returns its pid. */
    async function freeze(pool: pg.Pool): Promise<number> {
      const { rows } = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      const pid = rows[0]!.pid;
      process.kill(pid, 'SIGSTOP');
      frozen.push(pid);
      return pid;
    }

    async function timed<T>(call: () => Promise<T>): Promise<{ error: unknown; ms: number }> {
      const started = performance.now();
      try {
        await call();
        return { error: undefined, ms: performance.now() - started };
      } catch (error) {
        return { error, ms: performance.now() - started };
      }
    }

    /** A store on a pool of one connection, so a frozen backend is the one the store's next statement goes to. */
    function onOneConnection(label: string, queryTimeout: number) {
      const pool = new pg.Pool({ connectionString: server.url, max: 1 });
      pool.on('error', () => undefined);
      const store = new PostgresStore({ pool, schema: uniqueSchema(label), queryTimeout });
      const close = async () => {
        await store.close();
        await pool.end();
      };
      return { pool, store, close };
    }

    it('a read and a write the server does not answer fail with BACKEND_UNAVAILABLE at the limit; the next call runs on a fresh connection', async () => {
      const { pool, store, close } = onOneConnection('qt', 500);
      try {
        await store.addItems('s', [{ n: 1 }]);
        await freeze(pool);
        const read = await timed(() => store.getItems('s'));
        expect(read.error).toMatchObject({ code: SessionErrorCode.BackendUnavailable, message: 'postgres did not answer within queryTimeout' });
        expect(read.ms).toBeGreaterThanOrEqual(450);
        // Bounded by the limit plus scheduling; without one the call would wait for the socket to die.
        expect(read.ms).toBeLessThan(5_000);
        // The stalled connection was closed, not handed back to the pool: the next statements get a new backend.
        await store.addItems('s', [{ n: 2 }]);
        expect(await store.getItems('s')).toEqual([{ n: 1 }, { n: 2 }]);

        await freeze(pool);
        const write = await timed(() => store.addItems('s', [{ n: 3 }]));
        expect(write.error).toMatchObject({ code: SessionErrorCode.BackendUnavailable });
        expect(write.ms).toBeLessThan(5_000);
        // The frozen backend never ran the append (it was stopped before the statement arrived).
        expect(await store.getItems('s')).toEqual([{ n: 1 }, { n: 2 }]);
      } finally {
        await close();
      }
    }, 60_000);

    it('a contended pop whose row-lock wait passes the limit fails at the limit, not twice it: no ROLLBACK is queued behind the stalled statement', async () => {
      const limit = 1_500;
      const schema = uniqueSchema('qtlock');
      const store = new PostgresStore({ connectionString: server.url, schema, queryTimeout: limit });
      // holder: a writer that moves the session's version under the pop; blocker: takes the row lock next; watch: sees who waits.
      const newClient = () => new pg.Client({ connectionString: server.url });
      const [holder, blocker, watch] = [newClient(), newClient(), newClient()];
      const sessions = `"${schema}"."sessionkit_sessions"`;
      const id = Buffer.from('s', 'utf8');
      /** Waits until `n` backends of this server wait on a lock. */
      const lockWaiters = async (n: number) => {
        for (let i = 0; i < 500; i++) {
          const { rows } = await watch.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock'`);
          if (rows[0]!.n >= n) return;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        throw new Error(`never saw ${n} lock waiters`);
      };
      try {
        for (const client of [holder, blocker, watch]) await client.connect();
        await store.addItems('s', [{ n: 1 }, { n: 2 }]);
        await holder.query('BEGIN');
        await holder.query(`UPDATE ${sessions} SET last_seq = last_seq + 1 WHERE session_id = $1`, [id]);
        // The pop's one statement waits on the holder's row lock, then finds the version moved: a lost race,
        // so the pop goes on in a transaction that locks the row first (#locked).
        const pop = store.popItem('s').then(
          () => undefined,
          (error: unknown) => error,
        );
        await lockWaiters(1);
        await blocker.query('BEGIN');
        const locked = blocker.query(`SELECT 1 FROM ${sessions} WHERE session_id = $1 FOR UPDATE`, [id]);
        await lockWaiters(2);
        // Row-lock waiters are served in order: the pop's statement first, then the blocker, which keeps
        // the lock, so the pop's own lock statement in its transaction waits past the limit.
        const committed = performance.now();
        await holder.query('COMMIT');
        await locked;
        const error = await pop;
        const ms = performance.now() - committed;
        expect(error).toMatchObject({ code: SessionErrorCode.BackendUnavailable, message: 'postgres did not answer within queryTimeout' });
        expect(ms).toBeGreaterThanOrEqual(limit - 100);
        // A ROLLBACK on that connection would wait behind the lock wait and time out as well (twice the limit).
        expect(ms).toBeLessThan(limit * 1.5);
        await blocker.query('ROLLBACK');
        // The pop removed nothing, and the store goes on.
        expect(await store.getItems('s')).toEqual([{ n: 1 }, { n: 2 }]);
        expect(await store.popItem('s')).toEqual({ n: 2 });
      } finally {
        await blocker.query('ROLLBACK').catch(() => undefined);
        await holder.query('ROLLBACK').catch(() => undefined);
        for (const client of [holder, blocker, watch]) await client.end().catch(() => undefined);
        await store.close();
      }
    }, 60_000);

    it('with queryTimeout 0 the same call waits for the server, and completes once it answers', async () => {
      const { pool, store, close } = onOneConnection('qt0', 0);
      try {
        await store.addItems('s', [{ n: 1 }]);
        const pid = await freeze(pool);
        let settled = false;
        const read = store.getItems('s').finally(() => (settled = true));
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        expect(settled).toBe(false);
        process.kill(pid, 'SIGCONT');
        expect(await read).toEqual([{ n: 1 }]);
      } finally {
        await close();
      }
    }, 60_000);
  });
}
