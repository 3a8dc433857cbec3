import { describe, expect, it } from 'vitest';
import { withFaults } from '@sessionkit/conformance';
import { MemoryStore, SessionErrorCode } from '@sessionkit/core';
import { FallbackStore } from '@sessionkit/core/fallback';
import { faulty, msg, open } from './fallback-harness.js';

const JOURNAL = FallbackStore.JOURNAL_SESSION_ID;

async function ids(iterable: AsyncIterable<{ sessionId: string }>): Promise<string[]> {
  const out: string[] = [];
  for await (const info of iterable) out.push(info.sessionId);
  return out.sort();
}

describe('withFallback: bad input while degraded', () => {
  it('refuses a bad batch with INVALID_ITEM before the journal is written, so a restart starts healthy', async () => {
    const primary = withFaults(new MemoryStore());
    const secondary = new MemoryStore();
    const store = open(primary, [secondary]);
    primary.fail('*');
    await store.getItems('x'); // the outage is noticed on a read
    expect(store.status().state).toBe('degraded');
    const bad = [msg('ok'), { bad: () => 1 }] as never[];
    await expect(store.addItems('never-written', bad)).rejects.toMatchObject({ code: SessionErrorCode.InvalidItem });
    await expect(
      store.applyHistoryTransaction('never-written', { operationId: 'op', transaction: { type: 'append_items', items: bad } }),
    ).rejects.toMatchObject({ code: SessionErrorCode.InvalidItem });
    await expect(
      store.applyHistoryTransaction('never-written', { operationId: '', transaction: { type: 'append_items', items: [] } }),
    ).rejects.toMatchObject({ code: SessionErrorCode.InvalidArgument });
    expect(await secondary.getItems(JOURNAL)).toEqual([]);
    primary.heal();
    const restarted = open(primary, [secondary]);
    expect(await restarted.getItems('never-written')).toEqual([]);
    expect(restarted.status()).toMatchObject({ state: 'healthy', pendingSessions: 0 });
  });
});

describe('withFallback: listSessions while degraded', () => {
  it('lists a session the first secondary is stale for from the secondary holding it in sync, and survives the first secondary being down', async () => {
    const primary = withFaults(new MemoryStore());
    const first = withFaults(new MemoryStore());
    const second = new MemoryStore();
    const store = open(primary, [first, second]);
    await store.addItems('a', [msg('1')]);
    first.fail('addItems', { times: 1, sessionId: 'b' }); // the mirror to the first secondary fails: it is stale for b
    await store.addItems('b', [msg('2')]);
    await store.addItems('c', [msg('3')]);
    first.fail('clearSession', { times: 1, sessionId: 'c' }); // stale for c too, and still holds it
    await store.clearSession('c');
    expect(store.status().staleSecondaries).toEqual([{ index: 0, sessions: 2 }]);
    primary.fail('*');
    expect(await ids(store.listSessions())).toEqual(['a', 'b']);
    expect(store.status().state).toBe('degraded');
    for await (const info of store.listSessions()) if (info.sessionId === 'b') expect(info.itemCount).toBe(1);
    first.fail('*');
    expect(await ids(store.listSessions())).toEqual(['a', 'b']);
  });

  it('fails with BACKEND_UNAVAILABLE only when the primary and every secondary are down', async () => {
    const primary = withFaults(new MemoryStore());
    const secondary = withFaults(new MemoryStore());
    const store = open(primary, [secondary]);
    await store.addItems('a', [msg('1')]);
    primary.fail('*');
    secondary.fail('*');
    await expect(ids(store.listSessions())).rejects.toMatchObject({ code: SessionErrorCode.BackendUnavailable });
  });
});

describe('withFallback: prune', () => {
  it('does not count the hidden journal session as a pruned session', async () => {
    const primary = new MemoryStore();
    const secondary = withFaults(new MemoryStore());
    const store = open(primary, [secondary]);
    secondary.fail('addItems', { times: 1 }); // the mirror fails: the stale mark is journaled in the primary
    await store.addItems('a', [msg('1')]);
    expect(await primary.getItems(JOURNAL)).toHaveLength(1);
    expect(await store.prune({ olderThan: new Date(Date.now() + 60_000) })).toBe(1);
    // The secondary stale for 'a' had it cleared with the primary's prune: exact again, nothing left to journal.
    expect(store.status().staleSecondaries).toEqual([]);
    expect(await ids(primary.listSessions())).toEqual([]);
  });

  it('removes from the secondaries exactly the sessions the primary pruned, whatever their own last-write times', async () => {
    const primary = withFaults(new MemoryStore());
    const secondary = withFaults(new MemoryStore());
    const store = open(primary, [secondary]);
    secondary.delay('addItems', 40); // the mirror lands 40 ms after the primary's write
    await store.addItems('old', [msg('delete me')]);
    secondary.heal();
    const p = (await primary.getSessionInfo('old'))!.updatedAt.getTime();
    const s = (await secondary.getSessionInfo('old'))!.updatedAt.getTime();
    expect(s).toBeGreaterThan(p);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await store.addItems('new', [msg('keep me')]);
    expect(await store.prune({ olderThan: new Date((p + s) / 2) })).toBe(1);
    expect(await secondary.getItems('old')).toEqual([]);
    expect(await secondary.getItems('new')).toEqual([msg('keep me')]);
    primary.fail('*');
    expect(await store.getItems('old')).toEqual([]); // it does not come back on failover
    expect(await ids(store.listSessions())).toEqual(['new']);
  });

  it('keeps on a secondary a session the primary kept, though the secondary judges it older than the cutoff', async () => {
    const primary = withFaults(new MemoryStore());
    const secondary = new MemoryStore();
    const store = open(primary, [secondary]);
    await secondary.addItems('s', [msg('1')]); // the secondary wrote it first (clock skew between backends)
    await new Promise((resolve) => setTimeout(resolve, 10));
    await primary.addItems('s', [msg('1')]);
    const cutoff = new Date((await primary.getSessionInfo('s'))!.updatedAt.getTime());
    expect(await store.prune({ olderThan: cutoff })).toBe(0);
    expect(await secondary.getItems('s')).toEqual([msg('1')]);
  });

  it('removes from a secondary an old session the primary no longer holds', async () => {
    const primary = new MemoryStore();
    const secondary = new MemoryStore();
    const store = open(primary, [secondary]);
    await secondary.addItems('gone', [msg('x')]); // e.g. expired on the primary by its ttl
    await new Promise((resolve) => setTimeout(resolve, 2));
    expect(await store.prune({ olderThan: new Date() })).toBe(0);
    expect(await secondary.getItems('gone')).toEqual([]);
  });

  it('marks a secondary stale for a session it could not clear, and a resync repairs it', async () => {
    const primary = new MemoryStore();
    const secondary = withFaults(new MemoryStore());
    const errors: unknown[] = [];
    const store = open(primary, [secondary], { onError: (error: unknown) => errors.push(error) });
    await store.addItems('old', [msg('x')]);
    await new Promise((resolve) => setTimeout(resolve, 2));
    secondary.fail('clearSession', { times: 1 });
    expect(await store.prune({ olderThan: new Date() })).toBe(1);
    expect(store.status().staleSecondaries).toEqual([{ index: 0, sessions: 1 }]);
    expect(errors).toHaveLength(1);
    await store.resync();
    expect(store.status().staleSecondaries).toEqual([]);
    expect(await secondary.getItems('old')).toEqual([]);
  });

  it('a session written while degraded by an outage that began during the prune stays readable and is resynced, not marked stale on its only holder', async () => {
    const { data: primaryData, faults: primary } = faulty();
    const { data: secondaryData, faults: secondary } = faulty();
    const store = open(primary, [secondary], { onError: () => {} });
    await store.addItems('s', [msg('old')]);
    await new Promise((resolve) => setTimeout(resolve, 5));
    secondary.delay('prune', 100); // holds the prune between the primary's prune and the secondaries' checks
    const pruning = store.prune({ olderThan: new Date() });
    await new Promise((resolve) => setTimeout(resolve, 30));
    primary.fail('*');
    await store.addItems('s', [msg('new')]); // acknowledged by the secondary only: the primary missed it
    await pruning;
    // The outage's write went onto what the secondary held: it is the session's truth now.
    const want = [msg('old'), msg('new')];
    expect(await store.getItems('s')).toEqual(want);
    primary.heal();
    expect(await store.resync()).toMatchObject({ state: 'healthy', pendingSessions: 0, staleSecondaries: [] });
    expect(await primaryData.getItems('s')).toEqual(want);
    expect(await secondaryData.getItems('s')).toEqual(want);
  });
});
