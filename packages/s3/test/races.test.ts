/**
 * Deterministic interleavings in conditional mode: a hook in one client's
 * middleware stack runs another writer's commit at the exact moment between
 * two requests of the operation under test, or fakes a lost answer after a
 * request landed so that the SDK retries it.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { S3Store } from '@sessionkit/s3';
import { sessionKeys } from '../src/keys.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeClient, s3Target, uniquePrefix, type S3Target } from './setup.js';

type Input = { Key?: string; IfMatch?: string; IfNoneMatch?: string };

/** Runs `hook` once, before the first request for which `when` holds. */
function before(client: S3Client, when: (command: string, input: Input) => boolean, hook: () => Promise<void>) {
  let fired = false;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (!fired && when(String(context.commandName), args.input as Input)) {
        fired = true;
        await hook();
      }
      return next(args);
    },
    { step: 'initialize', name: 'raceHookBefore' },
  );
  return { fired: () => fired };
}

/**
 * Once, for the first attempt matching `when`: let it land, run `hook`, then
 * throw a transient error as if the answer had been lost, so the SDK's retry
 * middleware sends the request again.
 */
function loseAnswer(client: S3Client, when: (command: string, input: Input) => boolean, hook: () => Promise<void> = async () => {}) {
  let fired = false;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const out = await next(args);
      if (!fired && when(String(context.commandName), args.input as Input)) {
        fired = true;
        await hook();
        throw Object.assign(new Error('socket hang up (injected after the request landed)'), { name: 'TimeoutError', $metadata: {} });
      }
      return out;
    },
    // Inside the retry middleware (finalizeRequest, high priority): it sees every attempt.
    { step: 'finalizeRequest', priority: 'low', name: 'raceLoseAnswer' },
  );
  return { fired: () => fired };
}

const item = (n: number) => ({ type: 'message', role: 'user', content: `m${n} `.padEnd(120, 'x') });

describe('races with conditional writes', () => {
  let target: S3Target;
  const clients: S3Client[] = [];
  const client = () => {
    const c = makeClient(target);
    clients.push(c);
    return c;
  };
  beforeAll(async () => {
    target = await s3Target({ conditional: true });
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await target?.stop();
  });
  /** A fresh prefix, a store on a client of its own (`c`, to hook), and more writers under the same prefix on other clients. */
  const writers = (label: string) => {
    const prefix = uniquePrefix(label);
    const open = (on: S3Client) => new S3Store({ client: on, bucket: target.bucket, prefix, inlineBytes: 256 });
    const c = client();
    return { prefix, c, store: open(c), another: () => open(client()) };
  };

  it('prune skips a session that was written between its read and its delete', async () => {
    const prefix = uniquePrefix('prune-race');
    const pruner = client();
    const writer = new S3Store({ client: client(), bucket: target.bucket, prefix, inlineBytes: 256 });
    const store = new S3Store({ client: pruner, bucket: target.bucket, prefix, inlineBytes: 256 });
    await writer.addItems('s', [item(1), item(2), item(3)]);
    const head = sessionKeys(prefix, 's').head;
    // The first request that changes the head after prune read it: the writer commits right then.
    const hook = before(
      pruner,
      (command, input) => input.Key === head && (command === 'PutObjectCommand' || command === 'DeleteObjectCommand'),
      () => writer.addItems('s', [item(4)]),
    );
    const pruned = await store.prune({ olderThan: new Date(Date.now() + 60_000) });
    expect(hook.fired()).toBe(true);
    expect(pruned).toBe(0);
    expect(await writer.getItems('s')).toEqual([item(1), item(2), item(3), item(4)]);
    // A later prune with no race deletes it.
    expect(await store.prune({ olderThan: new Date(Date.now() + 60_000) })).toBe(1);
    expect(await writer.getItems('s')).toEqual([]);
  });

  it('prune keeps a write that lands on its tombstone before the tombstone is deleted', async () => {
    const prefix = uniquePrefix('prune-race2');
    const pruner = client();
    const writer = new S3Store({ client: client(), bucket: target.bucket, prefix, inlineBytes: 256 });
    const store = new S3Store({ client: pruner, bucket: target.bucket, prefix, inlineBytes: 256 });
    await writer.addItems('s', Array.from({ length: 8 }, (_, n) => item(n))); // spills into segments
    const head = sessionKeys(prefix, 's').head;
    const hook = before(pruner, (command, input) => command === 'DeleteObjectCommand' && input.Key === head, () => writer.addItems('s', [item(99)]));
    expect(await store.prune({ olderThan: new Date(Date.now() + 60_000) })).toBe(1);
    expect(hook.fired()).toBe(true);
    // The old history is pruned; the write that came after the prune's compare-and-swap survives whole.
    expect(await writer.getItems('s')).toEqual([item(99)]);
    expect((await writer.getSessionInfo('s'))?.itemCount).toBe(1);
  });

  it('a segment PUT the SDK retried after it landed counts as written', async () => {
    const { prefix, c, store } = writers('seg-retry');
    const segments = sessionKeys(prefix, 's').segments;
    const lost = loseAnswer(c, (command, input) => command === 'PutObjectCommand' && input.Key?.startsWith(segments) === true);
    const all = Array.from({ length: 6 }, (_, n) => item(n));
    await store.addItems('s', all);
    expect(lost.fired()).toBe(true);
    expect(await store.getItems('s')).toEqual(all);
  });

  it('a manifest PUT the SDK retried after it landed is not applied twice, even when another commit came in between', async () => {
    const { prefix, c, store, another } = writers('head-retry');
    const other = another();
    await store.addItems('s', [item(1)]);
    const head = sessionKeys(prefix, 's').head;
    const lost = loseAnswer(
      c,
      (command, input) => command === 'PutObjectCommand' && input.Key === head,
      () => other.addItems('s', [item(3)]), // lands on top of ours before the SDK retries
    );
    await store.addItems('s', [item(2)]);
    expect(lost.fired()).toBe(true);
    expect(await store.getItems('s')).toEqual([item(1), item(2), item(3)]);
  });

  it('a conditional append that loses the manifest compare-and-swap reads the winner and conflicts; its segment is swept', async () => {
    const { prefix, c, store, another } = writers('cond-race');
    const other = another();
    await store.addItems('s', [item(1)]);
    const { head, segments } = sessionKeys(prefix, 's');
    const ours: string[] = [];
    c.middlewareStack.add(
      (next, context) => async (args) => {
        const key = (args.input as Input).Key;
        if (context.commandName === 'PutObjectCommand' && key?.startsWith(segments)) ours.push(key);
        return next(args);
      },
      { step: 'initialize', name: 'recordSegmentKeys' },
    );
    // Both expect 1 item; the other writer commits between our segment write and our manifest swap.
    const hook = before(
      c,
      (command, input) => command === 'PutObjectCommand' && input.Key === head,
      () => other.addItems('s', [item(20)], { expectedLength: 1 }),
    );
    const batch = Array.from({ length: 4 }, (_, n) => item(10 + n)); // over inlineBytes: a segment first
    await expect(store.addItems('s', batch, { expectedLength: 1 })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(hook.fired()).toBe(true);
    expect(ours.length).toBeGreaterThan(0);
    expect(await store.getItems('s')).toEqual([item(1), item(20)]);
    expect((await store.getSessionInfo('s'))?.itemCount).toBe(2);
    const { ListObjectsV2Command } = await import('@aws-sdk/client-s3');
    const listed = await c.send(new ListObjectsV2Command({ Bucket: target.bucket, Prefix: segments }));
    const left = (listed.Contents ?? []).map((o) => o.Key!);
    expect(left.filter((k) => ours.includes(k))).toEqual([]);
    // Expecting the count it now has, it appends.
    await store.addItems('s', batch, { expectedLength: 2 });
    expect(await store.getItems('s')).toEqual([item(1), item(20), ...batch]);
  });

  it('readChanges retries when a segment it needs is deleted after its manifest read (the session was replaced)', async () => {
    const { prefix, c, store, another } = writers('changes-race');
    const other = another();
    const all = Array.from({ length: 24 }, (_, n) => item(n));
    await store.addItems('s', all.slice(0, 2));
    const since = (await store.readChanges('s')).version;
    for (let i = 2; i < all.length; i += 2) await store.addItems('s', all.slice(i, i + 2)); // spills into segments
    const segments = sessionKeys(prefix, 's').segments;
    // Between our manifest read and our first segment GET, another writer replaces the history (and deletes its segments).
    const hook = before(
      c,
      (command, input) => command === 'GetObjectCommand' && input.Key?.startsWith(segments) === true,
      () => other.replaceHistory('s', [item(100), item(101)]),
    );
    const changes = await store.readChanges('s', since);
    expect(hook.fired()).toBe(true);
    expect(changes.whole).toBe(true);
    expect(changes.items).toEqual([item(100), item(101)]);
    expect(changes.version.length).toBe(2);
    expect(changes.version.epoch).not.toBe(since.epoch);
  });

  it('a mismatched conditional append reads the manifest and writes nothing', async () => {
    const { c, store } = writers('cond-none');
    await store.addItems('s', [item(1), item(2)]);
    const before = await store.getSessionInfo('s');
    const commands: string[] = [];
    c.middlewareStack.add(
      (next, context) => async (args) => {
        commands.push(String(context.commandName));
        return next(args);
      },
      { step: 'initialize', name: 'recordCommands' },
    );
    await new Promise((resolve) => setTimeout(resolve, 5));
    for (const expectedLength of [0, 1, 3]) {
      await expect(store.addItems('s', [item(3)], { expectedLength })).rejects.toMatchObject({ code: 'CONFLICT' });
    }
    await expect(store.addItems('new', [item(3)], { expectedLength: 1 })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(commands.filter((name) => name !== 'GetObjectCommand')).toEqual([]);
    expect(await store.getSessionInfo('s')).toEqual(before);
    expect(await store.getSessionInfo('new')).toBeUndefined();
  });
});

describe('races with conditionalWrites: false', () => {
  let target: S3Target;
  const clients: S3Client[] = [];
  beforeAll(async () => {
    target = await s3Target({ conditional: false });
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await target?.stop();
  });

  it('prune deletes only what it listed: an append that lands during the prune survives and stays listed', async () => {
    const prefix = uniquePrefix('log-prune-race');
    const [a, b] = [makeClient(target), makeClient(target)];
    clients.push(a, b);
    const writer = new S3Store({ client: a, bucket: target.bucket, prefix, conditionalWrites: false });
    const store = new S3Store({ client: b, bucket: target.bucket, prefix, conditionalWrites: false });
    await writer.addItems('s', [item(1)]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const cutoff = new Date();
    const data = sessionKeys(prefix, 's').data;
    // prune's first listing decides; the append lands before anything else it lists.
    let lists = 0;
    const hook = before(
      b,
      (command, input) => command === 'ListObjectsV2Command' && (input as { Prefix?: string }).Prefix?.startsWith(data) === true && ++lists === 2,
      () => writer.addItems('s', [item(2)]),
    );
    expect(await store.prune({ olderThan: cutoff })).toBe(1);
    expect(hook.fired()).toBe(true);
    expect(await writer.getItems('s')).toEqual([item(2)]);
    const listed: string[] = [];
    for await (const info of store.listSessions()) listed.push(info.sessionId);
    expect(listed).toEqual(['s']);
  });
});
