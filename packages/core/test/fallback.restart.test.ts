import { describe, expect, it } from 'vitest';
import { withFaults } from '@sessionkit/conformance';
import { MemoryStore, SessionErrorCode, withFallback, type SessionStore } from '@sessionkit/core';
import { FallbackStore, type FallbackStatus } from '@sessionkit/core/fallback';
import { faulty, msg, open as openStack } from './fallback-harness.js';

const FALLBACK_JOURNAL_SESSION_ID = FallbackStore.JOURNAL_SESSION_ID;

/** The shared stack, also recording the status of each onDegraded call. */
function open(primary: SessionStore, secondaries: SessionStore[], extra: Parameters<typeof openStack>[2] = {}) {
  const degraded: FallbackStatus[] = [];
  const store = openStack(primary, secondaries, { onDegraded: (status) => degraded.push(status), ...extra });
  return { store, degraded };
}

/** open() over a faulty primary and one faulty secondary, as the journal tests start. */
function openPair(extra?: Parameters<typeof openStack>[2]) {
  const { data: primaryData, faults: primary } = faulty();
  const { data: secondaryData, faults: secondary } = faulty();
  return { primaryData, primary, secondaryData, secondary, ...open(primary, [secondary], extra) };
}

describe('withFallback across a restart', () => {
  it('a process restarted while degraded still knows the primary missed writes, serves them and resyncs them', async () => {
    const { data: primaryData, faults: primary } = faulty();
    const secondary = new MemoryStore();
    const before = open(primary, [secondary]);
    await before.store.addItems('s', [msg('1')]);
    primary.fail('*');
    await before.store.addItems('s', [msg('2')]); // acknowledged by the secondary only
    expect(before.store.status().state).toBe('degraded');
    // The process dies (nothing is closed), and the primary comes back before the new one starts.
    primary.heal();
    const after = open(primary, [secondary]);
    // Without the journal the new process would read ['1'] from the primary, and later mirrored writes would "agree".
    expect(await after.store.getItems('s')).toEqual([msg('1'), msg('2')]);
    expect(after.store.status()).toMatchObject({ state: 'degraded', pendingSessions: 1 });
    expect(after.degraded).toHaveLength(1);
    await after.store.resync();
    expect(after.store.status()).toMatchObject({ state: 'healthy', pendingSessions: 0 });
    expect(await primaryData.getItems('s')).toEqual([msg('1'), msg('2')]);
    // The journal is emptied once the primary caught up, so a third process starts healthy.
    expect(await secondary.getItems(FALLBACK_JOURNAL_SESSION_ID)).toEqual([]);
    const third = open(primary, [secondary]);
    await third.store.addItems('s', [msg('3')]);
    expect(third.store.status().state).toBe('healthy');
    expect(await secondary.getItems('s')).toEqual([msg('1'), msg('2'), msg('3')]);
  });

  it('a restarted process still knows a secondary missed a mirrored write, and never reads it for that session', async () => {
    const { data: primaryData, faults: primary } = faulty();
    const { data: staleData, faults: stale } = faulty();
    const good = new MemoryStore();
    const before = open(primary, [stale, good]);
    await before.store.addItems('s', [msg('1')]);
    stale.fail('addItems', { times: 1 });
    await before.store.addItems('s', [msg('2')]); // acknowledged: primary and the second secondary have it
    expect(before.store.status().staleSecondaries).toEqual([{ index: 0, sessions: 1 }]);
    const after = open(primary, [stale, good]);
    await after.store.getItems('s');
    expect(after.store.status().staleSecondaries).toEqual([{ index: 0, sessions: 1 }]);
    // A failover read skips the stale secondary.
    primary.fail('getItems', { times: 1 });
    expect(await after.store.getItems('s')).toEqual([msg('1'), msg('2')]);
    await after.store.resync();
    expect(after.store.status()).toMatchObject({ state: 'healthy', staleSecondaries: [] });
    expect(await staleData.getItems('s')).toEqual([msg('1'), msg('2')]);
    expect(await primaryData.getItems(FALLBACK_JOURNAL_SESSION_ID)).toEqual([]);
  });

  it('hides its journal from listSessions, and journal: false writes none', async () => {
    const primary = withFaults(new MemoryStore());
    const secondary = new MemoryStore();
    const { store } = open(primary, [secondary]);
    primary.fail('*');
    await store.addItems('s', [msg('1')]);
    expect((await secondary.getItems(FALLBACK_JOURNAL_SESSION_ID)).length).toBeGreaterThan(0);
    const listed: string[] = [];
    for await (const info of store.listSessions()) listed.push(info.sessionId);
    expect(listed).toEqual(['s']);

    const quietSecondary = new MemoryStore();
    const quiet = open(primary, [quietSecondary], { journal: false });
    await quiet.store.addItems('s', [msg('1')]);
    expect(await quietSecondary.getItems(FALLBACK_JOURNAL_SESSION_ID)).toEqual([]);
  });
});

describe('withFallback: the journal while a resync empties it', () => {
  it('keeps the note of a session written during the resync until that session is copied, so a restart meanwhile still resyncs it', async () => {
    const { primaryData, primary, secondaryData, secondary, store } = openPair();
    primary.fail('*');
    await store.addItems('s1', [msg('a')]); // the primary misses it
    primary.heal();
    // Hold the resync between its read of the journal (to empty it) and its copy of the next session.
    secondary.delay('getItems', 50, { sessionId: FALLBACK_JOURNAL_SESSION_ID, times: 1 });
    secondary.delay('getItems', 50, { sessionId: 's2' });
    let done = false;
    const resyncing = store.resync().finally(() => (done = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    await store.addItems('s2', [msg('b')]); // still degraded: acknowledged by the secondary, noted in its journal
    while (!done) {
      const notes = (await secondaryData.getItems(FALLBACK_JOURNAL_SESSION_ID)) as { sessionId?: string }[];
      if (!notes.some((note) => note.sessionId === 's2')) {
        // The process could die now: a new one must still find the acknowledged write.
        const restarted = open(primaryData, [secondaryData]);
        expect(await restarted.store.getItems('s2')).toEqual([msg('b')]);
      }
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    expect(await resyncing).toMatchObject({ state: 'healthy', pendingSessions: 0 });
    expect(await primaryData.getItems('s2')).toEqual([msg('b')]);
    expect(await secondaryData.getItems(FALLBACK_JOURNAL_SESSION_ID)).toEqual([]);
  });
});

describe('withFallback: a secondary journal that could not be emptied', () => {
  it('is emptied by a later resync, so a restart does not take the caught-up primary as behind', async () => {
    const { primaryData, primary, secondaryData, secondary, store } = openPair({ onError: () => {} });
    await store.addItems('s', [msg('a')]);
    primary.fail('*');
    await store.addItems('s', [msg('b')]); // noted in the secondary's journal: the primary is behind on s
    primary.heal();
    // The catch-up succeeds, but emptying the secondary's journal fails.
    secondary.fail(['getItems', 'applyHistoryTransaction'], { sessionId: FALLBACK_JOURNAL_SESSION_ID, times: 1 });
    expect(await store.resync()).toMatchObject({ state: 'healthy', pendingSessions: 0 });
    await store.resync(); // a later resync, healthy, tries again
    secondary.fail('addItems', { times: 1 });
    await store.addItems('s', [msg('c')]); // the secondary misses it: stale for s, journaled in the primary
    const want = [msg('a'), msg('b'), msg('c')];
    // The process dies; a new one starts with every store reachable.
    const restarted = open(primary, [secondary], { onError: () => {} });
    expect(await restarted.store.getItems('s')).toEqual(want);
    expect(await restarted.store.resync()).toMatchObject({ state: 'healthy', pendingSessions: 0, staleSecondaries: [] });
    expect(await primaryData.getItems('s')).toEqual(want);
    expect(await secondaryData.getItems('s')).toEqual(want);
  });
});

describe('withFallback: stale marks in the primary journal', () => {
  it('a stale mark cleared since it was journaled does not come back after a restart to hide the only secondary holding writes the primary missed', async () => {
    const { primaryData, primary, secondaryData, secondary, store } = openPair({ onError: () => {} });
    await store.addItems('s', [msg('a')]);
    await store.addItems('t', [msg('x')]);
    secondary.fail('addItems', { times: 2 });
    await store.addItems('s', [msg('b')]); // stale for s, journaled in the primary
    await store.addItems('t', [msg('y')]); // stale for t, journaled in the primary
    await store.clearSession('s'); // a clear makes the secondary exact for s again
    await store.addItems('s', [msg('c')]);
    secondary.fail('replaceHistory', { sessionId: 't' }); // t cannot be repaired yet: a secondary stays stale
    expect(await store.resync()).toMatchObject({ state: 'healthy', staleSecondaries: [{ index: 0, sessions: 1 }] });
    secondary.heal();
    primary.fail('*');
    await store.addItems('s', [msg('d')]); // acknowledged by the secondary only
    // The process dies; a new one starts with every store reachable.
    primary.heal();
    const restarted = open(primary, [secondary]);
    expect(await restarted.store.getItems('s')).toEqual([msg('c'), msg('d')]);
    expect(await restarted.store.resync()).toMatchObject({ state: 'healthy', pendingSessions: 0, staleSecondaries: [] });
    expect(await primaryData.getItems('s')).toEqual([msg('c'), msg('d')]);
    expect(await primaryData.getItems('t')).toEqual([msg('x'), msg('y')]);
    expect(await secondaryData.getItems('t')).toEqual([msg('x'), msg('y')]);
  });
});

describe('withFallback call timeout', () => {
  it('treats a hung primary as unavailable after timeoutMs: reads and writes fail over instead of hanging', async () => {
    const { data: primaryData, faults: primary } = faulty();
    const secondary = new MemoryStore();
    const { store, degraded } = open(primary, [secondary], { timeoutMs: 100 });
    await store.addItems('s', [msg('1')]);
    primary.hang('*');
    const started = Date.now();
    expect(await store.getItems('s')).toEqual([msg('1')]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(degraded).toHaveLength(1);
    expect(store.status().state).toBe('degraded');
    await store.addItems('s', [msg('2')]); // degraded: served by the secondary at once
    expect(await secondary.getItems('s')).toEqual([msg('1'), msg('2')]);
    // While the abandoned call is still hung, a resync does not touch the primary (that call may yet land).
    expect((await store.resync()).state).toBe('degraded');
    primary.heal(); // releases the hung read; once it has ended on the primary, a resync may proceed
    await expect.poll(async () => (await store.resync()).state).toBe('healthy');
    expect(await primaryData.getItems('s')).toEqual([msg('1'), msg('2')]);
  });

  it('a write that hung and landed after its timeout is not applied twice (the copy overwrites it)', async () => {
    const { data: primaryData, faults: primary } = faulty();
    const secondary = new MemoryStore();
    const { store } = open(primary, [secondary], { timeoutMs: 50 });
    await store.addItems('s', [msg('1')]);
    primary.hang(['addItems', 'applyHistoryTransaction'], { times: 1 });
    await store.addItems('s', [msg('2')]); // times out on the primary, acknowledged by the secondary
    expect(store.status().state).toBe('degraded');
    primary.release(); // the hung append now lands on the primary too
    await expect.poll(async () => (await primaryData.getItems('s')).length).toBe(2);
    await store.resync();
    expect(store.status().state).toBe('healthy');
    expect(await primaryData.getItems('s')).toEqual([msg('1'), msg('2')]);
    expect(await secondary.getItems('s')).toEqual([msg('1'), msg('2')]);
  });

  it('a hung secondary is marked stale after timeoutMs instead of hanging healthy writes', async () => {
    const primaryData = new MemoryStore();
    const { data: secondaryData, faults: secondary } = faulty();
    const { store } = open(primaryData, [secondary], { timeoutMs: 50 });
    secondary.hang('addItems', { times: 1 });
    await store.addItems('s', [msg('1')]);
    expect(store.status().staleSecondaries).toEqual([{ index: 0, sessions: 1 }]);
    secondary.release();
    await expect.poll(async () => (await store.resync()).staleSecondaries).toEqual([]);
    expect(await secondaryData.getItems('s')).toEqual([msg('1')]);
  });

  it('validates timeoutMs, and refuses bad prune input with INVALID_ARGUMENT even while degraded', async () => {
    expect(() => withFallback({ secondaries: [new MemoryStore()], timeoutMs: -1 })(new MemoryStore())).toThrow(/timeoutMs/);
    const primary = withFaults(new MemoryStore(), { rules: [{ fail: '*' }] });
    const { store } = open(primary, [new MemoryStore()]);
    await store.getItems('s');
    expect(store.status().state).toBe('degraded');
    await expect(store.prune({ olderThan: 'yesterday' as unknown as Date })).rejects.toMatchObject({ code: SessionErrorCode.InvalidArgument });
    await expect(store.prune({ olderThan: new Date() })).rejects.toMatchObject({ code: SessionErrorCode.BackendUnavailable });
  });
});
