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
