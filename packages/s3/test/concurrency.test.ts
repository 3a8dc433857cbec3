import { S3Store } from '@sessionkit/s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRequests, makeClient, s3Target, uniquePrefix, type S3Target } from './setup.js';

const WRITERS = 24;
const APPENDS = 4;
const BATCH = 3;

for (const conditional of [true, false]) {
  describe(`many parallel writers (${conditional ? 'conditional writes' : 'conditionalWrites: false'})`, () => {
    let target: S3Target;
    beforeAll(async () => {
      target = await s3Target({ conditional });
    });
    afterAll(async () => {
      await target?.stop();
    });

    it(`${WRITERS} writers on 4 handles: every item once, each batch contiguous, each writer in order`, async () => {
      const prefix = uniquePrefix('conc');
      const clients = Array.from({ length: 4 }, () => makeClient(target));
      // Small objects and a low fan-in make merges run during the race (log mode) and segments flush (conditional).
      const stores = clients.map(
        (client) => new S3Store({ client, bucket: target.bucket, prefix, conditionalWrites: conditional, inlineBytes: 512, mergeFanIn: 2 }),
      );
      try {
        await Promise.all(
          Array.from({ length: WRITERS }, async (_, w) => {
            const store = stores[w % stores.length]!;
            for (let a = 0; a < APPENDS; a++) {
              await store.addItems('shared', Array.from({ length: BATCH }, (_, k) => ({ w, a, k })));
            }
          }),
        );
        const items = (await stores[0]!.getItems('shared')) as { w: number; a: number; k: number }[];
        expect(items).toHaveLength(WRITERS * APPENDS * BATCH);
        const seen = new Set(items.map((i) => `${i.w}/${i.a}/${i.k}`));
        expect(seen.size).toBe(items.length);
        for (let i = 0; i < items.length; i += BATCH) {
          const batch = items.slice(i, i + BATCH);
          expect(batch.map((x) => x.k)).toEqual([0, 1, 2]);
          expect(new Set(batch.map((x) => `${x.w}/${x.a}`)).size).toBe(1);
        }
        for (let w = 0; w < WRITERS; w++) {
          const order = items.filter((x) => x.w === w && x.k === 0).map((x) => x.a);
          expect(order).toEqual([0, 1, 2, 3]);
        }
        // A second read through another handle (after any merges) sees the same history.
        expect(await stores[1]!.getItems('shared')).toEqual(items);
        expect(await stores[2]!.getItems('shared', { limit: 5 })).toEqual(items.slice(-5));
      } finally {
        for (const store of stores) await store.close();
        for (const client of clients) client.destroy();
      }
    }, 120_000);

    if (conditional) {
      it('parallel writes through one handle are queued: no race lost, one manifest read and write each', async () => {
        const client = makeClient(target);
        const counter = countRequests(client);
        const store = new S3Store({ client, bucket: target.bucket, prefix: uniquePrefix('queue') });
        try {
          await store.addItems('q', [{ n: -1 }]);
          const writers = 12;
          const { byCommand } = await counter.measure(() =>
            Promise.all([
              ...Array.from({ length: writers }, (_, n) => store.addItems('q', [{ n }])),
              store.popItem('q'),
              store.applyHistoryTransaction('q', { operationId: 'op', transaction: { type: 'append_items', items: [{ n: 'tx' }] } }),
            ]),
          );
          // Racing writers would each lose some compare-and-swaps (412s), paying another GET and PUT per loss.
          expect(byCommand).toEqual({ GetObject: writers + 2, PutObject: writers + 2 });
          expect(await store.getItems('q')).toHaveLength(writers + 1);
        } finally {
          await store.close();
          client.destroy();
        }
      });

      it('parallel pops and transactions on 4 handles never lose or duplicate an item', async () => {
        const prefix = uniquePrefix('pops');
        const clients = Array.from({ length: 4 }, () => makeClient(target));
        const stores = clients.map((client) => new S3Store({ client, bucket: target.bucket, prefix, inlineBytes: 256 }));
        try {
          const all = Array.from({ length: 40 }, (_, n) => ({ n }));
          await stores[0]!.addItems('p', all);
          const popped = await Promise.all(Array.from({ length: 20 }, (_, i) => stores[i % 4]!.popItem('p')));
          const numbers = popped.map((p) => (p as { n: number }).n).sort((a, b) => a - b);
          expect(numbers).toEqual(Array.from({ length: 20 }, (_, i) => 20 + i));
          expect(await stores[1]!.getItems('p')).toEqual(all.slice(0, 20));
          // Racing replace_suffix transactions on the same suffix: exactly one applies.
          const results = await Promise.allSettled(
            Array.from({ length: 6 }, (_, i) =>
              stores[i % 4]!.applyHistoryTransaction('p', {
                operationId: `op-${i}`,
                transaction: { type: 'replace_suffix', expectedSuffix: [all[19]], replacement: [{ summary: i }] },
              }),
            ),
          );
          expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
          const items = await stores[2]!.getItems('p');
          expect(items).toHaveLength(20);
          expect(items.slice(0, 19)).toEqual(all.slice(0, 19));
        } finally {
          for (const store of stores) await store.close();
          for (const client of clients) client.destroy();
        }
      }, 120_000);
    }
  });
}
