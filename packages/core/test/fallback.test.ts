import { describe, expect, it } from 'vitest';
import { withFaults } from '@sessionkit/conformance';
import { MemoryStore, SessionErrorCode, compose, withFallback } from '@sessionkit/core';
import { FallbackStore, type FallbackStatus } from '@sessionkit/core/fallback';
import { faulty, msg } from './fallback-harness.js';

function setup(secondaries = 1) {
  const primaryData = new MemoryStore();
  const primary = withFaults(primaryData, { seed: 7 });
  const secondaryData = Array.from({ length: secondaries }, () => new MemoryStore());
  const secondaryFaults = secondaryData.map((store) => withFaults(store));
  const events: Array<['degraded' | 'recovered', FallbackStatus]> = [];
  const errors: unknown[] = [];
  const store = compose(
    primary,
    withFallback({
      secondaries: secondaryFaults,
      resyncInterval: 0,
      onDegraded: (status) => events.push(['degraded', status]),
      onRecovered: (status) => events.push(['recovered', status]),
      onError: (error) => errors.push(error),
    }),
  );
  return { store, primary, primaryData, secondaryData, secondaryFaults, events, errors };
}

describe('withFallback', () => {
  it('mirrors every write to the secondaries while healthy', async () => {
    const { store, primaryData, secondaryData } = setup(2);
    await store.addItems('s', [msg('a'), msg('b')]);
    await store.addItems('s', [msg('c')]);
    expect(await store.popItem('s')).toEqual(msg('c'));
    await store.addItems('t', [msg('x')]);
    await store.clearSession('t');
    for (const replica of [primaryData, ...secondaryData]) {
      expect(await replica.getItems('s')).toEqual([msg('a'), msg('b')]);
      expect(await replica.getItems('t')).toEqual([]);
    }
    expect(store.status()).toMatchObject({ state: 'healthy', pendingSessions: 0, staleSecondaries: [] });
  });

  it('serves reads from a secondary while the primary is down, and says it is degraded', async () => {
    const { store, primary, events } = setup();
    await store.addItems('s', [msg('a'), msg('b')]);
    primary.fail('*');
    expect(await store.getItems('s')).toEqual([msg('a'), msg('b')]);
    expect(await store.getItems('s', { limit: 1 })).toEqual([msg('b')]);
    expect(await store.getSessionInfo('s')).toMatchObject({ itemCount: 2 });
    expect(store.status()).toMatchObject({ state: 'degraded' });
    expect(store.status().since).toBeInstanceOf(Date);
    expect(events.map(([kind]) => kind)).toEqual(['degraded']);
    // Once degraded, the primary is not asked again until a resync.
    const before = primary.stats().calls.getItems;
    await store.getItems('s');
    expect(primary.stats().calls.getItems).toBe(before);
  });

  it('loses no acknowledged write when the primary fails and recovers', async () => {
    const { store, primary, primaryData, secondaryData, events } = setup();
    await store.addItems('s', [msg('1'), msg('2')]);
    await store.addItems('t', [msg('t1')]);
    primary.fail('*');
    await store.addItems('s', [msg('3')]);
    expect(await store.popItem('s')).toEqual(msg('3'));
    await store.addItems('s', [msg('4'), msg('5')]);
    await store.clearSession('t');
    await store.addItems('t', [msg('t2')]);
    await store.addItems('u', [msg('u1')]);
    await store.applyHistoryTransaction('s', {
      operationId: 'op-1',
      transaction: { type: 'replace_suffix', expectedSuffix: [msg('5')], replacement: [msg('5!')] },
    });
    expect(store.status()).toMatchObject({ state: 'degraded', pendingSessions: 3 });

    // Still down: resync changes nothing and keeps everything pending.
    expect(await store.resync()).toMatchObject({ state: 'degraded', pendingSessions: 3 });

    primary.heal();
    expect(await store.resync()).toMatchObject({ state: 'healthy', pendingSessions: 0 });
    expect(events.map(([kind]) => kind)).toEqual(['degraded', 'recovered']);
    const want = {
      s: [msg('1'), msg('2'), msg('4'), msg('5!')],
      t: [msg('t2')],
      u: [msg('u1')],
    };
    for (const [id, items] of Object.entries(want)) {
      expect(await primaryData.getItems(id)).toEqual(items);
      expect(await secondaryData[0]!.getItems(id)).toEqual(items);
      expect(await store.getItems(id)).toEqual(items);
    }
    // Healthy again: writes reach the primary.
    await store.addItems('s', [msg('6')]);
    expect(await primaryData.getItems('s', { limit: 1 })).toEqual([msg('6')]);
  });

  it('does not duplicate a write whose failure was ambiguous (it had landed on the primary)', async () => {
    const { store, primary, primaryData } = setup();
    await store.addItems('s', [msg('1')]);
    primary.fail(['addItems', 'applyHistoryTransaction'], { when: 'after', times: 1 });
    await store.addItems('s', [msg('2')]); // lands on the primary, reported as failed, then on the secondary
    expect(store.status().state).toBe('degraded');
    expect(await primaryData.getItems('s')).toEqual([msg('1'), msg('2')]);
    await store.resync();
    expect(store.status().state).toBe('healthy');
    expect(await primaryData.getItems('s')).toEqual([msg('1'), msg('2')]);
  });

  it('does not duplicate when a resync is interrupted (its copy landed but was reported as failed) and retried', async () => {
    const { store, primary, primaryData } = setup();
    primary.fail('*');
    for (let i = 0; i < 5; i++) await store.addItems('s', [msg(`m${i}`)]);
    primary.heal();
    // The primary fails half-way through catching up: first a read, then after applying the copy it reports as failed.
    primary.fail('getItems', { times: 1 });
    primary.fail(['addItems', 'applyHistoryTransaction', 'replaceHistory'], { when: 'after', times: 1 });
    await store.resync();
    expect(store.status().state).toBe('degraded');
    await store.resync();
    expect(store.status().state).toBe('degraded');
    expect(await primaryData.getItems('s')).toEqual([0, 1, 2, 3, 4].map((i) => msg(`m${i}`)));
    await store.resync();
    expect(store.status().state).toBe('healthy');
    expect(await primaryData.getItems('s')).toEqual([0, 1, 2, 3, 4].map((i) => msg(`m${i}`)));
  });

  it('keeps serving when a secondary fails, marks it stale and repairs it on resync', async () => {
    const { store, primary, secondaryData, secondaryFaults, errors } = setup(2);
    await store.addItems('s', [msg('1')]);
    secondaryFaults[0]!.fail('addItems', { times: 1 });
    await store.addItems('s', [msg('2')]); // acknowledged: primary and second secondary have it
    expect(store.status().staleSecondaries).toEqual([{ index: 0, sessions: 1 }]);
    expect(errors).toHaveLength(1);
    // While stale, the first secondary is skipped for that session: a failover read comes from the second.
    primary.fail('getItems', { times: 1 });
    expect(await store.getItems('s')).toEqual([msg('1'), msg('2')]);
    primary.heal();
    await store.resync();
    expect(store.status()).toMatchObject({ state: 'healthy', staleSecondaries: [] });
    expect(await secondaryData[0]!.getItems('s')).toEqual([msg('1'), msg('2')]);
  });

  it('treats conflicts and bad input as answers, not outages', async () => {
    const { store, primaryData, secondaryData } = setup();
    await expect(store.addItems('s', [{ f: () => 1 }])).rejects.toMatchObject({ code: SessionErrorCode.InvalidItem });
    await store.addItems('s', [msg('a')]);
    await expect(
      store.applyHistoryTransaction('s', {
        operationId: 'x',
        transaction: { type: 'replace_suffix', expectedSuffix: [msg('nope')], replacement: [] },
      }),
    ).rejects.toMatchObject({ code: SessionErrorCode.Conflict });
    expect(store.status()).toMatchObject({ state: 'healthy', staleSecondaries: [] });
    expect(await primaryData.getItems('s')).toEqual([msg('a')]);
    expect(await secondaryData[0]!.getItems('s')).toEqual([msg('a')]);
  });

  it('fails with BACKEND_UNAVAILABLE only when the primary and every secondary are down', async () => {
    const { store, primary, secondaryFaults } = setup();
    await store.addItems('s', [msg('a')]);
    primary.fail('*');
    secondaryFaults[0]!.fail('*');
    await expect(store.getItems('s')).rejects.toMatchObject({ code: SessionErrorCode.BackendUnavailable });
    await expect(store.addItems('s', [msg('b')])).rejects.toMatchObject({ code: SessionErrorCode.BackendUnavailable });
    await expect(store.prune({ olderThan: new Date() })).rejects.toMatchObject({ code: SessionErrorCode.BackendUnavailable });
  });

  it('keeps every acknowledged write through random primary faults (seeded)', async () => {
    const primaryData = new MemoryStore();
    const primary = withFaults(primaryData, { seed: 42, rules: [{ fail: ['addItems', 'applyHistoryTransaction', 'getItems'], probability: 0.2 }] });
    const secondary = new MemoryStore();
    const store = compose(primary, withFallback({ secondaries: [secondary], resyncInterval: 0 }));
    const model = new Map<string, unknown[]>();
    for (let i = 0; i < 200; i++) {
      const id = `s${i % 5}`;
      const items = [msg(`${i}`)];
      await store.addItems(id, items);
      model.set(id, [...(model.get(id) ?? []), ...items]);
      if (i % 17 === 0) await store.resync();
    }
    primary.heal();
    await store.resync();
    expect(store.status().state).toBe('healthy');
    for (const [id, items] of model) expect(await primaryData.getItems(id)).toEqual(items);
    expect(primary.stats().failed.addItems + primary.stats().failed.applyHistoryTransaction).toBeGreaterThan(0);
  });

  it('resyncs on its own when resyncInterval is set', async () => {
    const { data: primaryData, faults: primary } = faulty();
    const store = compose(primary, withFallback({ secondaries: [new MemoryStore()], resyncInterval: 20 }));
    primary.fail('*');
    await store.addItems('s', [msg('a')]);
    primary.heal();
    await expect.poll(() => store.status().state, { timeout: 2000 }).toBe('healthy');
    expect(await primaryData.getItems('s')).toEqual([msg('a')]);
    await store.close();
  });
});

describe('withFallback options and capabilities', () => {
  it('needs a secondary', () => {
    expect(() => withFallback({ secondaries: [] })(new MemoryStore())).toThrow(/at least one secondary/);
  });

  it('claims a capability only when every store has it', async () => {
    const { ForwardingStore } = await import('@sessionkit/core/adapter');
    const noTx = new ForwardingStore(new MemoryStore(), ['transactions', 'prune']);
    const store = withFallback({ secondaries: [noTx] })(new MemoryStore());
    expect(store.capabilities).toMatchObject({ transactions: false, prune: false, listSessions: true, sessionInfo: true });
    await expect(
      store.applyHistoryTransaction('s', { operationId: 'o', transaction: { type: 'append_items', items: [] } }),
    ).rejects.toMatchObject({ code: SessionErrorCode.Unsupported });
  });

  it('closes the secondaries with it unless told not to', async () => {
    const secondary = new MemoryStore();
    await withFallback({ secondaries: [secondary] })(new MemoryStore()).close();
    expect(secondary.closed).toBe(true);
    const kept = new MemoryStore();
    await withFallback({ secondaries: [kept], closeSecondaries: false })(new MemoryStore()).close();
    expect(kept.closed).toBe(false);
  });

  it('resync() after close() returns a promise rejected with CLOSED instead of throwing at the call', async () => {
    const store = withFallback({ secondaries: [new MemoryStore()], resyncInterval: 0 })(new MemoryStore());
    await store.close();
    let result: Promise<unknown> | undefined;
    expect(() => {
      result = store.resync();
    }).not.toThrow();
    await expect(result).rejects.toMatchObject({ code: SessionErrorCode.Closed });
  });

  it('lists from a secondary when the primary is down', async () => {
    const primary = withFaults(new MemoryStore());
    const store = withFallback({ secondaries: [new MemoryStore()], resyncInterval: 0 })(primary);
    await store.addItems('a', [msg('1')]);
    await store.addItems('b', [msg('2')]);
    primary.fail('listSessions');
    const ids: string[] = [];
    for await (const info of store.listSessions()) ids.push(info.sessionId);
    expect(ids.sort()).toEqual(['a', 'b']);
    expect(store.status().state).toBe('degraded');
  });
});

describe('withFallback: replaceHistory and applyHistoryMutations', () => {
  const call = (callId: string, args: string) => ({ type: 'function_call', callId, name: 'f', arguments: args });

  it('declares replaceHistory and historyMutations when the primary has them', async () => {
    const { ForwardingStore } = await import('@sessionkit/core/adapter');
    expect(withFallback({ secondaries: [new MemoryStore()] })(new MemoryStore()).capabilities).toMatchObject({
      replaceHistory: true,
      historyMutations: true,
    });
    const noReplace = new ForwardingStore(new MemoryStore(), ['replaceHistory']);
    expect(withFallback({ secondaries: [new MemoryStore()] })(noReplace).capabilities.replaceHistory).toBe(false);
    // A secondary without its own replaceHistory replaces atomically with one replace_suffix: still declared.
    expect(withFallback({ secondaries: [noReplace] })(new MemoryStore()).capabilities.replaceHistory).toBe(true);
    // One that can do neither cannot serve a replacement atomically: not declared.
    const neither = new ForwardingStore(new MemoryStore(), ['replaceHistory', 'transactions']);
    expect(withFallback({ secondaries: [neither] })(new MemoryStore()).capabilities.replaceHistory).toBe(false);
  });

  it('the primary replaces and every secondary mirrors the replacement (also one without replaceHistory)', async () => {
    const { ForwardingStore } = await import('@sessionkit/core/adapter');
    const primaryData = new MemoryStore();
    const plain = new MemoryStore();
    const viaTransactions = new MemoryStore();
    const store = withFallback({ secondaries: [plain, new ForwardingStore(viaTransactions, ['replaceHistory'])], resyncInterval: 0 })(
      primaryData,
    );
    await store.addItems('s', [msg('1'), msg('2'), msg('3')]);
    await store.replaceHistory('s', [msg('summary')]);
    for (const replica of [primaryData, plain, viaTransactions]) expect(await replica.getItems('s')).toEqual([msg('summary')]);
    await store.replaceHistory('s', []);
    for (const replica of [primaryData, plain, viaTransactions]) expect(await replica.getItems('s')).toEqual([]);
    expect(store.status()).toMatchObject({ state: 'healthy', staleSecondaries: [] });
  });

  it('a secondary failing a replacement is marked stale, journaled and repaired by the resync like any write', async () => {
    const { store, primaryData, secondaryData, secondaryFaults, errors } = setup(2);
    await store.addItems('s', [msg('1'), msg('2')]);
    secondaryFaults[0]!.fail('replaceHistory', { times: 1 });
    await store.replaceHistory('s', [msg('new')]); // acknowledged: primary and the second secondary have it
    expect(store.status().staleSecondaries).toEqual([{ index: 0, sessions: 1 }]);
    expect(errors).toHaveLength(1);
    expect(await secondaryData[0]!.getItems('s')).toEqual([msg('1'), msg('2')]);
    // The mark is journaled in the primary, so a restart would remember it.
    expect(await primaryData.getItems(FallbackStore.JOURNAL_SESSION_ID)).toEqual([
      expect.objectContaining({ sessionId: 's', replica: 0 }),
    ]);
    await store.resync();
    expect(store.status()).toMatchObject({ state: 'healthy', staleSecondaries: [] });
    for (const replica of [primaryData, ...secondaryData]) expect(await replica.getItems('s')).toEqual([msg('new')]);
    expect(await primaryData.getItems(FallbackStore.JOURNAL_SESSION_ID)).toEqual([]);
  });

  it('a replacement makes a stale secondary exact again', async () => {
    const { store, secondaryData, secondaryFaults } = setup();
    await store.addItems('s', [msg('1')]);
    secondaryFaults[0]!.fail('addItems', { times: 1 });
    await store.addItems('s', [msg('2')]);
    expect(store.status().staleSecondaries).toEqual([{ index: 0, sessions: 1 }]);
    await store.replaceHistory('s', [msg('new')]);
    expect(store.status().staleSecondaries).toEqual([]);
    expect(await secondaryData[0]!.getItems('s')).toEqual([msg('new')]);
  });

  it('while degraded, a replacement is served by a secondary and copied to the primary by the resync', async () => {
    const { store, primary, primaryData, secondaryData } = setup(2);
    await store.addItems('s', [msg('1'), msg('2')]);
    primary.fail('*');
    await store.replaceHistory('s', [msg('new')]);
    expect(store.status()).toMatchObject({ state: 'degraded', pendingSessions: 1 });
    expect(await store.getItems('s')).toEqual([msg('new')]);
    for (const replica of secondaryData) expect(await replica.getItems('s')).toEqual([msg('new')]);
    expect(await primaryData.getItems('s')).toEqual([msg('1'), msg('2')]);
    primary.heal();
    await store.resync();
    expect(store.status()).toMatchObject({ state: 'healthy', pendingSessions: 0 });
    expect(await primaryData.getItems('s')).toEqual([msg('new')]);
  });

  it('a refused replacement (a bad item at the end) changes no replica, healthy or degraded', async () => {
    const { store, primary, primaryData, secondaryData } = setup();
    await store.addItems('s', [msg('1')]);
    const bad = [msg('ok'), { f: () => 1 }];
    await expect(store.replaceHistory('s', bad)).rejects.toMatchObject({ code: SessionErrorCode.InvalidItem });
    primary.fail('*');
    await store.getItems('s');
    expect(store.status().state).toBe('degraded');
    await expect(store.replaceHistory('s', bad)).rejects.toMatchObject({ code: SessionErrorCode.InvalidItem });
    for (const replica of [primaryData, ...secondaryData]) expect(await replica.getItems('s')).toEqual([msg('1')]);
    expect(store.status()).toMatchObject({ pendingSessions: 0, staleSecondaries: [] });
  });

  it('applyHistoryMutations reaches every replica, healthy and degraded', async () => {
    const { store, primary, primaryData, secondaryData } = setup(2);
    await store.addItems('s', [msg('1'), call('c1', '{"a":1}'), msg('2'), call('c1', '{"dup":1}')]);
    await store.applyHistoryMutations('s', { mutations: [{ type: 'replace_function_call', callId: 'c1', replacement: call('c1', '{"a":2}') }] });
    const want = [msg('1'), call('c1', '{"a":2}'), msg('2')];
    for (const replica of [primaryData, ...secondaryData]) expect(await replica.getItems('s')).toEqual(want);
    primary.fail('*');
    await store.applyHistoryMutations('s', { mutations: [{ type: 'replace_function_call', callId: 'c1', replacement: call('c1', '{"a":3}') }] });
    primary.heal();
    await store.resync();
    const after = [msg('1'), call('c1', '{"a":3}'), msg('2')];
    for (const replica of [primaryData, ...secondaryData]) expect(await replica.getItems('s')).toEqual(after);
  });
});
