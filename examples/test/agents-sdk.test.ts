import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, run, tool, isSessionHistoryTransactionAwareSession, type Session } from '@openai/agents';
import { MemoryStore, type SessionStore } from '@sessionkit/core';
import { SqliteStore } from '@sessionkit/sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { LocalModel } from '../local-model.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const stores: Array<[string, () => SessionStore & { session(id: string): Session }]> = [
  ['SqliteStore', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sessionkit-sdk-'));
    dirs.push(dir);
    return new SqliteStore({ path: join(dir, 'conversations.db') });
  }],
  ['MemoryStore', () => new MemoryStore()],
];

const getWeather = tool({
  name: 'get_weather',
  description: 'Weather for a city',
  parameters: z.object({ city: z.string() }),
  execute: async ({ city }) => `sunny in ${city}`,
});

/**
 * Wraps a bound session and records every write the runner makes through it,
 * replaying each on a plain array: `saved` is the history the runner meant to
 * store, to compare item by item with what the store returns.
 */
function recording(inner: Session): { session: Session; saved: any[]; writes: string[] } {
  const saved: any[] = [];
  const writes: string[] = [];
  const session: any = {
    getSessionId: () => inner.getSessionId(),
    getItems: (limit?: number) => inner.getItems(limit),
    popItem: async () => {
      writes.push('popItem');
      const popped = await inner.popItem();
      if (popped !== undefined) saved.pop();
      return popped;
    },
    clearSession: async () => {
      writes.push('clearSession');
      await inner.clearSession();
      saved.length = 0;
    },
    addItems: async (items: any[]) => {
      writes.push('addItems');
      const copies = structuredClone(items);
      await inner.addItems(items);
      saved.push(...copies);
    },
  };
  const transactional = inner as any;
  if (typeof transactional.applyHistoryTransaction === 'function') {
    session.applyHistoryTransaction = async (args: any, ...rest: unknown[]) => {
      writes.push(`applyHistoryTransaction:${args.transaction.type}`);
      const tx = structuredClone(args.transaction);
      await transactional.applyHistoryTransaction(args, ...rest);
      if (tx.type === 'append_items') saved.push(...tx.items);
      else saved.splice(saved.length - tx.expectedSuffix.length, tx.expectedSuffix.length, ...tx.replacement);
    };
  }
  return { session: session as Session, saved, writes };
}

function texts(items: any[]): string[] {
  return items.map((item) =>
    typeof item.content === 'string' ? item.content : (item.content ?? []).map((p: any) => p.text ?? '').join(''),
  );
}

describe.each(stores)('the Agents SDK runner on a %s session', (_name, createStore) => {
  it('carries the first turn into the second turn and stores exactly what the runner saved', async () => {
    const store = createStore();
    const model = new LocalModel();
    const agent = new Agent({ name: 'Assistant', instructions: 'Be brief.', model, tools: [getWeather] });
    const { session, saved, writes } = recording(store.session('user-123'));

    const first = await run(agent, "Hello, I'm John", { session });
    expect(first.finalOutput).toBe('Nice to meet you, John!');
    const afterFirst = await store.getItems('user-123');
    // Every item the runner saved, in order, and nothing else.
    expect(afterFirst).toEqual(saved);
    expect(afterFirst).toHaveLength(2);
    expect(afterFirst[0]).toMatchObject({ role: 'user', content: "Hello, I'm John" });
    expect(afterFirst[1]).toMatchObject({ role: 'assistant', type: 'message' });

    const second = await run(agent, "What's my name?", { session });
    expect(second.finalOutput).toBe('Your name is John.');

    // The model saw the first turn: the runner read it from the store.
    const secondInput = model.requests[1]!.input as any[];
    expect(secondInput.slice(0, 2)).toEqual(afterFirst);
    expect(texts(secondInput)).toEqual(["Hello, I'm John", 'Nice to meet you, John!', "What's my name?"]);

    // The store holds exactly the items the runner saved over both turns, item by item, in order.
    const all = await store.getItems('user-123');
    expect(writes.length).toBeGreaterThanOrEqual(2);
    expect(all).toEqual(saved);
    expect(texts(all)).toEqual(["Hello, I'm John", 'Nice to meet you, John!', "What's my name?", 'Your name is John.']);
    await store.close();
  });

  it('persists tool calls and their results and replays them to the model', async () => {
    const store = createStore();
    const model = new LocalModel();
    const agent = new Agent({ name: 'Assistant', instructions: 'Be brief.', model, tools: [getWeather] });
    const { session, saved } = recording(store.session('tools'));

    const result = await run(agent, 'What is the weather in Oslo?', { session });
    expect(result.finalOutput).toBe('The weather tool says: sunny in Oslo');
    const items = await store.getItems('tools');
    expect(items).toEqual(saved);
    expect(items.map((i: any) => i.type ?? 'message')).toEqual(['message', 'function_call', 'function_call_result', 'message']);
    expect(items[2]).toMatchObject({ type: 'function_call_result', callId: (items[1] as any).callId });

    await run(agent, "I'm Ada", { session });
    // The second run's model input starts with the stored history, tool items included.
    expect((model.requests[2]!.input as any[]).slice(0, 4)).toEqual(items);
    expect(await store.getItems('tools')).toEqual(saved);
    expect(saved).toHaveLength(6);
    await store.close();
  });

  it('is seen by the SDK as a transaction-aware session when the store supports transactions', async () => {
    const store = createStore();
    expect(isSessionHistoryTransactionAwareSession(store.session('x'))).toBe(store.capabilities.transactions);
    await store.close();
  });
});
