import { freePort } from '@sessionkit/test-servers';
import { SessionErrorCode } from '@sessionkit/core';
import { afterEach, describe, expect, it } from 'vitest';
import { MongoStore } from '../src/index.js';

// A real closed port (freePort: bound, read, released). Nothing listens there, so the
// driver's connection attempts are refused by the kernel, not by a fake.
const closedPort = freePort;

const TIMEOUT = 400;
const BOUND = 5_000;
// "Before any network call" is shown by finishing well inside a server
// selection timeout that any network call would have to wait out. Long, so
// CPU work (encoding 16 MiB twice) on a loaded machine never reaches it.
const NO_NETWORK_TIMEOUT = 10_000;

describe('an unreachable server (no MongoDB needed)', () => {
  const stores: MongoStore[] = [];
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
  });

  async function open(serverSelectionTimeoutMS = TIMEOUT): Promise<MongoStore> {
    const store = new MongoStore({
      uri: `mongodb://127.0.0.1:${await closedPort()}/?directConnection=true`,
      serverSelectionTimeoutMS,
    });
    stores.push(store);
    return store;
  }

  it('every kind of call fails with BACKEND_UNAVAILABLE within a bounded time, after serverSelectionTimeoutMS', async () => {
    const store = await open();
    const calls: [string, () => Promise<unknown>][] = [
      ['getItems', () => store.getItems('s')],
      ['addItems', () => store.addItems('s', [{ role: 'user', content: 'hi' }])],
      ['popItem', () => store.popItem('s')],
      ['clearSession', () => store.clearSession('s')],
      ['getSessionInfo', () => store.getSessionInfo('s')],
      ['prune', () => store.prune({ olderThan: new Date() })],
      [
        'applyHistoryTransaction',
        () => store.applyHistoryTransaction('s', { operationId: 'op', transaction: { type: 'append_items', items: [1] } }),
      ],
      ['replaceHistory', () => store.replaceHistory('s', [{ role: 'user', content: 'hi' }])],
      ['listSessions', async () => { for await (const _ of store.listSessions()) { /* empty */ } }],
      ['deployment', () => store.deployment()],
    ];
    for (const [name, call] of calls) {
      const started = performance.now();
      const error = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      const elapsed = performance.now() - started;
      expect(error, name).toMatchObject({ code: SessionErrorCode.BackendUnavailable });
      expect((error as Error & { cause?: Error }).cause?.name, name).toBe('MongoServerSelectionError');
      // The driver waits out serverSelectionTimeoutMS, and not much longer.
      expect(elapsed, name).toBeGreaterThanOrEqual(TIMEOUT - 50);
      expect(elapsed, name).toBeLessThan(BOUND);
    }
  });

  it('an oversized item is TOO_LARGE before any network call (even with the server down)', async () => {
    const store = await open(NO_NETWORK_TIMEOUT);
    const started = performance.now();
    const huge = 'x'.repeat(16 * 1024 * 1024);
    await expect(store.addItems('s', [huge])).rejects.toMatchObject({ code: SessionErrorCode.TooLarge });
    await expect(
      store.applyHistoryTransaction('s', { operationId: 'op', transaction: { type: 'append_items', items: [huge] } }),
    ).rejects.toMatchObject({ code: SessionErrorCode.TooLarge });
    await expect(store.replaceHistory('s', [{ keep: true }, huge])).rejects.toMatchObject({ code: SessionErrorCode.TooLarge });
    expect(performance.now() - started).toBeLessThan(NO_NETWORK_TIMEOUT - 1_000);
  });

  it('bad input is refused before any network call', async () => {
    const store = await open(NO_NETWORK_TIMEOUT);
    const started = performance.now();
    await expect(store.getItems({ $gt: '' } as unknown as string)).rejects.toMatchObject({
      code: SessionErrorCode.InvalidArgument,
    });
    await expect(store.addItems('s', [() => 1])).rejects.toMatchObject({ code: SessionErrorCode.InvalidItem });
    await expect(store.getItems('s', { limit: -1 })).rejects.toMatchObject({ code: SessionErrorCode.InvalidArgument });
    expect(performance.now() - started).toBeLessThan(NO_NETWORK_TIMEOUT - 1_000);
  });
});
