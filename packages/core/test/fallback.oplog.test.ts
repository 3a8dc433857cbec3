import { describe, expect, it } from 'vitest';
import { withFaults } from '@sessionkit/conformance';
import { MemoryStore, SessionErrorCode, type HistoryTransactionArgs } from '@sessionkit/core';
import { OPERATION_LOG_RETENTION } from '@sessionkit/core/adapter';
import { faulty, msg, open } from './fallback-harness.js';

const append = (operationId: string, text: string, expectedLength?: number): HistoryTransactionArgs => ({
  operationId,
  transaction: { type: 'append_items', items: [msg(text)] },
  ...(expectedLength === undefined ? {} : { expectedLength }),
});

/** The error a plain store gives for `args` after `first` was applied under the same id. */
async function plainAnswer(first: HistoryTransactionArgs, args: HistoryTransactionArgs): Promise<unknown> {
  const plain = new MemoryStore();
  await plain.addItems('s', [msg('hi')]);
  await plain.applyHistoryTransaction('s', first);
  return plain.applyHistoryTransaction('s', args).then(() => 'resolved', (error: unknown) => error);
}

/** A primary that goes down, one transaction served by the secondary, and the resync: /tmp/deco/f1-tx-replay.mjs. */
async function outageThenResync(tx: HistoryTransactionArgs) {
  const { data: primaryData, faults: primary } = faulty();
  const secondary = new MemoryStore();
  const store = open(primary, [secondary]);
  await store.addItems('s', [msg('hi')]);
  primary.fail('*');
  await store.applyHistoryTransaction('s', tx);
  expect(store.status().state).toBe('degraded');
  primary.heal();
  expect(await store.resync()).toMatchObject({ state: 'healthy', pendingSessions: 0 });
  return { primary, primaryData, secondary, store };
}

describe('withFallback: operation ids through an outage and a repair', () => {
  it('a transaction served during the outage and repeated after the resync is a no-op on every replica', async () => {
    const replace: HistoryTransactionArgs = {
      operationId: 'op-2',
      transaction: { type: 'replace_suffix', expectedSuffix: [msg('once')], replacement: [msg('2')] },
    };
    const { primaryData, secondary, store } = await outageThenResync(append('op-1', 'once'));
    // Served while healthy, by every replica: their own logs answer its repeat.
    await store.applyHistoryTransaction('s', replace);
    const want = [msg('hi'), msg('2')];
    expect(await primaryData.getItems('s')).toEqual(want);
    // A resumed run repeats both: the contract says a repeat is a no-op.
    await store.applyHistoryTransaction('s', append('op-1', 'once'));
    await store.applyHistoryTransaction('s', replace);
    expect(await store.getItems('s')).toEqual(want);
    expect(await primaryData.getItems('s')).toEqual(want);
    expect(await secondary.getItems('s')).toEqual(want);
    expect(store.status()).toMatchObject({ state: 'healthy', pendingSessions: 0, staleSecondaries: [] });
  });

  it('a different transaction under a recorded id is CONFLICT, as a store answers, and reaches no replica', async () => {
    const { primaryData, secondary, store } = await outageThenResync(append('op-1', 'once'));
    const other = append('op-1', 'other');
    const error = await store.applyHistoryTransaction('s', other).then(() => 'resolved', (e: unknown) => e);
    const plain = await plainAnswer(append('op-1', 'once'), other);
    expect(error).toMatchObject({ code: SessionErrorCode.Conflict, message: (plain as Error).message });
    expect((plain as { code: string }).code).toBe(SessionErrorCode.Conflict);
    const want = [msg('hi'), msg('once')];
    expect(await primaryData.getItems('s')).toEqual(want);
    expect(await secondary.getItems('s')).toEqual(want);
    // Another session's log is its own: the same id is new there.
    await store.applyHistoryTransaction('t', other);
    expect(await primaryData.getItems('t')).toEqual([msg('other')]);
    expect(await secondary.getItems('t')).toEqual([msg('other')]);
  });

  it('a transaction a stale secondary missed is not applied there again after its repair, nor after a failover to it', async () => {
    const { data: primaryData, faults: primary } = faulty();
    const { data: secondaryData, faults: secondary } = faulty();
    const store = open(primary, [secondary]);
    await store.addItems('s', [msg('hi')]);
    secondary.fail('applyHistoryTransaction', { times: 1 }); // the mirror fails: stale for s
    await store.applyHistoryTransaction('s', append('op-1', 'once'));
    expect(store.status().staleSecondaries).toEqual([{ index: 0, sessions: 1 }]);
    // Missed while stale too (skipped by the mirror).
    await store.applyHistoryTransaction('s', append('op-2', 'twice'));
    expect(await store.resync()).toMatchObject({ staleSecondaries: [] });
    const want = [msg('hi'), msg('once'), msg('twice')];
    expect(await secondaryData.getItems('s')).toEqual(want);
    // Healthy: the repeat would be mirrored to the repaired secondary, whose log lacks the ids.
    await store.applyHistoryTransaction('s', append('op-1', 'once'));
    await store.applyHistoryTransaction('s', append('op-2', 'twice'));
    expect(await primaryData.getItems('s')).toEqual(want);
    expect(await secondaryData.getItems('s')).toEqual(want);
    // Degraded: the repaired secondary would serve the repeat itself.
    primary.fail('*');
    expect(await store.getItems('s')).toEqual(want);
    expect(store.status().state).toBe('degraded');
    await store.applyHistoryTransaction('s', append('op-1', 'once'));
    await store.applyHistoryTransaction('s', append('op-2', 'twice'));
    expect(await secondaryData.getItems('s')).toEqual(want);
    primary.heal();
    await store.resync();
    expect(await primaryData.getItems('s')).toEqual(want);
  });

  it('a clear through the fallback drops the record (the log is emptied); a replacement keeps it', async () => {
    const { primaryData, secondary, store } = await outageThenResync(append('op-1', 'once'));
    // A replacement keeps the log: the id still names the first transaction.
    await store.replaceHistory!('s', [msg('replaced')]);
    await store.applyHistoryTransaction('s', append('op-1', 'once'));
    await expect(store.applyHistoryTransaction('s', append('op-1', 'other'))).rejects.toMatchObject({ code: SessionErrorCode.Conflict });
    expect(await primaryData.getItems('s')).toEqual([msg('replaced')]);
    // A clear empties the log: the id is new again, on every replica, as on a plain store.
    await store.clearSession('s');
    await store.applyHistoryTransaction('s', append('op-1', 'other'));
    expect(await primaryData.getItems('s')).toEqual([msg('other')]);
    expect(await secondary.getItems('s')).toEqual([msg('other')]);
    expect(await store.getItems('s')).toEqual([msg('other')]);
  });

  it('a prune that removes the session on the primary drops its record (its log is gone with it)', async () => {
    const { primaryData, secondary, store } = await outageThenResync(append('op-1', 'once'));
    expect(await store.prune!({ olderThan: new Date(Date.now() + 60_000) })).toBe(1);
    await store.applyHistoryTransaction('s', append('op-1', 'other'));
    expect(await primaryData.getItems('s')).toEqual([msg('other')]);
    expect(await secondary.getItems('s')).toEqual([msg('other')]);
  });

  it('the record is bounded like a store log: the oldest id is dropped, as the replicas drop it', async () => {
    const { data: primaryData, faults: primary } = faulty();
    const secondary = new MemoryStore();
    const store = open(primary, [secondary]);
    primary.fail('*');
    for (let i = 0; i <= OPERATION_LOG_RETENTION; i++) await store.applyHistoryTransaction('s', append(`op-${i}`, `m${i}`));
    primary.heal();
    await store.resync();
    // op-0 is beyond every log's retention: applied again on each replica alike (a plain store does the same).
    await store.applyHistoryTransaction('s', append('op-0', 'm0'));
    await store.applyHistoryTransaction('s', append('op-1', 'm1'));
    const items = await primaryData.getItems('s');
    expect(items).toHaveLength(OPERATION_LOG_RETENTION + 2);
    expect(items.at(-1)).toEqual(msg('m0'));
    expect(await secondary.getItems('s')).toEqual(items);
  });

  it('the record lives in this process: after a restart a repeat applies again on the primary, and expectedLength turns it into CONFLICT', async () => {
    for (const expectedLength of [undefined, 1]) {
      const { primaryData, secondary } = await outageThenResync(append('op-1', 'once', expectedLength));
      const restarted = open(withFaults(primaryData), [secondary]);
      const repeat = restarted.applyHistoryTransaction('s', append('op-1', 'once', expectedLength));
      if (expectedLength === undefined) {
        // The documented limit: the primary's copy lacks the id.
        await repeat;
        expect(await primaryData.getItems('s')).toEqual([msg('hi'), msg('once'), msg('once')]);
      } else {
        await expect(repeat).rejects.toMatchObject({ code: SessionErrorCode.Conflict });
        expect(await primaryData.getItems('s')).toEqual([msg('hi'), msg('once')]);
        expect(await secondary.getItems('s')).toEqual([msg('hi'), msg('once')]);
      }
    }
  });
});
