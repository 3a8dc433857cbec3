import { describe, expect, it } from 'vitest';
import { MemoryStore, SessionErrorCode } from '@sessionkit/core';
import { faulty, msg, open } from './fallback-harness.js';

/** A stack over a faulty primary and one faulty secondary, as most tests here start. */
function openPair(extra?: Parameters<typeof open>[2]) {
  const { data: primaryData, faults: primary } = faulty();
  const { data: secondaryData, faults: secondary } = faulty();
  return { primaryData, primary, secondaryData, secondary, store: open(primary, [secondary], extra) };
}

describe('withFallback: a secondary failing a write while degraded', () => {
  for (const when of ['before', 'after'] as const) {
    it(`the only secondary holding writes the primary missed stays readable and the resync completes (failure ${when})`, async () => {
      const { primaryData, primary, secondaryData, secondary, store } = openPair();
      await store.addItems('s', [msg('a')]);
      primary.fail('*');
      await store.addItems('s', [msg('b')]); // acknowledged by the secondary only: the primary missed it
      secondary.fail('addItems', { times: 1, when });
      await expect(store.addItems('s', [msg('c')])).rejects.toMatchObject({ code: SessionErrorCode.BackendUnavailable });
      // A failed write may have landed ('after'), as on any store; the acknowledged 'b' must not be held hostage.
      const want = when === 'after' ? [msg('a'), msg('b'), msg('c')] : [msg('a'), msg('b')];
      expect(await store.getItems('s')).toEqual(want);
      primary.heal();
      expect(await store.resync()).toMatchObject({ state: 'healthy', pendingSessions: 0, staleSecondaries: [] });
      expect(await primaryData.getItems('s')).toEqual(want);
      expect(await secondaryData.getItems('s')).toEqual(want);
    });
  }

  it('a secondary skipped because it failed a write that another served is journaled stale, so a restart neither reads it nor copies it to the primary', async () => {
    const { data: primaryData, faults: primary } = faulty();
    const { data: firstData, faults: first } = faulty();
    const second = new MemoryStore();
    const store = open(primary, [first, second]);
    await store.addItems('s', [msg('a')]);
    primary.fail('*');
    first.fail('addItems', { times: 1 });
    await store.addItems('s', [msg('b')]); // the first secondary fails it, the second acknowledges it
    expect(store.status()).toMatchObject({ state: 'degraded', staleSecondaries: [{ index: 0, sessions: 1 }] });
    // The process dies; a new one starts over the same stores.
    const restarted = open(primary, [first, second]);
    const want = [msg('a'), msg('b')];
    expect(await restarted.getItems('s')).toEqual(want);
    expect(restarted.status()).toMatchObject({ state: 'degraded', staleSecondaries: [{ index: 0, sessions: 1 }] });
    primary.heal();
    expect(await restarted.resync()).toMatchObject({ state: 'healthy', pendingSessions: 0, staleSecondaries: [] });
    expect(await primaryData.getItems('s')).toEqual(want);
    expect(await firstData.getItems('s')).toEqual(want);
    expect(await second.getItems('s')).toEqual(want);
  });

  it('a write that timed out on the only secondary holding writes the primary missed is not copied past: the resync waits until it has ended', async () => {
    const { primaryData, primary, secondaryData, secondary, store } = openPair({ timeoutMs: 50 });
    await store.addItems('s', [msg('a')]);
    primary.fail('*');
    await store.addItems('s', [msg('b')]); // acknowledged by the secondary only
    secondary.hang('addItems', { times: 1 });
    await expect(store.addItems('s', [msg('c')])).rejects.toMatchObject({ code: SessionErrorCode.BackendUnavailable });
    primary.heal();
    // The abandoned append may still land on the secondary: copying it to the primary now could be undone by it.
    expect((await store.resync()).state).toBe('degraded');
    secondary.release(); // it lands
    await expect.poll(async () => (await store.resync()).state).toBe('healthy');
    const want = [msg('a'), msg('b'), msg('c')];
    expect(await secondaryData.getItems('s')).toEqual(want);
    expect(await primaryData.getItems('s')).toEqual(want);
  });
});

describe('withFallback: a transaction that failed on every replica and is retried', () => {
  it('is not acknowledged by a secondary that holds its operation id from the failed attempt but whose history a repair has replaced since', async () => {
    const { primaryData, primary, secondaryData, secondary, store } = openPair({ onError: () => {} });
    await store.addItems('s', [msg('a')]);
    primary.fail('*');
    await store.getItems('s'); // degraded
    secondary.fail('applyHistoryTransaction', { times: 1, when: 'after' }); // lands (items and id), the caller gets an error
    const tx = { operationId: 'op-1', transaction: { type: 'append_items' as const, items: [msg('T')] } };
    await expect(store.applyHistoryTransaction('s', tx)).rejects.toMatchObject({ code: SessionErrorCode.BackendUnavailable });
    primary.heal();
    await store.resync(); // the primary is the truth: the secondary is repaired from it (without T, its log still names op-1)
    primary.fail('*');
    // The retry must not be acknowledged unless T is applied.
    const retried = await store.applyHistoryTransaction('s', tx).then(() => true, () => false);
    if (retried) expect(await store.getItems('s')).toEqual([msg('a'), msg('T')]);
    primary.heal();
    await store.resync();
    if (!retried) await store.applyHistoryTransaction('s', tx);
    await store.resync(); // repairs a secondary the retry was not trusted to
    const want = [msg('a'), msg('T')];
    expect(await primaryData.getItems('s')).toEqual(want);
    expect(await secondaryData.getItems('s')).toEqual(want);
    // Repeats are no-ops everywhere.
    await store.applyHistoryTransaction('s', tx);
    expect(await primaryData.getItems('s')).toEqual(want);
    expect(await secondaryData.getItems('s')).toEqual(want);
  });

  it('is applied to a secondary repaired since the failed attempt, not taken there as a no-op', async () => {
    const { primaryData, primary, secondaryData, secondary, store } = openPair({ onError: () => {} });
    await store.addItems('s', [msg('a')]);
    primary.fail('*');
    await store.getItems('s');
    secondary.fail('applyHistoryTransaction', { times: 1, when: 'after' });
    const tx = { operationId: 'op-1', transaction: { type: 'append_items' as const, items: [msg('T')] } };
    await expect(store.applyHistoryTransaction('s', tx)).rejects.toMatchObject({ code: SessionErrorCode.BackendUnavailable });
    primary.heal();
    await store.resync();
    await store.applyHistoryTransaction('s', tx); // healthy: the primary applies it; the mirror must not be a no-op
    await store.resync();
    const want = [msg('a'), msg('T')];
    expect(await primaryData.getItems('s')).toEqual(want);
    expect(await secondaryData.getItems('s')).toEqual(want);
  });
});
