import { describe, expect, it } from 'vitest';
import { withFaults } from '@sessionkit/conformance';
import { MemoryStore, compose, withFallback, type HistoryTransactionArgs, type SessionStore } from '@sessionkit/core';

const msg = (text: string) => ({ role: 'user', content: text });

function open(primary: SessionStore, secondaries: SessionStore[], extra = {}) {
  const errors: unknown[] = [];
  const store = compose(
    primary,
    withFallback({ secondaries, resyncInterval: 0, closeSecondaries: false, onError: (error) => errors.push(error), ...extra }),
  );
  return { store, errors };
}

const append = (operationId: string, text: string, expectedLength?: number): HistoryTransactionArgs => ({
  operationId,
  transaction: { type: 'append_items', items: [msg(text)] },
  ...(expectedLength === undefined ? {} : { expectedLength }),
});

describe('withFallback: operation ids survive an outage and a repair', () => {
  it('a transaction served during the outage and repeated after the resync is a no-op on every replica', async () => {
    const primaryData = new MemoryStore();
    const primary = withFaults(primaryData);
    const secondary = new MemoryStore();
    const { store } = open(primary, [secondary]);
    await store.addItems('s', [msg('hi')]);
    primary.fail('*');
    await store.applyHistoryTransaction('s', append('op-1', 'once'));
    await store.applyHistoryTransaction('s', append('op-2', 'twice', 2));
    await store.applyHistoryTransaction('s', {
      operationId: 'op-3',
      transaction: { type: 'replace_suffix', expectedSuffix: [msg('twice')], replacement: [msg('2')] },
    });
    await store.addItems('s', [msg('plain')]);
    primary.heal();
    expect(await store.resync()).toMatchObject({ state: 'healthy', pendingSessions: 0 });
    const want = [msg('hi'), msg('once'), msg('2'), msg('plain')];
    expect(await primaryData.getItems('s')).toEqual(want);
    // A resumed run repeats them: the contract says a repeat is a no-op.
    await store.applyHistoryTransaction('s', append('op-1', 'once'));
    await store.applyHistoryTransaction('s', append('op-2', 'twice', 2));
    await store.applyHistoryTransaction('s', {
      operationId: 'op-3',
      transaction: { type: 'replace_suffix', expectedSuffix: [msg('twice')], replacement: [msg('2')] },
    });
    expect(await primaryData.getItems('s')).toEqual(want);
    expect(await secondary.getItems('s')).toEqual(want);
    expect(await store.getItems('s')).toEqual(want);
  });

  it('a transaction a stale secondary missed is logged there by the repair, so a repeat served by it after failover is a no-op', async () => {
    const primaryData = new MemoryStore();
    const primary = withFaults(primaryData);
    const secondaryData = new MemoryStore();
    const secondary = withFaults(secondaryData);
    const { store } = open(primary, [secondary]);
    await store.addItems('s', [msg('hi')]);
    secondary.fail('applyHistoryTransaction', { times: 1 }); // the mirror fails: stale for s
    await store.applyHistoryTransaction('s', append('op-1', 'once'));
    expect(store.status().staleSecondaries).toEqual([{ index: 0, sessions: 1 }]);
    await store.resync(); // repairs the secondary
    expect(store.status().staleSecondaries).toEqual([]);
    primary.fail('*');
    await store.applyHistoryTransaction('s', append('op-1', 'once'));
    expect(await secondaryData.getItems('s')).toEqual([msg('hi'), msg('once')]);
    expect(await store.getItems('s')).toEqual([msg('hi'), msg('once')]);
  });

  it('a clear during the outage empties the primary operation log too, as it did the secondary', async () => {
    const primaryData = new MemoryStore();
    const primary = withFaults(primaryData);
    const secondary = new MemoryStore();
    const { store } = open(primary, [secondary]);
    await store.applyHistoryTransaction('s', append('op-1', 'before'));
    primary.fail('*');
    await store.clearSession('s');
    await store.addItems('s', [msg('after')]);
    primary.heal();
    await store.resync();
    // Cleared on the secondary, op-1 is forgotten there; the primary forgot it too, so both apply it.
    await store.applyHistoryTransaction('s', append('op-1', 'before'));
    expect(await primaryData.getItems('s')).toEqual([msg('after'), msg('before')]);
    expect(await secondary.getItems('s')).toEqual([msg('after'), msg('before')]);
  });

  it('a transaction whose failure was ambiguous on the primary (it landed) is still applied once', async () => {
    const primaryData = new MemoryStore();
    const primary = withFaults(primaryData);
    const secondary = new MemoryStore();
    const { store } = open(primary, [secondary]);
    await store.addItems('s', [msg('hi')]);
    primary.fail('applyHistoryTransaction', { when: 'after', times: 1 });
    await store.applyHistoryTransaction('s', append('op-1', 'once'));
    expect(store.status().state).toBe('degraded');
    await store.resync();
    await store.applyHistoryTransaction('s', append('op-1', 'once'));
    expect(await primaryData.getItems('s')).toEqual([msg('hi'), msg('once')]);
    expect(await secondary.getItems('s')).toEqual([msg('hi'), msg('once')]);
  });
});
