import { trackLocations, type ConformanceHarness } from '@sessionkit/conformance';
import type { S3Store } from '@sessionkit/s3';
import { lazyTarget } from '@sessionkit/test-servers';
import { sessionKeys } from '../src/keys.js';
import { distAvailable, fixtureModule, makeClient, openStore, s3Target, uniquePrefix, type Location } from './setup.js';

/**
 * The conformance harness for one S3 mode. The server starts on first use
 * and stops in teardown; each store gets its own key prefix in the bucket.
 */
export function s3Harness(conditional: boolean): ConformanceHarness<S3Store> & { stop(): Promise<void> } {
  const { get: where, stop } = lazyTarget(() => s3Target({ conditional }));
  const { open, locationOf } = trackLocations((location: Location) => openStore(location));

  return {
    async create(options = {}) {
      const t = await where();
      return open({
        endpoint: t.endpoint,
        bucket: t.bucket,
        region: t.region,
        credentials: t.credentials,
        prefix: uniquePrefix(conditional ? 'cas' : 'log'),
        conditionalWrites: conditional,
        ...(options.ttl !== undefined ? { ttl: options.ttl } : {}),
      });
    },
    reopen: (store) => open(locationOf(store)),
    ...(distAvailable
      ? { processes: { module: fixtureModule, exportName: 'openStore', location: locationOf } }
      : {}),
    async injectCorruptItem(store, sessionId) {
      // Past the codec, straight into the object holding the newest items: a line JSON.parse rejects.
      const { PutObjectCommand, GetObjectCommand } = await import('@aws-sdk/client-s3');
      const client = makeClient(locationOf(store));
      try {
        const keys = sessionKeys(store.prefix, sessionId);
        if (store.conditionalWrites) {
          const head = await client.send(new GetObjectCommand({ Bucket: store.bucket, Key: keys.head }));
          const text = await head.Body!.transformToString();
          const body = text.includes('\n') || !text ? `${text}\n{"corrupt": ` : `${text}\n{"corrupt": `;
          await client.send(new PutObjectCommand({ Bucket: store.bucket, Key: keys.head, Body: body, IfMatch: head.ETag }));
        } else {
          const name = `${String(Date.now() + 1000).padStart(13, '0')}zzzz-corrupt`;
          const header = JSON.stringify({ v: 1, m: 'l', src: [[name, 1]] });
          await client.send(new PutObjectCommand({ Bucket: store.bucket, Key: keys.log + name, Body: `${header}\n{"corrupt": ` }));
        }
      } finally {
        client.destroy();
      }
    },
    teardown: stop,
    stop,
  };
}
