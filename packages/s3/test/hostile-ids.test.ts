import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { HOSTILE_IDS } from '@sessionkit/conformance';
import { S3Store } from '@sessionkit/s3';
import { sessionKeys, sessionDir } from '../src/keys.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeClient, realService, s3Target, uniquePrefix, type S3Target } from './setup.js';

const IDS = [
  ...HOSTILE_IDS,
  'a', 'ab', 'a/b', 'a%2Fb', 'a/', '/a', '../x', '..', '.', 'h/x', 'd/x', 'b', 'h',
  'x'.repeat(512), `${'x'.repeat(511)}y`, '\u{1F600}'.repeat(256), 'é', 'e\u0301',
];

/** Every key in the bucket, all pages. */
async function listBucket(client: S3Client, bucket: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const out = await client.send(new ListObjectsV2Command({ Bucket: bucket, ...(token ? { ContinuationToken: token } : {}) }));
    for (const o of out.Contents ?? []) keys.push(o.Key!);
    token = out.IsTruncated ? out.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

describe('hostile session ids', () => {
  const usedPrefixes: string[] = [];
  let target: S3Target;
  let client: S3Client;
  beforeAll(async () => {
    target = await s3Target({ conditional: true });
    client = makeClient(target);
  });
  afterAll(async () => {
    client?.destroy();
    await target?.stop();
  });

  it('map to distinct single path segments', () => {
    const unique = [...new Set(IDS)];
    const segments = unique.map(sessionDir);
    expect(new Set(segments).size).toBe(unique.length);
    for (const s of segments) {
      expect(s).toMatch(/^[bh][A-Za-z0-9_-]+$/);
      expect(s.length).toBeLessThanOrEqual(200);
    }
  });

  for (const conditional of [true, false]) {
    it(`stay inside the prefix and their own segment, isolated and listed exactly (${conditional ? 'conditional' : 'log'})`, async () => {
      const prefix = uniquePrefix('ids');
      usedPrefixes.push(prefix);
      const store = new S3Store({ client, bucket: target.bucket, prefix, conditionalWrites: conditional });
      const unique = [...new Set(IDS)];
      for (const [n, id] of unique.entries()) await store.addItems(id, [{ n }]);
      for (const [n, id] of unique.entries()) expect(await store.getItems(id)).toEqual([{ n }]);

      // Every key in the whole bucket is inside a prefix this file used (nothing escaped), and
      // every key under this store's prefix is one session's head or under its own data prefix.
      const keys = await listBucket(client, target.bucket);
      expect(keys.length).toBeGreaterThanOrEqual(unique.length);
      for (const key of keys) {
        if (realService && !key.startsWith('sktest/')) continue; // a shared bucket may hold other data
        expect(usedPrefixes.some((p) => key.startsWith(p)), 'a key outside every prefix this test used').toBe(true);
      }
      const allowed = unique.map((id) => sessionKeys(prefix, id));
      const mine = keys.filter((k) => k.startsWith(prefix));
      expect(mine.length).toBeGreaterThanOrEqual(unique.length);
      for (const key of mine) {
        expect(allowed.filter((k) => key === k.head || key.startsWith(k.data))).toHaveLength(1);
      }

      const seen: string[] = [];
      for await (const info of store.listSessions({ pageSize: 7 })) seen.push(info.sessionId);
      expect(seen.sort()).toEqual([...unique].sort());

      // Clearing one id never touches an id it is a prefix of, or one that looks like its escaped form.
      await store.clearSession('a');
      expect(await store.getItems('ab')).toHaveLength(1);
      await store.clearSession('a/b');
      expect(await store.getItems('a%2Fb')).toHaveLength(1);
      expect(await store.getItems('a/')).toHaveLength(1);
      await store.close();
    }, 120_000);
  }
});
