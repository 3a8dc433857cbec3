import { isSessionError, SessionErrorCode } from '@sessionkit/core';
import type { HistoryVersion } from '@sessionkit/core/adapter';
import { RedisStore } from '@sessionkit/redis';
import { sessionKeys } from '../src/keys.js';
import { mapRedisError } from '../src/map-error.js';
import { Redis } from 'ioredis';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openStore, skipLine, standaloneAvailable, standaloneTarget, uniquePrefix, type StandaloneTarget } from './setup.js';

if (!standaloneAvailable) console.warn(skipLine('redis standalone tests'));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A TCP relay to a real server on loopback. `cutOnNextReply()` makes it
 * destroy the client side, unforwarded, when the next server bytes arrive.
 */
async function startRelay(url: string) {
  const upstream = new URL(url);
  const sockets = new Set<Socket>();
  let armed = false;
  let cuts = 0;
  const server = createServer((client) => {
    const backend = connect(Number(upstream.port), upstream.hostname);
    sockets.add(client).add(backend);
    const drop = () => {
      client.destroy();
      backend.destroy();
    };
    client.on('data', (chunk) => backend.write(chunk));
    backend.on('data', (chunk) => {
      if (armed) {
        armed = false;
        cuts++;
        return drop();
      }
      client.write(chunk);
    });
    for (const socket of [client, backend]) {
      socket.on('error', drop);
      socket.on('close', () => {
        sockets.delete(socket);
        drop();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    get cuts() {
      return cuts;
    },
    cutOnNextReply() {
      armed = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isSessionError(error), `expected a SessionError ${code}, got ${String(error)}`).toBe(true);
  expect((error as { code: string }).code).toBe(code);
}

describe.skipIf(!standaloneAvailable)('RedisStore on a standalone server', () => {
  let target: StandaloneTarget;
  let admin: Redis;
  const stores: RedisStore[] = [];
  const open = (extra: Parameters<typeof openStore>[1] = {}, keyPrefix = uniquePrefix('unit')) => {
    const store = openStore({ url: target.url, keyPrefix }, extra);
    stores.push(store);
    return store;
  };
  /** What `pick` takes from each command the server sees (MONITOR) while `run` runs: lowercased name, arguments, source. */
  async function monitored(
    run: () => Promise<unknown>,
    pick: (name: string, args: string[], source: string) => string[] | undefined,
  ): Promise<string[][]> {
    const monitor = await admin.monitor();
    const seen: string[][] = [];
    const token = `done-${Math.random()}`;
    let resolveDone!: () => void;
    const done = new Promise<void>((resolve) => (resolveDone = resolve));
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      const name = String(args[0]).toLowerCase();
      if (name === 'echo' && args[1] === token) resolveDone();
      const picked = pick(name, args, source);
      if (picked) seen.push(picked);
    });
    await run();
    await admin.echo(token);
    await done;
    monitor.disconnect();
    return seen;
  }

  beforeAll(async () => {
    target = await standaloneTarget();
    admin = new Redis(target.url);
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
  });
  afterAll(async () => {
    admin?.disconnect();
    await target?.stop();
  });

  it('a refused login is reported as such (BACKEND_ERROR), not as a server that does not answer, and never quotes the password', async () => {
    const user = `login-${process.pid}`;
    await admin.call('ACL', 'SETUSER', user, 'on', '>right-secret', '~*', '+@all');
    try {
      const url = new URL(target.url);
      url.username = user;
      url.password = 'wrong-secret';
      const refused = openStore({ url: url.toString(), keyPrefix: uniquePrefix('login') }, { commandTimeout: 1500 });
      stores.push(refused);
      const error = await refused.getItems('s').catch((e: unknown) => e);
      expect(isSessionError(error, SessionErrorCode.BackendError), String(error)).toBe(true);
      expect((error as Error).message).toMatch(/refused the login/);
      expect((error as Error).message).not.toContain('secret');
      url.password = 'right-secret';
      const accepted = openStore({ url: url.toString(), keyPrefix: uniquePrefix('login') }, { commandTimeout: 1500 });
      stores.push(accepted);
      expect(await accepted.getItems('s')).toEqual([]);
    } finally {
      await admin.call('ACL', 'DELUSER', user);
    }
  });

  describe('one round trip per operation', () => {
    it('sends exactly one command per call once its scripts are loaded', async () => {
      const store = open({ ttl: 60_000 });
      const sliding = open({ ttl: 60_000, slidingTtl: true }, store.keyPrefix);
      const monitor = await admin.monitor();
      const marker = new Redis(target.url);
      const seen: string[] = [];
      let markerPort = '';
      monitor.on('monitor', (_time: string, args: string[], source: string) => {
        if (source === 'lua' || source.endsWith(`:${markerPort}`)) return;
        seen.push(String(args[0]).toLowerCase());
      });
      await marker.ping();
      markerPort = String((await marker.client('INFO')).match(/(?:^| )addr=\S*:(\d+)/)?.[1]);
      // Waits until the monitor has seen a marker PING sent after the operation: every command before it is in `seen`.
      const sync = async () => {
        const token = `m${Math.random()}`;
        const arrived = new Promise<void>((resolve) => {
          const on = (_t: string, args: string[]) => {
            if (String(args[0]).toLowerCase() === 'echo' && args[1] === token) {
              monitor.off('monitor', on);
              resolve();
            }
          };
          monitor.on('monitor', on);
        });
        await marker.echo(token);
        await arrived;
      };
      const message = (content: string) => ({ role: 'user', content, type: 'message' });
      let readBack: unknown[] = [];
      let version: HistoryVersion | undefined;
      const ops: [string, () => Promise<unknown>, (() => Promise<unknown>)?][] = [
        ['addItems', () => store.addItems('s', [{ a: 1 }, message('hi')])],
        ['getItems(limit)', () => store.getItems('s', { limit: 1 })],
        ['getItems()', () => store.getItems('s')],
        ['getItems sliding', () => sliding.getItems('s', { limit: 1 })],
        ['popItem', () => store.popItem('s')],
        ['append_items', () => store.applyHistoryTransaction('s', { operationId: `a${Math.random()}`, transaction: { type: 'append_items', items: [message('hi')] } })],
        // Agents SDK items have several keys in insertion (not sorted) order: the common case must still be one trip.
        ['replace_suffix', () => store.applyHistoryTransaction('s', { operationId: `r${Math.random()}`, transaction: { type: 'replace_suffix', expectedSuffix: [message('hi')], replacement: [message('summary')] } })],
        // As compaction does: the suffix is what getItems returned (read outside the counted call).
        ['replace_suffix, read back', () => store.applyHistoryTransaction('s', { operationId: `b${Math.random()}`, transaction: { type: 'replace_suffix', expectedSuffix: readBack, replacement: [message('again')] } }), async () => {
          readBack = await store.getItems('s', { limit: 1 });
        }],
        ['replaceHistory', () => store.replaceHistory('s', [message('summary'), { a: 2 }])],
        ['getSessionInfo', () => store.getSessionInfo('s')],
        ['readChanges()', () => store.readChanges('s')],
        ['readChanges(since), appended', () => store.readChanges('s', version), async () => {
          version = (await store.readChanges('s')).version;
          await store.addItems('s', [message('new')]);
        }],
        ['readChanges sliding', () => sliding.readChanges('s', version)],
        ['clearSession', () => store.clearSession('s')],
      ];
      // Warm-up: the first EVALSHA of each script after a server start is answered NOSCRIPT and re-sent as EVAL.
      for (const [, op, setup] of ops) {
        await setup?.();
        await op();
      }
      await sync();
      for (const [name, op, setup] of ops) {
        await setup?.();
        await sync();
        seen.length = 0;
        await op();
        await sync();
        expect(seen, name).toHaveLength(1);
      }
      marker.disconnect();
      monitor.disconnect();
    });
  });

  describe('popItem sends only what it needs', () => {
    /** The key arguments of every script call the server sees while `run` runs. */
    const scriptKeys = (run: () => Promise<unknown>) =>
      monitored(run, (name, args, source) => (source !== 'lua' && (name === 'evalsha' || name === 'eval') ? args.slice(3, 3 + Number(args[2])) : undefined));

    it('without a ttl, a pop gives its script only the items and meta keys', async () => {
      const store = open();
      const keys = sessionKeys(store.keyPrefix, 'few');
      await store.addItems('few', [{ a: 1 }, { b: 2 }, { c: 3 }]);
      await store.popItem('few'); // loads the script
      const calls = await scriptKeys(() => store.popItem('few'));
      expect(calls).toEqual([[keys.items, keys.meta]]);
      expect(await store.getItems('few')).toEqual([{ a: 1 }]);
      expect(Number(await admin.hget(keys.meta, 'u'))).toBeGreaterThan(Date.now() - 60_000);
    });

    it('with a ttl, a pop gives its script all four keys (it refreshes their expiry)', async () => {
      const store = open({ ttl: 60_000 });
      const keys = sessionKeys(store.keyPrefix, 'all');
      await store.addItems('all', [{ a: 1 }, { b: 2 }]);
      await store.popItem('all');
      const calls = await scriptKeys(() => store.popItem('all'));
      expect(calls).toEqual([[keys.items, keys.meta, keys.ops, keys.opQueue]]);
    });

    it('pops from the right session when calls alternate between sessions (keys are reused per session)', async () => {
      const store = open();
      await store.addItems('left', [1, 2, 3]);
      await store.addItems('right', [10, 20, 30]);
      const popped: unknown[] = [];
      for (const id of ['left', 'right', 'right', 'left', 'left', 'right']) popped.push(await store.popItem(id));
      expect(popped).toEqual([3, 30, 20, 2, 1, 10]);
      expect(await store.popItem('left')).toBeUndefined();
    });

    it('a store-owned client has no ioredis commandTimeout, yet a held pop fails at the store deadline', async () => {
      const store = open({ commandTimeout: 300 });
      expect((store.client.options as { commandTimeout?: number }).commandTimeout).toBeUndefined();
      await store.addItems('held', [{ a: 1 }, { b: 2 }]);
      await admin.call('CLIENT', 'PAUSE', '1000', 'WRITE');
      const started = performance.now();
      await expectCode(store.popItem('held'), SessionErrorCode.BackendUnavailable);
      const waited = performance.now() - started;
      expect(waited).toBeGreaterThanOrEqual(250);
      expect(waited).toBeLessThan(900);
      await admin.call('CLIENT', 'UNPAUSE');
      // The abandoned pop may still land after the pause; the store answers again either way.
      await sleep(50);
      expect((await store.getItems('held')).length).toBeGreaterThanOrEqual(1);
    });
  });

  describe('TTL', () => {
    it('gives every key of the session the ttl in the same script as the write', async () => {
      const ttl = 60_000;
      const store = open({ ttl });
      const keys = sessionKeys(store.keyPrefix, 'ttl');
      await store.addItems('ttl', [{ a: 1 }, { b: 2 }]);
      await store.applyHistoryTransaction('ttl', { operationId: 'op', transaction: { type: 'append_items', items: [3] } });
      for (const key of [keys.items, keys.meta, keys.ops, keys.opQueue]) {
        const pttl = await admin.pttl(key);
        expect(pttl, key).toBeGreaterThan(ttl - 5_000);
        expect(pttl, key).toBeLessThanOrEqual(ttl);
      }
      // A pop refreshes too.
      for (const key of [keys.items, keys.meta, keys.ops, keys.opQueue]) await admin.pexpire(key, 10_000);
      await store.popItem('ttl');
      for (const key of [keys.items, keys.meta, keys.ops, keys.opQueue]) expect(await admin.pttl(key)).toBeGreaterThan(10_000);
    });

    it('without ttl, keys never expire', async () => {
      const store = open();
      await store.addItems('forever', [1]);
      expect(await admin.pttl(sessionKeys(store.keyPrefix, 'forever').items)).toBe(-1);
    });

    it('expired sessions read as empty and are not listed', async () => {
      const store = open({ ttl: 200 });
      await store.addItems('short', [1, 2]);
      expect(await store.getItems('short')).toEqual([1, 2]);
      await sleep(350);
      expect(await store.getItems('short')).toEqual([]);
      expect(await store.getSessionInfo('short')).toBeUndefined();
      const listed = [];
      for await (const info of store.listSessions()) listed.push(info);
      expect(listed).toEqual([]);
    });

    it('slidingTtl refreshes the expiry of every key on read; without it reads do not', async () => {
      const prefix = uniquePrefix('sliding');
      const plain = open({ ttl: 60_000 }, prefix);
      const sliding = open({ ttl: 60_000, slidingTtl: true }, prefix);
      const keys = sessionKeys(prefix, 'slide');
      await plain.addItems('slide', [1]);
      await plain.applyHistoryTransaction('slide', { operationId: 'o', transaction: { type: 'append_items', items: [2] } });
      const all = [keys.items, keys.meta, keys.ops, keys.opQueue];
      for (const key of all) await admin.pexpire(key, 5_000);
      await plain.getItems('slide');
      for (const key of all) expect(await admin.pttl(key)).toBeLessThanOrEqual(5_000);
      await sliding.getItems('slide', { limit: 1 });
      for (const key of all) expect(await admin.pttl(key)).toBeGreaterThan(50_000);
    });
  });

  describe('pop never deletes what the codec rejects', () => {
    // cjson (inside Redis) accepts some of these; JSON.parse accepts none.
    const corrupt = [
      '{"a": ', 'not json', '0x1F', '[1,]', '1.', '[NaN]', '{"a":Infinity}', '-inf', '[01]', '+1', '{"a":1}x', '',
      '[-.5]', '[1.e5]', '[nan]', '"a\u0001b"', '{"a":1}\u0000x', '{"a":01,"a":"x"}',
    ];
    for (const text of corrupt) {
      it(`leaves ${JSON.stringify(text)} in place and reports CORRUPT_DATA`, async () => {
        const store = open();
        const keys = sessionKeys(store.keyPrefix, 'c');
        await store.addItems('c', [{ ok: true }]);
        await admin.rpush(keys.items, text);
        await expectCode(store.popItem('c'), SessionErrorCode.CorruptData);
        expect(await admin.lrange(keys.items, 0, -1)).toEqual(['{"ok":true}', text]);
        await expectCode(store.getItems('c'), SessionErrorCode.CorruptData);
      });
    }

    it('pops JSON that only the client can vouch for (whitespace, deep nesting) through compare-and-pop', async () => {
      const store = open();
      const keys = sessionKeys(store.keyPrefix, 'w');
      const deep = `${'['.repeat(1100)}${']'.repeat(1100)}`;
      await store.addItems('w', [{ first: 1 }]);
      await admin.rpush(keys.items, deep, '{"a":\t1,\n "b": [ 2 ] }');
      expect(await store.popItem('w')).toEqual({ a: 1, b: [2] });
      expect(await admin.llen(keys.items)).toBe(2);
      expect(JSON.stringify(await store.popItem('w'))).toBe(deep);
      expect(await store.popItem('w')).toEqual({ first: 1 });
      expect(await store.popItem('w')).toBeUndefined();
    });
  });

  describe('transactions', () => {
    it('matches a suffix whose stored key order differs from the canonical form', async () => {
      const store = open();
      await store.addItems('t', [{ z: 1, a: { y: 2, b: 3 } }, { role: 'user', content: 'hi' }]);
      await store.applyHistoryTransaction('t', {
        operationId: 'swap',
        transaction: { type: 'replace_suffix', expectedSuffix: [{ a: { b: 3, y: 2 }, z: 1 }, { content: 'hi', role: 'user' }], replacement: [{ summary: 's' }] },
      });
      expect(await store.getItems('t')).toEqual([{ summary: 's' }]);
    });

    it('a transaction retried with the same operation id after an unknown outcome does not duplicate', async () => {
      const store = open({ commandTimeout: 300 });
      const items = [{ n: 1 }, { n: 2 }];
      const args = { operationId: 'retry-me', transaction: { type: 'append_items' as const, items } };
      await store.addItems('r', [{ n: 0 }]);
      // Writes are held by the server; the client gives up first. The script then runs after the pause.
      await admin.call('CLIENT', 'PAUSE', '600', 'WRITE');
      await expectCode(store.applyHistoryTransaction('r', args), SessionErrorCode.BackendUnavailable);
      await sleep(700);
      await store.applyHistoryTransaction('r', args);
      await store.applyHistoryTransaction('r', args);
      expect(await store.getItems('r')).toEqual([{ n: 0 }, ...items]);
    });

    it('a transaction whose connection dropped after the script ran (reply lost) is retried without duplicating', async () => {
      // A loopback relay in front of the real server, so the test can cut the connection between the
      // server's reply and the client: the script has run, the store never hears so.
      const relay = await startRelay(target.url);
      const store = new RedisStore({ url: `redis://127.0.0.1:${relay.port}`, keyPrefix: uniquePrefix('relay') });
      try {
        const items = [{ role: 'user', content: 'once', type: 'message' }];
        const args = { operationId: 'dropped-reply', transaction: { type: 'append_items' as const, items } };
        await store.addItems('d', [{ n: 0 }]);
        // Warm the script cache, so the cut reply is the one of an EVALSHA that ran (not a NOSCRIPT refusal).
        await store.applyHistoryTransaction('d', { operationId: 'warm', transaction: { type: 'append_items', items: [] } });
        relay.cutOnNextReply();
        await expectCode(store.applyHistoryTransaction('d', args), SessionErrorCode.BackendUnavailable);
        expect(relay.cuts).toBe(1);
        // It did run: the items are there although the call failed.
        expect(await admin.llen(sessionKeys(store.keyPrefix, 'd').items)).toBe(2);
        // The store reconnects by itself; the retry with the same operation id is a no-op, however often.
        await store.applyHistoryTransaction('d', args);
        await store.applyHistoryTransaction('d', args);
        expect(await store.getItems('d')).toEqual([{ n: 0 }, ...items]);
      } finally {
        await store.close();
        await relay.close();
      }
    });

    it('a transaction whose connection was killed before the script ran is applied once by the retry', async () => {
      const store = open({ commandTimeout: 2_000 });
      const items = [{ role: 'assistant', content: 'later', type: 'message' }];
      const args = { operationId: 'killed', transaction: { type: 'append_items' as const, items } };
      await store.addItems('k', [{ n: 0 }]);
      const id = await store.client.client('ID');
      // Held by the pause, then the store's connection is killed: the script never runs.
      await admin.call('CLIENT', 'PAUSE', '5000', 'WRITE');
      const failed = expectCode(store.applyHistoryTransaction('k', args), SessionErrorCode.BackendUnavailable);
      await sleep(100);
      await admin.client('KILL', 'ID', String(id));
      await admin.call('CLIENT', 'UNPAUSE');
      await failed;
      expect(await admin.llen(sessionKeys(store.keyPrefix, 'k').items)).toBe(1);
      await store.applyHistoryTransaction('k', args);
      await store.applyHistoryTransaction('k', args);
      expect(await store.getItems('k')).toEqual([{ n: 0 }, ...items]);
    });

    it('keeps only the newest operationLogSize operation ids', async () => {
      const store = open({ operationLogSize: 3 });
      const keys = sessionKeys(store.keyPrefix, 'log');
      for (let i = 0; i < 5; i++) {
        await store.applyHistoryTransaction('log', { operationId: `op${i}`, transaction: { type: 'append_items', items: [i] } });
      }
      expect(await admin.lrange(keys.opQueue, 0, -1)).toEqual(['op2', 'op3', 'op4']);
      expect((await admin.hkeys(keys.ops)).sort()).toEqual(['op2', 'op3', 'op4']);
      // op0 is forgotten: applying it again appends again; op4 is remembered.
      await store.applyHistoryTransaction('log', { operationId: 'op4', transaction: { type: 'append_items', items: [4] } });
      await store.applyHistoryTransaction('log', { operationId: 'op0', transaction: { type: 'append_items', items: [0] } });
      expect(await store.getItems('log')).toEqual([0, 1, 2, 3, 4, 0]);
    });
  });

  describe('readChanges', () => {
    /** Every command a script ran on the server (MONITOR's `lua` source) while `run` ran, lowercased name first. */
    const luaCommands = (run: () => Promise<unknown>) =>
      monitored(run, (name, args, source) => (source === 'lua' ? [name, ...args.slice(1).map(String)] : undefined));

    it('keeps the epoch in the meta hash (field e), which expires with the session and is deleted by clearSession', async () => {
      const ttl = 60_000;
      const store = open({ ttl });
      const keys = sessionKeys(store.keyPrefix, 'where');
      await store.addItems('where', [1, 2]);
      const { version } = await store.readChanges('where');
      expect(version.epoch).toMatch(/^[0-9a-f-]{36}$/);
      expect(await admin.hget(keys.meta, 'e')).toBe(version.epoch);
      expect(await admin.pttl(keys.meta)).toBeGreaterThan(ttl - 5_000);
      await store.clearSession('where');
      expect(await admin.exists(keys.meta)).toBe(0);
      expect((await store.readChanges('where')).version).toEqual({ epoch: '', length: 0 });
    });

    it('reads only the new items, from the tail (LRANGE with a negative start), in one script; without since, the whole list', async () => {
      const store = open();
      const keys = sessionKeys(store.keyPrefix, 'tail');
      const history = Array.from({ length: 3000 }, (_, i) => ({ i }));
      await store.addItems('tail', history);
      const { version } = await store.readChanges('tail');
      await store.addItems('tail', [{ new: 1 }, { new: 2 }, { new: 3 }]);
      await store.readChanges('tail', version); // loads the script
      let changes: Awaited<ReturnType<typeof store.readChanges>> | undefined;
      const since = await luaCommands(async () => (changes = await store.readChanges('tail', version)));
      expect(changes).toEqual({ version: { epoch: version.epoch, length: 3003 }, whole: false, items: [{ new: 1 }, { new: 2 }, { new: 3 }] });
      expect(since.filter(([name]) => name === 'lrange')).toEqual([['lrange', keys.items, '-3', '-1']]);
      // Nothing new: no LRANGE at all.
      const none = await luaCommands(() => store.readChanges('tail', changes!.version));
      expect(none.filter(([name]) => name === 'lrange')).toEqual([]);
      const whole = await luaCommands(() => store.readChanges('tail'));
      expect(whole.filter(([name]) => name === 'lrange')).toEqual([['lrange', keys.items, '0', '-1']]);
      // Reads write nothing (no sliding ttl): no PEXPIRE, no HSET.
      expect([...since, ...whole].map(([name]) => name).filter((name) => name !== 'lrange').sort()).toEqual(['hget', 'hget', 'llen', 'llen']);
    });

    it('a pop, a replace_suffix, replaceHistory, clearSession and expiry each give the session a new epoch; appends keep it', async () => {
      // Each write restarts the ttl; it must outlast a slow step of a loaded machine until the wait below.
      const store = open({ ttl: 1_000 });
      const keys = sessionKeys(store.keyPrefix, 'life');
      const epoch = () => admin.hget(keys.meta, 'e');
      const seen = new Set<string | null>();
      const renewed = async (what: string) => {
        const now = await epoch();
        expect(now, what).toMatch(/^[0-9a-f-]{36}$/);
        expect(seen.has(now), `${what}: a new epoch`).toBe(false);
        seen.add(now);
      };
      await store.addItems('life', [1, 2, 3]);
      await renewed('created');
      const first = await epoch();
      await store.addItems('life', [4]);
      await store.addItems('life', [5], { expectedLength: 4 });
      await store.applyHistoryTransaction('life', { operationId: 'a', transaction: { type: 'append_items', items: [6] } });
      await store.applyHistoryTransaction('life', { operationId: 'a', transaction: { type: 'append_items', items: [6] } });
      expect(await epoch(), 'appends and a replayed transaction keep the epoch').toBe(first);
      await store.popItem('life');
      await renewed('pop');
      await store.applyHistoryTransaction('life', { operationId: 'r', transaction: { type: 'replace_suffix', expectedSuffix: [5], replacement: [50] } });
      await renewed('replace_suffix');
      await store.replaceHistory('life', [7, 8]);
      await renewed('replaceHistory');
      const beforeClear = (await store.readChanges('life')).version;
      await store.clearSession('life');
      await store.addItems('life', [7, 8]);
      await renewed('clear and append');
      expect((await store.readChanges('life', beforeClear)).whole, 'same length, but cleared: whole').toBe(true);
      const beforeExpiry = (await store.readChanges('life')).version;
      await sleep(1_300);
      expect(await admin.exists(keys.meta)).toBe(0);
      await store.addItems('life', [7, 8]);
      await renewed('expiry and append');
      expect((await store.readChanges('life', beforeExpiry)).whole, 'same length, but expired: whole').toBe(true);
    });

    it('with slidingTtl a read refreshes every key of the session, as getItems does; without it, none', async () => {
      const prefix = uniquePrefix('sliding-changes');
      const plain = open({ ttl: 60_000 }, prefix);
      const sliding = open({ ttl: 60_000, slidingTtl: true }, prefix);
      const keys = sessionKeys(prefix, 'slide');
      const all = [keys.items, keys.meta, keys.ops, keys.opQueue];
      await plain.applyHistoryTransaction('slide', { operationId: 'o', transaction: { type: 'append_items', items: [1] } });
      for (const key of all) await admin.pexpire(key, 5_000);
      await plain.readChanges('slide');
      for (const key of all) expect(await admin.pttl(key), key).toBeLessThanOrEqual(5_000);
      const { version } = await sliding.readChanges('slide');
      for (const key of all) expect(await admin.pttl(key), key).toBeGreaterThan(50_000);
      for (const key of all) await admin.pexpire(key, 5_000);
      await sliding.readChanges('slide', version);
      for (const key of all) expect(await admin.pttl(key), key).toBeGreaterThan(50_000);
      // An empty session has nothing to refresh, and a read creates nothing.
      await sliding.readChanges('nobody');
      expect(await admin.exists(...Object.values(sessionKeys(prefix, 'nobody')))).toBe(0);
    });

    it('treats session ids and since epochs as data: hostile ids keep their own epochs, hostile epochs match nothing', async () => {
      const store = open();
      const hostile = ['*', '?', '[a-z]', '{', '}', '{x}', 'a}{b', ':', 'line\nbreak', '\\', '%s%d', "')--", 'ünï😀', 'x'.repeat(512), `${store.keyPrefix}{abc}:m`];
      const versions = new Map<string, HistoryVersion>();
      for (const id of hostile) {
        await store.addItems(id, [{ id }, { n: 1 }]);
        versions.set(id, (await store.readChanges(id)).version);
      }
      expect(new Set([...versions.values()].map((v) => v.epoch)).size, 'one epoch per session').toBe(hostile.length);
      for (const [i, id] of hostile.entries()) {
        await store.addItems(id, [{ n: 2 }]);
        expect(await store.readChanges(id, versions.get(id)), id).toEqual({ version: { ...versions.get(id)!, length: 3 }, whole: false, items: [{ n: 2 }] });
        // Another session's version, at the same length: never "appended".
        const other = versions.get(hostile[(i + 1) % hostile.length]!)!;
        expect((await store.readChanges(id, { epoch: other.epoch, length: 2 })).whole, id).toBe(true);
      }
      for (const epoch of ['*', '.*', '%a+', '[^]', "' or '1'='1", '\u0000', '\n', 'é'.repeat(128), '-1', '0', ' ']) {
        const changes = await store.readChanges('*', { epoch, length: 0 });
        expect(changes.whole, JSON.stringify(epoch)).toBe(true);
        expect(changes.items).toEqual([{ id: '*' }, { n: 1 }, { n: 2 }]);
      }
    });
  });

  describe('replaceHistory', () => {
    it('swaps the list in one script, keeps created-at and the op log, refreshes updated-at and every expiry', async () => {
      const ttl = 60_000;
      const store = open({ ttl });
      const keys = sessionKeys(store.keyPrefix, 'rh');
      await store.addItems('rh', [{ a: 1 }]);
      await store.applyHistoryTransaction('rh', { operationId: 'op', transaction: { type: 'append_items', items: [{ b: 2 }] } });
      const before = await admin.hgetall(keys.meta);
      for (const key of [keys.items, keys.meta, keys.ops, keys.opQueue]) await admin.pexpire(key, 10_000);
      await sleep(5);
      await store.replaceHistory('rh', [{ s: 'summary' }, { c: 3 }]);
      expect(await store.getItems('rh')).toEqual([{ s: 'summary' }, { c: 3 }]);
      const after = await admin.hgetall(keys.meta);
      expect(after.c).toBe(before.c);
      expect(Number(after.u)).toBeGreaterThan(Number(before.u));
      for (const key of [keys.items, keys.meta, keys.ops, keys.opQueue]) expect(await admin.pttl(key), key).toBeGreaterThan(10_000);
      expect(await admin.hkeys(keys.ops)).toEqual(['op']);
      // The logged operation is still a no-op.
      await store.applyHistoryTransaction('rh', { operationId: 'op', transaction: { type: 'append_items', items: [{ b: 2 }] } });
      expect(await store.getItems('rh')).toEqual([{ s: 'summary' }, { c: 3 }]);
    });

    it('an empty replacement leaves no items but keeps the op log; a replacement of an empty session sets created-at', async () => {
      const store = open();
      const keys = sessionKeys(store.keyPrefix, 'e');
      await store.applyHistoryTransaction('e', { operationId: 'op', transaction: { type: 'append_items', items: [1] } });
      await store.replaceHistory('e', []);
      expect(await store.getItems('e')).toEqual([]);
      expect(await admin.exists(keys.items)).toBe(0);
      expect(await admin.hkeys(keys.ops)).toEqual(['op']);
      await sleep(5);
      const start = Date.now();
      await store.replaceHistory('e', [2]);
      expect((await store.getSessionInfo('e'))!.createdAt.getTime()).toBeGreaterThanOrEqual(start);
    });

    it('replaces a history longer than one RPUSH chunk (Lua unpack limit)', async () => {
      const store = open();
      const items = Array.from({ length: 2500 }, (_, i) => ({ i }));
      await store.addItems('big', [{ old: true }]);
      await store.replaceHistory('big', items);
      expect(await store.getItems('big')).toEqual(items);
    });
  });

  describe('key layout', () => {
    it('keeps every key under the prefix, one set of keys per id, whatever the id contains', async () => {
      const store = open();
      const hostile = ['*', '?', '[a-z]', '{', '}', '{x}', 'a}{b', ':', '::{}:', 'line\nbreak', '\\', 'ünï😀', 'x'.repeat(512), `${store.keyPrefix}{abc}:i`];
      for (const id of hostile) {
        await store.addItems(id, [{ id }]);
        await store.applyHistoryTransaction(id, { operationId: 'o', transaction: { type: 'append_items', items: [1] } });
      }
      const keys = new Set<string>();
      let cursor = '0';
      do {
        const [next, batch] = await admin.scan(cursor, 'COUNT', 1000);
        cursor = next;
        for (const key of batch) if (key.startsWith(store.keyPrefix)) keys.add(key);
      } while (cursor !== '0');
      const expected = new Set(hostile.flatMap((id) => Object.values(sessionKeys(store.keyPrefix, id))));
      expect([...keys].sort()).toEqual([...expected].sort());
      for (const id of hostile) expect(await store.getItems(id)).toEqual([{ id }, 1]);
      const listed = [];
      for await (const info of store.listSessions({ pageSize: 3 })) listed.push(info.sessionId);
      expect(listed.sort()).toEqual([...hostile].sort());
    });

    it('a prefix with glob characters lists only its own sessions', async () => {
      const globby = open({}, `g*[?]${uniquePrefix('glob')}`);
      const literal = open({}, globby.keyPrefix.replace('*[?]', 'x[a]'));
      await globby.addItems('mine', [1]);
      await literal.addItems('theirs', [1]);
      const listed = [];
      for await (const info of globby.listSessions()) listed.push(info.sessionId);
      expect(listed).toEqual(['mine']);
      expect(await globby.prune({ olderThan: new Date(Date.now() + 60_000) })).toBe(1);
      expect(await literal.getItems('theirs')).toEqual([1]);
    });

    it('works through a caller client that has its own ioredis keyPrefix', async () => {
      const client = new Redis(target.url, { keyPrefix: 'outer:' });
      const store = new RedisStore({ client, keyPrefix: uniquePrefix('inner') });
      await store.addItems('p', [1]);
      expect(await admin.llen(`outer:${sessionKeys(store.keyPrefix, 'p').items}`)).toBe(1);
      const listed = [];
      for await (const info of store.listSessions()) listed.push(info.sessionId);
      expect(listed).toEqual(['p']);
      await store.close();
      client.disconnect();
    });
  });

  describe('clients and errors', () => {
    it('never closes a client the caller passed in', async () => {
      const client = new Redis(target.url);
      const store = new RedisStore({ client, keyPrefix: uniquePrefix('owned') });
      await store.addItems('s', [1]);
      await store.close();
      expect(await client.ping()).toBe('PONG');
      await expectCode(store.getItems('s'), SessionErrorCode.Closed);
      client.disconnect();
    });

    it('closes a client it created', async () => {
      const store = open();
      await store.addItems('s', [1]);
      await store.close();
      expect(['end', 'close']).toContain(store.client.status);
    });

    it('reports an unreachable server as BACKEND_UNAVAILABLE within commandTimeout, not a hang', async () => {
      const store = new RedisStore({ url: 'redis://127.0.0.1:1', commandTimeout: 300 });
      stores.push(store);
      const started = Date.now();
      await expectCode(store.addItems('s', [1]), SessionErrorCode.BackendUnavailable);
      await expectCode(store.getItems('s'), SessionErrorCode.BackendUnavailable);
      expect(Date.now() - started).toBeLessThan(3_000);
    });

    it('a burst of calls while connecting shares one wait: no listener per call, no MaxListeners warning', async () => {
      const warnings: string[] = [];
      const onWarning = (warning: Error) => warnings.push(warning.name);
      process.on('warning', onWarning);
      try {
        const store = open();
        expect(store.client.status).not.toBe('ready');
        const before = store.client.listenerCount('ready');
        const burst = Array.from({ length: 50 }, (_, i) => store.addItems('burst', [i]));
        // Every call is now waiting for the connection: at most one listener was added for all of them.
        expect(store.client.listenerCount('ready') - before).toBeLessThanOrEqual(1);
        await Promise.all(burst);
        expect(store.client.listenerCount('ready')).toBe(before);
        expect(store.client.listenerCount('end')).toBeLessThanOrEqual(before + 1);
        expect((await store.getItems('burst')).sort((a, b) => (a as number) - (b as number))).toEqual(
          Array.from({ length: 50 }, (_, i) => i),
        );
        await sleep(10); // process warnings are emitted on a later tick
        expect(warnings).not.toContain('MaxListenersExceededWarning');
      } finally {
        process.off('warning', onWarning);
      }
    });

    it('reports a key of the wrong type as CORRUPT_DATA', async () => {
      const store = open();
      await admin.set(sessionKeys(store.keyPrefix, 'wrong').items, 'a string');
      await expectCode(store.getItems('wrong'), SessionErrorCode.CorruptData);
      await expectCode(store.addItems('wrong', [1]), SessionErrorCode.CorruptData);
    });

    it('maps cluster and loading replies to BACKEND_UNAVAILABLE and others to BACKEND_ERROR', () => {
      for (const message of ['CLUSTERDOWN The cluster is down', 'TRYAGAIN Multiple keys request during rehashing', 'LOADING Redis is loading', 'Connection is closed.', 'Command timed out']) {
        expect(mapRedisError(new Error(message)).code, message).toBe(SessionErrorCode.BackendUnavailable);
      }
      expect(mapRedisError(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' })).code).toBe(SessionErrorCode.BackendUnavailable);
      expect(mapRedisError(new Error('NOPERM this user has no permissions')).code).toBe(SessionErrorCode.BackendError);
      const mapped = mapRedisError(new Error('ERR something with key sessionkit:{c2VjcmV0}:i'));
      expect(mapped.message).not.toContain('c2VjcmV0');
      expect(mapped.cause).toBeInstanceOf(Error);
    });

    it('refuses a keyPrefix with { or }, its own or the ioredis client\'s, before connecting', async () => {
      const countClients = async () => String(await admin.client('LIST')).split('\n').filter(Boolean).length;
      await sleep(100); // clients earlier tests disconnected are gone
      const before = await countClients();
      for (const keyPrefix of ['{}', 'app{', 'app}', 'a{chat}:']) {
        expect(() => new RedisStore({ url: target.url, keyPrefix }), keyPrefix).toThrow(/keyPrefix must not contain/);
        await expectCode(Promise.resolve().then(() => new RedisStore({ url: target.url, keyPrefix })), SessionErrorCode.InvalidArgument);
        // Through every way ioredis takes one: owned client options, a URL query, a Buffer, a client of yours.
        expect(() => new RedisStore({ url: target.url, redisOptions: { keyPrefix } }), keyPrefix).toThrow(/client's keyPrefix/);
        expect(() => new RedisStore({ url: `${target.url}?keyPrefix=${encodeURIComponent(keyPrefix)}` }), keyPrefix).toThrow(/client's keyPrefix/);
        expect(() => new RedisStore({ clusterNodes: [{ host: '127.0.0.1', port: 1 }], clusterOptions: { keyPrefix } }), keyPrefix).toThrow(/client's keyPrefix/);
        expect(() => new RedisStore({ clusterNodes: [{ host: '127.0.0.1', port: 1 }], clusterOptions: { redisOptions: { keyPrefix } } }), keyPrefix).toThrow(/client's keyPrefix/);
        const mine = new Redis(target.url, { keyPrefix: Buffer.from(keyPrefix) as unknown as string, lazyConnect: true });
        expect(() => new RedisStore({ client: mine }), keyPrefix).toThrow(/client's keyPrefix/);
        // Yours is refused, not closed.
        expect(mine.status).toBe('wait');
        mine.disconnect();
      }
      // Clients the store created for a refused configuration were closed, not left connecting.
      await sleep(100);
      expect(await countClients()).toBe(before);
      // Plain prefixes, with glob characters or colons, are fine.
      open({}, 'chat:prod:*?[x]:').client.disconnect();
    });

    it('refuses ambiguous connection options', () => {
      expect(() => new RedisStore({})).toThrow(/exactly one/);
      expect(() => new RedisStore({ url: target.url, clusterNodes: [{ host: '127.0.0.1', port: 1 }] })).toThrow(/exactly one/);
      expect(() => new RedisStore({ url: target.url, ttl: -1 })).toThrow(/ttl/);
      expect(() => new RedisStore({ url: target.url, operationLogSize: 0 })).toThrow(/operationLogSize/);
    });
  });
});

describe('connection option types (no server)', () => {
  it('refuses connection options of the wrong type with INVALID_ARGUMENT from the constructor', () => {
    for (const bad of [
      { clusterNodes: '127.0.0.1:6421' }, // a string, spread into characters, would fail only on the first call
      { clusterNodes: [] },
      { clusterNodes: [null] },
      { clusterNodes: { host: '127.0.0.1', port: 6421 } },
      { url: 6379 },
      { url: new URL('redis://127.0.0.1:6379') },
      { redisOptions: 'redis://127.0.0.1:6379' },
      { redisOptions: [] },
      { clusterNodes: ['127.0.0.1:6421'], clusterOptions: 'x' },
      { clusterNodes: ['127.0.0.1:6421'], clusterOptions: { redisOptions: 'x' } },
      { client: 'redis://127.0.0.1:6379' },
      { client: null },
    ]) {
      let thrown: unknown;
      try {
        new RedisStore(bad as never).client.disconnect();
      } catch (error) {
        thrown = error;
      }
      expect(isSessionError(thrown) && thrown.code, JSON.stringify(bad)).toBe(SessionErrorCode.InvalidArgument);
    }
  });
});
