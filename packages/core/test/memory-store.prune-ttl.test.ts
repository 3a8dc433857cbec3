import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryStore } from '@sessionkit/core';

// Only Date is faked, so the ttl clock is exact and nothing waits.
afterEach(() => {
  vi.useRealTimers();
});

const msg = (n: number) => ({ role: 'user', content: `message ${n}` });

describe('MemoryStore prune with a ttl', () => {
  it('removes sessions written before the cutoff and counts only those still live', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(1_000_000);
    const store = new MemoryStore({ ttl: 1000 });
    await store.addItems('expired', [msg(1)]);
    vi.setSystemTime(1_001_500); // 'expired' is past its ttl
    await store.addItems('live-old', [msg(2)]);
    vi.setSystemTime(1_001_600);
    await store.addItems('live-new', [msg(3)]);
    // Both 'expired' and 'live-old' were last written before the cutoff; only 'live-old' was still there for readers.
    expect(await store.prune({ olderThan: new Date(1_001_600) })).toBe(1);
    expect(await store.getItems('live-old')).toEqual([]);
    expect(await store.getItems('live-new')).toEqual([msg(3)]);
    const listed: string[] = [];
    for await (const info of store.listSessions()) listed.push(info.sessionId);
    expect(listed).toEqual(['live-new']);
  });

  it('sweeps sessions the ttl expired even when they were written after the cutoff, counting none', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(2_000_000);
    const store = new MemoryStore({ ttl: 1000 });
    await store.addItems('a', [msg(1)]);
    await store.addItems('b', [msg(2)]);
    vi.setSystemTime(2_005_000);
    expect(await store.prune({ olderThan: new Date(0) })).toBe(0);
    // A fresh write after the sweep starts a new session (new createdAt), not the expired one.
    await store.addItems('a', [msg(9)]);
    expect(await store.getItems('a')).toEqual([msg(9)]);
    expect((await store.getSessionInfo('a'))?.createdAt.getTime()).toBe(2_005_000);
  });

  it('without a ttl, every non-empty session before the cutoff is counted', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(3_000_000);
    const store = new MemoryStore();
    await store.addItems('a', [msg(1)]);
    await store.addItems('empty', [msg(1)]);
    await store.popItem('empty');
    vi.setSystemTime(3_000_100);
    expect(await store.prune({ olderThan: new Date(3_000_050) })).toBe(1);
    expect(await store.getItems('a')).toEqual([]);
  });
});
