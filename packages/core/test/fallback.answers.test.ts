import { describe, expect, it } from 'vitest';
import { withFaults } from '@sessionkit/conformance';
import { MemoryStore, SessionErrorCode, compose, withFallback, type SessionStore } from '@sessionkit/core';
import { FallbackStore } from '@sessionkit/core/fallback';

const JOURNAL = FallbackStore.JOURNAL_SESSION_ID;
const msg = (text: string) => ({ role: 'user', content: text });

function open(primary: SessionStore, secondaries: SessionStore[], extra = {}) {
  return compose(primary, withFallback({ secondaries, resyncInterval: 0, closeSecondaries: false, ...extra }));
}

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
