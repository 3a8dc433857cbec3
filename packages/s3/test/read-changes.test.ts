/**
 * readChanges beyond the conformance catalogue: what it costs in requests in
 * the manifest layout, that the log layout does not offer it, and hostile ids.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { SessionErrorCode } from '@sessionkit/core';
import { HOSTILE_IDS } from '@sessionkit/conformance';
import { S3Store } from '@sessionkit/s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRequests, makeClient, s3Target, uniquePrefix, type S3Target } from './setup.js';

const item = (n: number) => ({ type: 'message', role: n % 2 ? 'assistant' : 'user', content: `m${n} `.padEnd(100, 'x') });

describe('readChanges (conditional writes)', () => {
  let target: S3Target;
  let client: S3Client;
  let counter: ReturnType<typeof countRequests>;
  beforeAll(async () => {
    target = await s3Target({ conditional: true });
    client = makeClient(target);
    counter = countRequests(client);
  });
  afterAll(async () => {
    client?.destroy();
    await target?.stop();
  });
  const open = (extra: Record<string, unknown> = {}) => new S3Store({ client, bucket: target.bucket, prefix: uniquePrefix('changes'), ...extra });

  it('is declared', () => {
    expect(open().capabilities.readChanges).toBe(true);
  });

  it('an appended read whose new items are all inline is one GET, however long the history', async () => {
    const store = open({ inlineBytes: 2048 });
    const all = Array.from({ length: 300 }, (_, n) => item(n));
    for (let i = 0; i < all.length; i += 10) await store.addItems('s', all.slice(i, i + 10));
    const first = await store.readChanges('s');
    expect(first).toMatchObject({ whole: true, version: { length: 300 } });
    expect(first.items).toEqual(all);
    const fullRead = await counter.measure(() => store.readChanges('s'));
    expect(fullRead.byCommand.GetObject).toBeGreaterThan(2); // the history is spread over segments

    await store.addItems('s', [item(300), item(301)]);
    let changes: Awaited<ReturnType<typeof store.readChanges>> | undefined;
    const appended = await counter.measure(async () => (changes = await store.readChanges('s', first.version)));
    expect(changes).toEqual({ version: { epoch: first.version.epoch, length: 302 }, whole: false, items: [item(300), item(301)] });
    expect(appended.byCommand).toEqual({ GetObject: 1 });

    // Nothing new: the manifest alone.
    const unchanged = await counter.measure(async () => (changes = await store.readChanges('s', changes!.version)));
    expect(changes).toEqual({ version: { epoch: first.version.epoch, length: 302 }, whole: false, items: [] });
    expect(unchanged.byCommand).toEqual({ GetObject: 1 });
  });

  it('an appended read that spills past the inline items fetches only the tail segments it needs', async () => {
    const store = open({ inlineBytes: 1024 });
    const all = Array.from({ length: 300 }, (_, n) => item(n));
    for (let i = 0; i < 200; i += 10) await store.addItems('s', all.slice(i, i + 10));
    const since = (await store.readChanges('s')).version;
    for (let i = 200; i < 300; i += 10) await store.addItems('s', all.slice(i, i + 10));
    const whole = await counter.measure(() => store.getItems('s'));
    let changes: Awaited<ReturnType<typeof store.readChanges>> | undefined;
    const appended = await counter.measure(async () => (changes = await store.readChanges('s', since)));
    expect(changes).toEqual({ version: { epoch: since.epoch, length: 300 }, whole: false, items: all.slice(200) });
    expect(appended.byCommand.GetObject).toBeGreaterThan(1);
    expect(appended.total).toBeLessThan(whole.total);
  });

  it('epochs live in the manifest: another handle reads the same version, and a pop renews it for both', async () => {
    const prefix = uniquePrefix('changes-shared');
    const a = new S3Store({ client, bucket: target.bucket, prefix });
    const b = new S3Store({ client, bucket: target.bucket, prefix });
    await a.addItems('s', [item(1), item(2)]);
    const seen = await a.readChanges('s');
    expect(seen.version.epoch).not.toBe('');
    expect((await b.readChanges('s', seen.version)).version).toEqual(seen.version);
    await b.popItem('s');
    const after = await a.readChanges('s', seen.version);
    expect(after.whole).toBe(true);
    expect(after.version.epoch).not.toBe(seen.version.epoch);
    expect(after.items).toEqual([item(1)]);
  });

  it('hostile session ids: isolated, each with its own epoch and appended items', async () => {
    const store = open();
    const ids = [...new Set(HOSTILE_IDS)];
    const versions = new Map<string, { epoch: string; length: number }>();
    for (const [n, id] of ids.entries()) {
      await store.addItems(id, [item(n)]);
      const changes = await store.readChanges(id);
      expect(changes).toMatchObject({ whole: true, items: [item(n)], version: { length: 1 } });
      versions.set(id, changes.version);
    }
    expect(new Set([...versions.values()].map((v) => v.epoch)).size).toBe(ids.length);
    for (const [n, id] of ids.entries()) await store.addItems(id, [item(1000 + n)]);
    for (const [n, id] of ids.entries()) {
      const since = versions.get(id)!;
      expect(await store.readChanges(id, since)).toEqual({ version: { epoch: since.epoch, length: 2 }, whole: false, items: [item(1000 + n)] });
    }
  });
});

describe('readChanges (conditionalWrites: false)', () => {
  let target: S3Target;
  let client: S3Client;
  beforeAll(async () => {
    target = await s3Target({ conditional: false });
    client = makeClient(target);
  });
  afterAll(async () => {
    client?.destroy();
    await target?.stop();
  });

  it('is not declared, and refused with UNSUPPORTED', async () => {
    const store = new S3Store({ client, bucket: target.bucket, prefix: uniquePrefix('changes-log'), conditionalWrites: false });
    expect(store.capabilities.readChanges).toBe(false);
    await store.addItems('s', [item(1)]);
    await expect(store.readChanges('s')).rejects.toMatchObject({ code: SessionErrorCode.Unsupported });
  });
});
