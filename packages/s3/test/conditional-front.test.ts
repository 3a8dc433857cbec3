/**
 * The conditional-write front of the test server (startS3rver({ conditional:
 * true })) answers conditional requests as AWS S3 documents them; the
 * conditional-mode tests are only as good as this. With S3_ENDPOINT set the
 * same checks run against the real service.
 */
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeClient, s3Target, uniquePrefix, type S3Target } from './setup.js';

describe('conditional-write front', () => {
  let target: S3Target;
  let client: S3Client;
  const prefix = uniquePrefix('front');
  beforeAll(async () => {
    target = await s3Target({ conditional: true });
    client = makeClient(target);
  });
  afterAll(async () => {
    client?.destroy();
    await target?.stop();
  });

  const put = (key: string, body: string, condition: { IfMatch?: string; IfNoneMatch?: string } = {}) =>
    client.send(new PutObjectCommand({ Bucket: target.bucket, Key: prefix + key, Body: body, ...condition }));
  const del = (key: string, IfMatch?: string) =>
    client.send(new DeleteObjectCommand({ Bucket: target.bucket, Key: prefix + key, ...(IfMatch ? { IfMatch } : {}) }));
  const read = async (key: string) => {
    try {
      const out = await client.send(new GetObjectCommand({ Bucket: target.bucket, Key: prefix + key }));
      return await out.Body!.transformToString();
    } catch (error) {
      if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
      throw error;
    }
  };
  const status = async (p: Promise<unknown>) => {
    try {
      await p;
      return 200;
    } catch (error) {
      return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    }
  };

  it('PutObject If-None-Match: * creates a missing key and answers 412 on an existing one', async () => {
    expect(await status(put('a', 'one', { IfNoneMatch: '*' }))).toBe(200);
    expect(await status(put('a', 'two', { IfNoneMatch: '*' }))).toBe(412);
    expect(await read('a')).toBe('one');
  });

  it('PutObject If-Match writes on the current ETag, 412 on another, 404 on a missing key', async () => {
    const first = await put('b', 'one');
    expect(await status(put('b', 'two', { IfMatch: '"0123456789abcdef0123456789abcdef"' }))).toBe(412);
    expect(await read('b')).toBe('one');
    const second = await put('b', 'two', { IfMatch: first.ETag! });
    expect(second.ETag).not.toBe(first.ETag);
    expect(await status(put('b', 'three', { IfMatch: first.ETag! }))).toBe(412); // stale now
    expect(await read('b')).toBe('two');
    expect(await status(put('missing', 'x', { IfMatch: first.ETag! }))).toBe(404);
    expect(await read('missing')).toBeUndefined();
  });

  it('DeleteObject If-Match deletes on the current ETag, 412 on another, 404 on a missing key', async () => {
    const first = await put('c', 'one');
    const second = await put('c', 'two');
    expect(await status(del('c', first.ETag!))).toBe(412);
    expect(await read('c')).toBe('two');
    expect(await status(del('c', second.ETag!))).toBeLessThan(300);
    expect(await read('c')).toBeUndefined();
    expect(await status(del('c', second.ETag!))).toBe(404);
    // Without a condition a delete of a missing key still succeeds, as on S3.
    expect(await status(del('c'))).toBeLessThan(300);
  });
});
