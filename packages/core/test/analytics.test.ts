import { describe, expect, it } from 'vitest';
import { MemoryStore, SessionErrorCode, compose, withAnalytics } from '@sessionkit/core';
import { estimateItemTokens, itemText, type AnalyticsEvent } from '@sessionkit/core/analytics';

// A known conversation in the Agents SDK's item shapes; token figures are the
// default heuristic, ceil(characters / 4) over each item's model-visible text.
const conversation = [
  { role: 'system', content: 'You are terse.' }, // 14 chars -> 4
  { role: 'user', content: 'What is the weather in Paris?' }, // 29 -> 8
  {
    type: 'function_call',
    callId: 'c1',
    name: 'get_weather',
    arguments: '{"city":"Paris"}',
    status: 'completed',
    providerData: { agent: 'Weather' },
  }, // "get_weather\n{...}" 28 -> 7
  {
    type: 'function_call_result',
    callId: 'c1',
    name: 'get_weather',
    status: 'completed',
    output: { type: 'text', text: '18C and sunny' },
  }, // "get_weather\n18C and sunny" 25 -> 7
  {
    type: 'message',
    role: 'assistant',
    status: 'completed',
    content: [{ type: 'output_text', text: 'It is 18C and sunny in Paris.' }],
    providerData: { agent: 'Weather' },
  }, // 29 -> 8
  { role: 'user', content: [{ type: 'input_text', text: 'Thanks!' }] }, // 7 -> 2
  { type: 'reasoning', content: [{ type: 'input_text', text: 'User is polite.' }] }, // 15 -> 4
  { type: 'hosted_tool_call', name: 'web_search_call', arguments: '{"q":"paris"}', status: 'completed' }, // 29 -> 8
  { role: 'assistant', content: [{ type: 'output_text', text: 'You are welcome.' }], agent: 'Concierge' }, // 16 -> 4
];

const expected = {
  items: 9,
  byRole: { assistant: 2, system: 1, user: 2 },
  byType: { function_call: 1, function_call_result: 1, hosted_tool_call: 1, message: 5, reasoning: 1 },
  turns: 2,
  toolCalls: 2,
  toolCallsByName: { get_weather: 1, web_search_call: 1 },
  toolOutputs: 1,
  agents: ['Concierge', 'Weather'],
  estimatedTokens: 52,
};

describe('withAnalytics', () => {
  it('estimates tokens of each item from its model-visible text only', () => {
    expect(conversation.map((item) => estimateItemTokens(item))).toEqual([4, 8, 7, 7, 8, 2, 4, 8, 4]);
    expect(itemText(conversation[2])).toBe('get_weather\n{"city":"Paris"}');
    // ids, statuses, providerData and base64 payloads are not text
    expect(itemText({ type: 'input_image', image: 'data:image/png;base64,AAAA', id: 'x', providerData: { a: 'b' } })).toBe('');
  });

  it('gives exact figures for a known conversation, maintained incrementally', async () => {
    const store = compose(new MemoryStore(), withAnalytics());
    expect(await store.getAnalytics('s')).toMatchObject({ items: 0, turns: 0, estimatedTokens: 0, agents: [] });
    await store.addItems('s', conversation.slice(0, 4));
    await store.addItems('s', conversation.slice(4));
    const figures = await store.getAnalytics('s');
    expect(figures).toMatchObject(expected);
    expect(figures.firstActivity).toBeInstanceOf(Date);
    expect(figures.lastActivity!.getTime()).toBeGreaterThanOrEqual(figures.firstActivity!.getTime());
  });

  it('recomputes the same figures from the store when nothing is cached', async () => {
    const inner = new MemoryStore();
    await inner.addItems('s', conversation);
    const store = withAnalytics()(inner);
    const figures = await store.getAnalytics('s');
    expect(figures).toMatchObject(expected);
    const info = await inner.getSessionInfo('s');
    expect(figures.firstActivity).toEqual(info!.createdAt);
    expect(figures.lastActivity).toEqual(info!.updatedAt);
  });

  it('follows pops, clears and transactions', async () => {
    const store = compose(new MemoryStore(), withAnalytics());
    await store.getAnalytics('s');
    await store.addItems('s', conversation);
    await store.popItem('s'); // the Concierge message
    expect(await store.getAnalytics('s')).toMatchObject({
      items: 8,
      agents: ['Weather'],
      estimatedTokens: 48,
      byRole: { assistant: 1, system: 1, user: 2 },
    });
    await store.applyHistoryTransaction('s', {
      operationId: 'op-1',
      transaction: {
        type: 'replace_suffix',
        expectedSuffix: conversation.slice(6, 8),
        replacement: [{ role: 'assistant', content: 'ok' }],
      },
    });
    expect(await store.getAnalytics('s')).toMatchObject({ items: 7, toolCalls: 1, estimatedTokens: 48 - 4 - 8 + 1 });
    // Repeating the same operation is a no-op in the store; the figures must not move.
    await store.applyHistoryTransaction('s', {
      operationId: 'op-1',
      transaction: {
        type: 'replace_suffix',
        expectedSuffix: conversation.slice(6, 8),
        replacement: [{ role: 'assistant', content: 'ok' }],
      },
    });
    expect((await store.getAnalytics('s')).items).toBe(7);
    await store.clearSession('s');
    const cleared = await store.getAnalytics('s');
    expect(cleared).toMatchObject({ items: 0, turns: 0, estimatedTokens: 0, byRole: {}, agents: [] });
    expect(cleared.firstActivity).toBeUndefined();
  });

  it('a repeated transaction emits no event and moves no figure; after a clear the id applies (and reports) again', async () => {
    const events: AnalyticsEvent[] = [];
    const store = withAnalytics({ onEvent: (e) => events.push(e) })(new MemoryStore());
    await store.addItems('s', conversation.slice(0, 2));
    const args = {
      operationId: 'op-r',
      transaction: { type: 'append_items' as const, items: [{ role: 'user', content: 'again?' }] },
    };
    await store.applyHistoryTransaction('s', args);
    await store.applyHistoryTransaction('s', args);
    await Promise.all([store.applyHistoryTransaction('s', args), store.applyHistoryTransaction('s', args)]);
    const transactions = events.filter((e) => e.type === 'history_transaction');
    expect(transactions).toHaveLength(1);
    expect(transactions[0]!.delta).toMatchObject({ items: 1, turns: 1 });
    const summed = events.reduce((n, e) => n + (e.delta?.items ?? 0), 0);
    expect(summed).toBe((await store.getAnalytics('s')).items);
    expect(await store.getAnalytics('s')).toMatchObject({ items: 3, turns: 2 });
    // Another id with another change still reports; a repeat with a different change fails and reports nothing.
    await expect(
      store.applyHistoryTransaction('s', { ...args, transaction: { type: 'append_items', items: [{ content: 'other' }] } }),
    ).rejects.toMatchObject({ code: SessionErrorCode.Conflict });
    expect(events.filter((e) => e.type === 'history_transaction')).toHaveLength(1);
    await store.clearSession('s');
    await store.applyHistoryTransaction('s', args);
    expect(events.filter((e) => e.type === 'history_transaction')).toHaveLength(2);
    expect(await store.getAnalytics('s')).toMatchObject({ items: 1, turns: 1 });
  });

  it('replaceHistory: the figures become the new history\'s, first activity and applied operations are kept, one reset event', async () => {
    const events: AnalyticsEvent[] = [];
    const inner = new MemoryStore();
    const store = withAnalytics({ onEvent: (e) => void events.push(e), includeContent: true })(inner);
    expect(store.capabilities.replaceHistory).toBe(true);
    expect(typeof store.session('s').replaceHistoryWithCompaction).toBe('function');
    await store.getAnalytics('s');
    await store.addItems('s', conversation);
    await store.applyHistoryTransaction('s', { operationId: 'op-1', transaction: { type: 'append_items', items: [{ role: 'user', content: 'more' }] } });
    const before = await store.getAnalytics('s');
    const summary = [{ type: 'compaction', summary: 'weather talk' }, conversation[5]!];
    await new Promise((resolve) => setTimeout(resolve, 5));
    await store.replaceHistory('s', summary);
    const after = await store.getAnalytics('s');
    // Exactly what a fresh read of the store computes.
    expect(after).toMatchObject({ items: 2, turns: 1, toolCalls: 0, byType: { compaction: 1, message: 1 }, byRole: { user: 1 }, agents: [] });
    const recomputed = await withAnalytics()(inner).getAnalytics('s');
    expect({ ...after, firstActivity: undefined, lastActivity: undefined }).toEqual({ ...recomputed, firstActivity: undefined, lastActivity: undefined });
    expect(after.firstActivity).toEqual(before.firstActivity);
    expect(after.lastActivity!.getTime()).toBeGreaterThan(before.lastActivity!.getTime());
    const replaced = events.filter((e) => e.type === 'history_replaced');
    expect(replaced).toHaveLength(1);
    expect(replaced[0]!.delta).toMatchObject({ items: 2, turns: 1 });
    expect(replaced[0]!.content).toEqual(summary);
    // The operation log survives a replacement in the store, so a replay is still silent here.
    await store.applyHistoryTransaction('s', { operationId: 'op-1', transaction: { type: 'append_items', items: [{ role: 'user', content: 'more' }] } });
    expect(events.filter((e) => e.type === 'history_transaction')).toHaveLength(1);
    expect((await store.getAnalytics('s')).items).toBe(2);
    // An empty replacement empties the figures; a refused one leaves them right.
    await store.replaceHistory('s', []);
    const emptied = await store.getAnalytics('s');
    expect(emptied).toMatchObject({ items: 0, turns: 0, estimatedTokens: 0 });
    expect(emptied.firstActivity).toBeUndefined();
    await expect(store.replaceHistory('s', [{ role: 'user', content: 'x' }, { bad: 10n }])).rejects.toMatchObject({ code: SessionErrorCode.InvalidItem });
    expect((await store.getAnalytics('s')).items).toBe(0);
  });

  it('applyHistoryMutations goes through the decorator\'s transactions: figures follow the rewritten call', async () => {
    const store = withAnalytics()(new MemoryStore());
    await store.addItems('s', conversation);
    await store.getAnalytics('s');
    await store.applyHistoryMutations('s', {
      mutations: [{ type: 'replace_function_call', callId: 'c1', replacement: { type: 'function_call', callId: 'c1', name: 'get_forecast', arguments: '{}' } }],
    });
    expect((await store.getAnalytics('s')).toolCallsByName).toEqual({ get_forecast: 1, web_search_call: 1 });
  });

  it('labels sessions in events with a random per-instance salt unless hashSalt is given', async () => {
    const label = async (hashSalt?: string) => {
      const events: AnalyticsEvent[] = [];
      const store = withAnalytics({ ...(hashSalt === undefined ? {} : { hashSalt }), onEvent: (e) => void events.push(e) })(new MemoryStore());
      await store.addItems('bob@example.com', [{ role: 'user', content: 'hi' }]);
      return events[0]!.session;
    };
    expect(await label()).not.toBe(await label());
    expect(await label('pepper')).toBe(await label('pepper'));
  });

  it('keeps sessions apart and refreshes on demand after writes from elsewhere', async () => {
    const inner = new MemoryStore();
    const store = withAnalytics()(inner);
    await store.addItems('a', conversation.slice(0, 2));
    await store.addItems('b', conversation);
    expect((await store.getAnalytics('a')).items).toBe(2);
    await inner.addItems('a', conversation.slice(2)); // another process, say
    expect((await store.getAnalytics('a')).items).toBe(2);
    expect((await store.getAnalytics('a', { refresh: true })).items).toBe(9);
    expect((await store.getAnalytics('b')).items).toBe(9);
  });

  it('stays exact when figures are rebuilt while writes are in flight', async () => {
    const store = compose(new MemoryStore(), withAnalytics());
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < 50; i++) {
      writes.push(store.addItems('s', [{ role: 'user', content: `m${i}` }]));
      if (i % 7 === 0) writes.push(store.getAnalytics('s'));
      if (i % 11 === 0) writes.push(store.popItem('s'));
    }
    await Promise.all(writes);
    const incremental = await store.getAnalytics('s');
    const fresh = await store.getAnalytics('s', { refresh: true });
    expect(incremental.items).toBe((await store.getItems('s')).length);
    expect({ ...incremental, firstActivity: undefined, lastActivity: undefined }).toEqual({
      ...fresh,
      firstActivity: undefined,
      lastActivity: undefined,
    });
  });

  it('uses a pluggable tokenizer and agent extractor', async () => {
    const words = (text: string) => text.split(/\s+/).filter(Boolean).length;
    const store = compose(
      new MemoryStore(),
      withAnalytics({ tokenizer: words, agentOf: (item: any) => item.role?.toUpperCase() }),
    );
    await store.addItems('s', [
      { role: 'user', content: 'one two three' },
      { role: 'assistant', content: 'four five' },
    ]);
    expect(await store.getAnalytics('s')).toMatchObject({ estimatedTokens: 5, agents: ['ASSISTANT', 'USER'] });
  });

  it('emits figures without content or raw ids by default', async () => {
    const events: AnalyticsEvent[] = [];
    const store = compose(new MemoryStore(), withAnalytics({ onEvent: (e) => void events.push(e) }));
    await store.addItems('user-42', conversation);
    await store.popItem('user-42');
    await store.clearSession('user-42');
    expect(events.map((e) => e.type)).toEqual(['items_added', 'item_popped', 'session_cleared']);
    const serialized = JSON.stringify(events);
    expect(serialized).not.toContain('user-42');
    expect(serialized).not.toContain('Paris');
    expect(serialized).not.toContain('welcome');
    expect(events[0]!.session).toMatch(/^[0-9a-f]{16}$/);
    expect(events[1]!.session).toBe(events[0]!.session);
    expect(events[0]!.delta).toMatchObject({ items: 9, turns: 2, toolCalls: 2, estimatedTokens: 52 });
    expect(events[1]!.delta).toMatchObject({ items: -1, estimatedTokens: -4, byRole: { assistant: -1 } });
    expect(events[0]!.content).toBeUndefined();
  });

  it('includes content and raw ids only when asked', async () => {
    const events: AnalyticsEvent[] = [];
    const store = compose(
      new MemoryStore(),
      withAnalytics({ includeContent: true, sessionIds: 'raw', onEvent: (e) => void events.push(e) }),
    );
    await store.addItems('user-42', conversation.slice(0, 2));
    expect(events[0]).toMatchObject({ session: 'user-42', content: conversation.slice(0, 2) });
  });

  it('never fails a write because the sink fails, and emits nothing for failed writes', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const store = compose(
      new MemoryStore(),
      withAnalytics({
        onEvent: () => {
          calls++;
          if (calls === 1) throw new Error('sink down');
          return Promise.reject(new Error('async sink down'));
        },
        onEventError: (error) => errors.push(error),
      }),
    );
    await store.addItems('s', [{ role: 'user', content: 'hi' }]);
    await store.addItems('s', [{ role: 'user', content: 'hi' }]);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(errors).toHaveLength(2);
    await expect(store.addItems('s', [{ bad: () => 1 }])).rejects.toMatchObject({ code: SessionErrorCode.InvalidItem });
    expect(calls).toBe(2);
    expect((await store.getAnalytics('s')).items).toBe(2);
  });

  it('validates its arguments', async () => {
    const store = compose(new MemoryStore(), withAnalytics());
    await expect(store.getAnalytics('')).rejects.toMatchObject({ code: SessionErrorCode.InvalidArgument });
    expect(() => withAnalytics({ maxSessions: 0 })(new MemoryStore())).toThrow(/maxSessions/);
    await store.close();
    await expect(store.getAnalytics('s')).rejects.toMatchObject({ code: SessionErrorCode.Closed });
  });
});
