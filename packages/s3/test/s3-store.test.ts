import { SessionErrorCode } from '@sessionkit/core';
import { S3Store } from '@sessionkit/s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Socket } from 'node:net';
import { freePort } from '@sessionkit/test-servers';
import { clientConfig, makeClient, s3Target, uniquePrefix, type S3Target } from './setup.js';

const item = (n: number) => ({ type: 'message', role: n % 2 ? 'assistant' : 'user', content: `m${n}` });

for (const conditional of [true, false]) {
  describe(`S3Store (${conditional ? 'conditional writes' : 'conditionalWrites: false'})`, () => {
    let target: S3Target;
    let client: ReturnType<typeof makeClient>;
    beforeAll(async () => {
      target = await s3Target({ conditional });
      client = makeClient(target);
    });
    afterAll(async () => {
      client?.destroy();
      await target?.stop();
    });
    const open = (extra: Record<string, unknown> = {}) =>
      new S3Store({ client, bucket: target.bucket, prefix: uniquePrefix(), conditionalWrites: conditional, ...extra });

    it('round-trips appends, limits, pops and clear', async () => {
      const store = open({ inlineBytes: 256 });
      const all = Array.from({ length: 60 }, (_, n) => item(n));
      for (let i = 0; i < 60; i += 6) await store.addItems('s', all.slice(i, i + 6));
      expect(await store.getItems('s')).toEqual(all);
      expect(await store.getItems('s', { limit: 7 })).toEqual(all.slice(-7));
      expect(await store.getItems('s', { limit: 1000 })).toEqual(all);
      expect(await store.popItem('s')).toEqual(all[59]);
      expect(await store.popItem('s')).toEqual(all[58]);
      expect(await store.getItems('s', { limit: 2 })).toEqual(all.slice(56, 58));
      expect(await store.getItems('s')).toEqual(all.slice(0, 58));
      const info = await store.getSessionInfo('s');
      expect(info?.itemCount).toBe(58);
      await store.clearSession('s');
      expect(await store.getItems('s')).toEqual([]);
      expect(await store.popItem('s')).toBeUndefined();
      expect(await store.getSessionInfo('s')).toBeUndefined();
      await store.close();
    });

    it('lists and prunes sessions', async () => {
      const store = open();
      for (const id of ['a', 'ab', 'a/b', 'a%2Fb']) await store.addItems(id, [item(1)]);
      const seen: string[] = [];
      for await (const info of store.listSessions({ pageSize: 2 })) seen.push(info.sessionId);
      expect(seen.sort()).toEqual(['a', 'a%2Fb', 'a/b', 'ab']);
      expect(await store.prune({ olderThan: new Date(Date.now() + 60_000) })).toBe(4);
      expect(await store.getItems('a')).toEqual([]);
      await store.close();
    });

    it('prune deletes every session last written before the cutoff, counting only those not yet expired by ttl', async () => {
      const store = open({ ttl: 1500 });
      await store.addItems('expired', [item(1)]);
      await new Promise((resolve) => setTimeout(resolve, 1800));
      await store.addItems('live', [item(2)]);
      expect(await store.getItems('expired')).toEqual([]);
      expect(await store.prune({ olderThan: new Date(Date.now() + 60_000) })).toBe(1);
      const seen: string[] = [];
      for await (const info of store.listSessions()) seen.push(info.sessionId);
      expect(seen).toEqual([]);
      // Both are gone from the bucket: a second prune finds nothing.
      expect(await store.prune({ olderThan: new Date(Date.now() + 60_000) })).toBe(0);
      await store.close();
    });

    it('prune deletes a session popped to empty but does not count it; one that still holds items counts', async () => {
      // mergeFanIn 2: in log mode the second append merges both batches into one object, which the pops then empty.
      const store = open({ mergeFanIn: 2 });
      for (const id of ['empty', 'one-left', 'merged']) {
        await store.addItems(id, [item(1)]);
        await store.addItems(id, [item(2)]);
      }
      await store.popItem('empty');
      await store.popItem('empty');
      await store.popItem('one-left');
      expect(await store.getItems('empty')).toEqual([]);
      expect(await store.getSessionInfo('empty')).toBeUndefined();
      expect(await store.getItems('one-left')).toEqual([item(1)]);
      const seen: string[] = [];
      for await (const info of store.listSessions()) seen.push(info.sessionId);
      expect(seen.sort()).toEqual(['merged', 'one-left']);
      // Counted exactly as listed: the empty session is not.
      expect(await store.prune({ olderThan: new Date(Date.now() + 60_000) })).toBe(2);
      // Every object of all three is gone, the empty one's too.
      const { ListObjectsV2Command } = await import('@aws-sdk/client-s3');
      const left = await client.send(new ListObjectsV2Command({ Bucket: target.bucket, Prefix: store.prefix }));
      expect((left.Contents ?? []).map((o) => o.Key)).toEqual([]);
      await store.close();
    });

    it('never destroys a client it was given', async () => {
      const store = open();
      await store.addItems('x', [item(1)]);
      await store.close();
      await expect(store.getItems('x')).rejects.toMatchObject({ code: SessionErrorCode.Closed });
      const again = open();
      expect(await again.getItems('x')).toEqual([]); // other prefix, but the client still works
    });

    if (conditional) {
      it('applies transactions with an operation log', async () => {
        const store = open({ inlineBytes: 128 });
        await store.addItems('t', [item(1), item(2), item(3)]);
        await store.applyHistoryTransaction('t', { operationId: 'op1', transaction: { type: 'replace_suffix', expectedSuffix: [item(2), item(3)], replacement: [item(9)] } });
        expect(await store.getItems('t')).toEqual([item(1), item(9)]);
        await store.applyHistoryTransaction('t', { operationId: 'op1', transaction: { type: 'replace_suffix', expectedSuffix: [item(2), item(3)], replacement: [item(9)] } });
        expect(await store.getItems('t')).toEqual([item(1), item(9)]);
        await expect(store.applyHistoryTransaction('t', { operationId: 'op1', transaction: { type: 'append_items', items: [item(4)] } })).rejects.toMatchObject({ code: SessionErrorCode.Conflict });
        await expect(store.applyHistoryTransaction('t', { operationId: 'op2', transaction: { type: 'replace_suffix', expectedSuffix: [item(2)], replacement: [] } })).rejects.toMatchObject({ code: SessionErrorCode.Conflict });
        expect(await store.getItems('t')).toEqual([item(1), item(9)]);
      });

      it('replaces the whole history in one manifest write: old segments swept, op log and createdAt kept', async () => {
        const store = open({ inlineBytes: 128 });
        const all = Array.from({ length: 40 }, (_, n) => item(n));
        for (let i = 0; i < 40; i += 5) await store.addItems('r', all.slice(i, i + 5));
        await store.applyHistoryTransaction('r', { operationId: 'op', transaction: { type: 'append_items', items: [item(40)] } });
        const before = (await store.getSessionInfo('r'))!;
        const segmentsOf = async () => {
          const { ListObjectsV2Command } = await import('@aws-sdk/client-s3');
          const listed = await client.send(new ListObjectsV2Command({ Bucket: target.bucket, Prefix: `${store.prefix}d/` }));
          return (listed.Contents ?? []).map((o) => o.Key!);
        };
        const oldSegments = await segmentsOf();
        expect(oldSegments.length).toBeGreaterThan(0);
        const replacement = Array.from({ length: 12 }, (_, n) => item(100 + n));
        await store.replaceHistory('r', replacement);
        expect(await store.getItems('r')).toEqual(replacement);
        expect(await store.getItems('r', { limit: 3 })).toEqual(replacement.slice(-3));
        const after = (await store.getSessionInfo('r'))!;
        expect(after.createdAt).toEqual(before.createdAt);
        expect(after.itemCount).toBe(12);
        // The old segments are garbage after the commit and were swept.
        const now = await segmentsOf();
        expect(now.filter((k) => oldSegments.includes(k))).toEqual([]);
        // The op log survived: the replayed operation is still a no-op.
        await store.applyHistoryTransaction('r', { operationId: 'op', transaction: { type: 'append_items', items: [item(40)] } });
        expect(await store.getItems('r')).toEqual(replacement);
        await store.replaceHistory('r', []);
        expect(await store.getItems('r')).toEqual([]);
        expect(await store.getSessionInfo('r')).toBeUndefined();
        await store.applyHistoryTransaction('r', { operationId: 'op', transaction: { type: 'append_items', items: [item(40)] } });
        expect(await store.getItems('r')).toEqual([]);
        await store.close();
      });

      it('a replacement racing appends is one compare-and-swap: every append lands wholly before or after it', async () => {
        const store = open({ inlineBytes: 256 });
        await store.addItems('race', [item(0)]);
        const appends = Array.from({ length: 6 }, (_, n) => store.addItems('race', [item(10 + n), item(20 + n)]));
        await Promise.all([...appends, store.replaceHistory('race', [item(99)])]);
        const items = await store.getItems('race');
        expect(items[0]).toEqual(item(99));
        // Pairs after the replacement arrive whole.
        const rest = items.slice(1);
        expect(rest.length % 2).toBe(0);
        for (let i = 0; i < rest.length; i += 2) expect((rest[i + 1] as { content: string }).content).toBe(`m${Number((rest[i] as { content: string }).content.slice(1)) + 10}`);
        await store.close();
      });
    } else {
      it('declares the weaker capabilities', () => {
        const store = open();
        expect(store.capabilities.transactions).toBe(false);
        expect(store.capabilities.atomicReadModifyWrite).toBe(false);
        // No compare-and-swap: a whole-history swap could not be one atomic step.
        expect(store.capabilities.replaceHistory).toBe(false);
        expect(store.session('x').replaceHistoryWithCompaction).toBeUndefined();
      });
    }
  });
}

describe('S3Store errors and options', () => {
  it('maps an unreachable endpoint to BACKEND_UNAVAILABLE', async () => {
    const port = await freePort();
    const config = clientConfig({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    for (const conditionalWrites of [true, false]) {
      const store = new S3Store({ clientConfig: { ...config, maxAttempts: 1 }, bucket: 'b', conditionalWrites });
      await expect(store.getItems('s')).rejects.toMatchObject({ code: SessionErrorCode.BackendUnavailable });
      await expect(store.addItems('s', [1])).rejects.toMatchObject({ code: SessionErrorCode.BackendUnavailable });
      await store.close();
    }
  });

  it('fails with BACKEND_UNAVAILABLE when the endpoint accepts but never answers (requestTimeoutMs)', async () => {
    // A real loopback socket that takes the request and says nothing.
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('data', () => {});
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    try {
      const config = clientConfig({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
      for (const conditionalWrites of [true, false]) {
        const store = new S3Store({ clientConfig: config, bucket: 'b', conditionalWrites, requestTimeoutMs: 300 });
        const started = Date.now();
        await expect(store.getItems('s')).rejects.toMatchObject({ code: SessionErrorCode.BackendUnavailable });
        await expect(store.addItems('s', [1])).rejects.toMatchObject({ code: SessionErrorCode.BackendUnavailable });
        await expect(store.prune({ olderThan: new Date() })).rejects.toMatchObject({ code: SessionErrorCode.BackendUnavailable });
        // Three calls, each bounded by the deadline (which covers the SDK's own retries); generous for a loaded machine.
        expect(Date.now() - started).toBeLessThan(10_000);
        await store.close();
      }
      // The same deadline applies to the store's requests on a client it was given.
      const given = makeClient({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
      const store = new S3Store({ client: given, bucket: 'b', requestTimeoutMs: 300 });
      await expect(store.getItems('s')).rejects.toMatchObject({ code: SessionErrorCode.BackendUnavailable });
      await store.close();
      given.destroy();
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('refuses bad options with INVALID_ARGUMENT', () => {
    const client = makeClient({ endpoint: 'http://127.0.0.1:1', region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    for (const bad of [
      { bucket: 'b' },
      { client, bucket: '' },
      { client, bucket: 'b', prefix: 'no-slash' },
      { client, bucket: 'b', ttl: -1 },
      { client, bucket: 'b', mergeFanIn: 1 },
      { client, bucket: 'b', inlineBytes: 0 },
      { client, bucket: 'b', requestTimeoutMs: -1 },
      { client, bucket: 'b', requestTimeoutMs: 1.5 },
      // The client options are checked too, not handed to the SDK to fail on first use.
      { clientConfig: 'x', bucket: 'b' },
      { clientConfig: ['x'], bucket: 'b' },
      { clientConfig: null, bucket: 'b' },
      { client: 'x', bucket: 'b' },
      { client: {}, bucket: 'b' },
      { client: null, bucket: 'b' },
    ]) {
      expect(() => new S3Store(bad as never)).toThrow(expect.objectContaining({ code: SessionErrorCode.InvalidArgument }));
    }
    client.destroy();
  });
});
