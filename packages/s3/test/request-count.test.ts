import type { S3Client } from '@aws-sdk/client-s3';
import { S3Store } from '@sessionkit/s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRequests, makeClient, s3Target, uniquePrefix, type S3Target } from './setup.js';

// A message shaped like the Agents SDK's items, about 200 bytes encoded.
const item = (n: number) => ({ type: 'message', role: n % 2 ? 'assistant' : 'user', content: [{ type: 'output_text', text: `message ${n} `.padEnd(150, 'lorem ipsum ') }] });

const HISTORIES = [10, 1_000, 10_000];
const BATCH = 20;

for (const conditional of [true, false]) {
  describe(`request counts (${conditional ? 'conditional writes' : 'conditionalWrites: false'})`, () => {
    let target: S3Target;
    let client: S3Client;
    let counter: ReturnType<typeof countRequests>;
    const results = new Map<number, { tail: number; full: number; append: number }>();

    beforeAll(async () => {
      target = await s3Target({ conditional });
      client = makeClient(target);
      counter = countRequests(client);
    });
    afterAll(async () => {
      client?.destroy();
      await target?.stop();
    });

    for (const history of HISTORIES) {
      it(`at ${history.toLocaleString('en-US')} items: tail read O(1), full read far below one request per item`, async () => {
        const store = new S3Store({ client, bucket: target.bucket, prefix: uniquePrefix('count'), conditionalWrites: conditional });
        const all = Array.from({ length: history }, (_, n) => item(n));
        for (let i = 0; i < history; i += BATCH) await store.addItems('s', all.slice(i, i + BATCH));

        const append = await counter.measure(() => store.addItems('s', [item(history)]));
        all.push(item(history));
        let tailItems: unknown[] = [];
        const tail = await counter.measure(async () => (tailItems = await store.getItems('s', { limit: 20 })));
        expect(tailItems).toEqual(all.slice(-20));
        let fullItems: unknown[] = [];
        const full = await counter.measure(async () => (fullItems = await store.getItems('s')));
        expect(fullItems).toEqual(all);
        results.set(history, { tail: tail.total, full: full.total, append: append.total });

        // Tail: the manifest and at most two segments; or one listing and a few newest objects.
        expect(tail.total, JSON.stringify(tail.byCommand)).toBeLessThanOrEqual(conditional ? 3 : 5);
        expect(tail.byCommand.ListObjectsV2 ?? 0).toBeLessThanOrEqual(conditional ? 0 : 1);
        // Append: read + compare-and-swap of the manifest (plus a segment flush/merge now and then); or object + index.
        expect(append.total, JSON.stringify(append.byCommand)).toBeLessThanOrEqual(conditional ? 12 : 3);
        // Full read: segments/objects are merged, so requests stay far below one per item (or per batch).
        expect(full.total, JSON.stringify(full.byCommand)).toBeLessThanOrEqual(Math.min(history, conditional ? 30 : 40));
        await store.clearSession('s');
      }, 180_000);
    }

    it('tail read costs the same at every history size', () => {
      const tails = HISTORIES.map((h) => results.get(h)?.tail);
      expect(tails.every((t) => t !== undefined)).toBe(true);
      const counts = tails as number[];
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
      console.log(`request counts (${conditional ? 'conditional' : 'log'}):`, JSON.stringify(Object.fromEntries(results)));
    });
  });
}
