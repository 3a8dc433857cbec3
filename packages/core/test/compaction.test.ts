import { describe, expect, it } from 'vitest';
import { MemoryStore, SessionErrorCode, compose, withCompaction, type SessionItem } from '@sessionkit/core';
import { compactionCut, type CompactionResult } from '@sessionkit/core/compaction';
import { CONFLICT_RETRY_ATTEMPTS, ForwardingStore } from '@sessionkit/core/adapter';

const msg = (role: string, text: string) => ({ role, content: text });
const call = (id: string) => ({ type: 'function_call', callId: id, name: 'lookup', arguments: '{}' });
const result = (id: string) => ({
  type: 'function_call_result',
  callId: id,
  name: 'lookup',
  status: 'completed',
  output: { type: 'text', text: 'ok' },
});
const summaryOf = (items: readonly SessionItem[]) => [{ role: 'system', content: `summary of ${items.length} items` }];

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('compactionCut', () => {
  it('keeps the newest keepLast items when nothing pairs across the cut', () => {
    const items = [msg('user', 'a'), msg('assistant', 'b'), msg('user', 'c'), msg('assistant', 'd')];
    expect(compactionCut(items, 2)).toBe(2);
    expect(compactionCut(items, 4)).toBe(0);
    expect(compactionCut(items, 0)).toBe(4);
  });

  it('moves the cut so a tool call stays with its output', () => {
    const items = [msg('user', 'a'), call('c1'), result('c1'), msg('assistant', 'b')];
    // keepLast 2 would keep [result, assistant] and summarize the call: cut moves to the call.
    expect(compactionCut(items, 2)).toBe(1);
    const nested = [msg('user', 'a'), call('c1'), call('c2'), result('c1'), result('c2'), msg('assistant', 'b')];
    expect(compactionCut(nested, 2)).toBe(1);
  });

  it('keeps a reasoning item with the item after it', () => {
    const items = [msg('user', 'a'), { type: 'reasoning', content: [] }, call('c1'), result('c1')];
    expect(compactionCut(items, 2)).toBe(1);
  });
});

describe('withCompaction', () => {
  it('refuses a store without transactions, and bad options', () => {
    const noTx = new ForwardingStore(new MemoryStore(), ['transactions']);
    expect(() => withCompaction({ summarize: async () => [], keepLast: 2, maxItems: 10 })(noTx)).toThrow(
      expect.objectContaining({ code: SessionErrorCode.Unsupported }),
    );
    const bad = (options: any) => () => withCompaction(options)(new MemoryStore());
    expect(bad({ summarize: async () => [], keepLast: 2 })).toThrow(/maxItems, maxTokens/);
    expect(bad({ summarize: async () => [], keepLast: 5, maxItems: 5 })).toThrow(/greater than keepLast/);
    expect(bad({ keepLast: 1, maxItems: 5 })).toThrow(/summarize/);
  });

  it('replaces older items with the summary once the item threshold is passed', async () => {
    const seen: SessionItem[][] = [];
    const done: CompactionResult[] = [];
    const store = compose(
      new MemoryStore(),
      withCompaction({
        summarize: async (items) => {
          seen.push([...items]);
          return summaryOf(items);
        },
        maxItems: 5,
        keepLast: 2,
        onCompacted: (r) => done.push(r),
      }),
    );
    const items = Array.from({ length: 5 }, (_, i) => msg(i % 2 ? 'assistant' : 'user', `m${i}`));
    await store.addItems('s', items);
    await store.idle();
    expect(seen).toHaveLength(0); // 5 items: not past the threshold
    await store.addItems('s', [msg('user', 'm5')]);
    await store.idle();
    expect(seen).toEqual([items.slice(0, 4)]);
    expect(await store.getItems('s')).toEqual([...summaryOf(items.slice(0, 4)), items[4], msg('user', 'm5')]);
    expect(done).toEqual([{ sessionId: 's', summarized: 4, summaryItems: 1, kept: 2, attempts: 1 }]);
  });

  it('uses the token threshold with the pluggable tokenizer', async () => {
    const store = compose(
      new MemoryStore(),
      withCompaction({
        summarize: async (items) => summaryOf(items),
        maxTokens: 10,
        keepLast: 1,
        tokenizer: (text) => text.length, // one token per character
        inline: true,
      }),
    );
    await store.addItems('s', [msg('user', '12345'), msg('assistant', '12345')]); // 10 tokens: not over
    expect(await store.getItems('s')).toHaveLength(2);
    await store.addItems('s', [msg('user', 'x')]); // 11 tokens
    expect(await store.getItems('s')).toEqual([...summaryOf([1, 2]), msg('user', 'x')]);
  });

  it('never splits a tool call from its output', async () => {
    const seen: SessionItem[][] = [];
    const store = compose(
      new MemoryStore(),
      withCompaction({
        summarize: async (items) => (seen.push([...items]), summaryOf(items)),
        maxItems: 4,
        keepLast: 2,
        inline: true,
      }),
    );
    const history = [msg('user', 'a'), msg('assistant', 'b'), call('c1'), result('c1'), msg('assistant', 'c')];
    await store.addItems('s', history);
    expect(seen).toEqual([history.slice(0, 2)]);
    expect(await store.getItems('s')).toEqual([...summaryOf(history.slice(0, 2)), call('c1'), result('c1'), msg('assistant', 'c')]);
  });

  it('runs in the background by default: the append resolves before the summarizer does', async () => {
    const gate = deferred();
    const store = compose(
      new MemoryStore(),
      withCompaction({
        summarize: async (items) => (await gate.promise, summaryOf(items)),
        maxItems: 2,
        keepLast: 1,
      }),
    );
    await store.addItems('s', [msg('user', 'a'), msg('assistant', 'b'), msg('user', 'c')]);
    expect(await store.getItems('s')).toHaveLength(3);
    gate.resolve();
    await store.idle();
    expect(await store.getItems('s')).toEqual([...summaryOf([1, 2]), msg('user', 'c')]);
  });

  it('loses no item when appends land while a slow summarizer runs', async () => {
    const gate = deferred();
    const started = deferred();
    let calls = 0;
    const done: CompactionResult[] = [];
    const inner = new MemoryStore();
    const store = compose(
      inner,
      withCompaction({
        summarize: async (items) => {
          calls++;
          started.resolve();
          await gate.promise;
          return summaryOf(items);
        },
        maxItems: 5,
        keepLast: 2,
        onCompacted: (r) => done.push(r),
      }),
    );
    const first = Array.from({ length: 6 }, (_, i) => msg('user', `m${i}`));
    await store.addItems('s', first);
    await started.promise;
    // Other writers (this process through the store, and straight to the backend) append meanwhile.
    await store.addItems('s', [msg('user', 'late-1')]);
    await inner.addItems('s', [msg('user', 'late-2')]);
    gate.resolve();
    await store.idle();
    const after = await store.getItems('s');
    // The first try conflicts; the retry reuses the summary of the unchanged prefix and keeps everything after it.
    expect(calls).toBe(1);
    expect(after).toEqual([...summaryOf(first.slice(0, 4)), first[4], first[5], msg('user', 'late-1'), msg('user', 'late-2')]);
    expect(done).toEqual([{ sessionId: 's', summarized: 4, summaryItems: 1, kept: 4, attempts: 2 }]);
  });

  it('gives up after core’s one retry budget, without changing anything, when the history keeps changing', async () => {
    const errors: Array<{ error: unknown; phase: string }> = [];
    const attempts: number[] = [];
    const inner = new MemoryStore();
    // Another writer appends between every read and every transaction of the compaction: each try conflicts.
    class Contended extends ForwardingStore {
      tries = 0;
      override async applyHistoryTransaction(...args: Parameters<MemoryStore['applyHistoryTransaction']>): Promise<void> {
        this.tries++;
        await inner.addItems('s', [msg('user', `racer-${this.tries}`)]);
        return super.applyHistoryTransaction(...args);
      }
    }
    const contended = new Contended(inner);
    const store = compose(
      contended,
      withCompaction({
        summarize: async (items, { attempt }) => (attempts.push(attempt), summaryOf(items)),
        maxItems: 3,
        keepLast: 1,
        onError: (error, { phase }) => errors.push({ error, phase }),
      }),
    );
    const items = [msg('user', 'a'), msg('assistant', 'b'), msg('user', 'c'), msg('assistant', 'd')];
    await store.addItems('s', items);
    await store.idle();
    expect(contended.tries).toBe(CONFLICT_RETRY_ATTEMPTS);
    const racers = Array.from({ length: CONFLICT_RETRY_ATTEMPTS }, (_, i) => msg('user', `racer-${i + 1}`));
    expect(await store.getItems('s')).toEqual([...items, ...racers]);
    // Each retry found the summarized prefix unchanged and reused its summary.
    expect(attempts).toEqual([1]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ phase: 'apply', error: { code: SessionErrorCode.Conflict } });
    expect((errors[0]!.error as Error).cause).toMatchObject({ code: SessionErrorCode.Conflict });
  });

  it('leaves the history unchanged and the append successful when the summarizer fails', async () => {
    const errors: Array<{ error: unknown; phase: string; sessionId: string }> = [];
    const store = compose(
      new MemoryStore(),
      withCompaction({
        summarize: async () => {
          throw new Error('model down');
        },
        maxItems: 2,
        keepLast: 1,
        inline: true,
        onError: (error, context) => errors.push({ error, ...context }),
      }),
    );
    const items = [msg('user', 'a'), msg('assistant', 'b'), msg('user', 'c')];
    await expect(store.addItems('s', items)).resolves.toBeUndefined();
    expect(await store.getItems('s')).toEqual(items);
    expect(errors).toEqual([{ error: new Error('model down'), phase: 'summarize', sessionId: 's' }]);
  });

  it('reports a summary that cannot be stored and keeps the history', async () => {
    const errors: unknown[] = [];
    const store = compose(
      new MemoryStore(),
      withCompaction({
        summarize: async () => [{ role: 'system', content: () => 'not json' }],
        maxItems: 2,
        keepLast: 1,
        inline: true,
        onError: (error) => errors.push(error),
      }),
    );
    const items = [msg('user', 'a'), msg('assistant', 'b'), msg('user', 'c')];
    await store.addItems('s', items);
    expect(await store.getItems('s')).toEqual(items);
    expect(errors[0]).toMatchObject({ code: SessionErrorCode.InvalidItem });
  });

  it('compacts after transactional appends too, and the bound session sees it', async () => {
    const store = compose(
      new MemoryStore(),
      withCompaction({ summarize: async (items) => summaryOf(items), maxItems: 2, keepLast: 1, inline: true }),
    );
    const session = store.session('s');
    await session.addItems([msg('user', 'a'), msg('assistant', 'b')]);
    await store.applyHistoryTransaction('s', {
      operationId: 'op',
      transaction: { type: 'append_items', items: [msg('user', 'c')] },
    });
    expect(await session.getItems()).toEqual([...summaryOf([1, 2]), msg('user', 'c')]);
  });

  it('stops quietly when the store closes during a compaction', async () => {
    const gate = deferred();
    const errors: unknown[] = [];
    const store = compose(
      new MemoryStore(),
      withCompaction({
        summarize: async (items) => (await gate.promise, summaryOf(items)),
        maxItems: 2,
        keepLast: 1,
        onError: (error) => errors.push(error),
      }),
    );
    await store.addItems('s', [msg('user', 'a'), msg('assistant', 'b'), msg('user', 'c')]);
    await store.close();
    gate.resolve();
    await store.idle();
    expect(errors).toEqual([]);
  });
});
