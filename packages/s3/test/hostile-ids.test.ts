import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { HOSTILE_IDS } from '@sessionkit/conformance';
import { S3Store, sessionKeys, sessionSegment } from '@sessionkit/s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeClient, s3Target, uniquePrefix, type S3Target } from './setup.js';

const IDS = [
  ...HOSTILE_IDS,
  'a', 'ab', 'a/b', 'a%2Fb', 'a/', '/a', '../x', '..', '.', 'h/x', 'd/x', 'b', 'h',
  'x'.repeat(512), `${'x'.repeat(511)}y`, '\u{1F600}'.repeat(256), 'é', 'e\u0301',
];

describe('hostile session ids', () => {
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
    const segments = unique.map(sessionSegment);
    expect(new Set(segments).size).toBe(unique.length);
    for (const s of segments) {
      expect(s).toMatch(/^[bh][A-Za-z0-9_-]+$/);
      expect(s.length).toBeLessThanOrEqual(200);
    }
  });

  for (const conditional of [true, false]) {
    it(`stay inside the prefix and their own segment, isolated and listed exactly (${conditional ? 'conditional' : 'log'})`, async () => {
      const prefix = uniquePrefix('ids');
      const store = new S3Store({ client, bucket: target.bucket, prefix, conditionalWrites: conditional });
      const unique = [...new Set(IDS)];
      for (const [n, id] of unique.entries()) await store.addItems(id, [{ n }]);
      for (const [n, id] of unique.entries()) expect(await store.getItems(id)).toEqual([{ n }]);

      // Every key is the session's head or under its own data prefix, inside the store's prefix.
      const listed = await client.send(new ListObjectsV2Command({ Bucket: target.bucket, Prefix: 'sktest/' }));
      const keys = (listed.Contents ?? []).map((o) => o.Key!).filter((k) => k.startsWith(prefix));
      const allowed = unique.map((id) => sessionKeys(prefix, id));
      for (const key of keys) {
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
