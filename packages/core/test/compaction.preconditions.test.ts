import { describe, expect, it } from 'vitest';
import {
  MemoryStore,
  compose,
  withCompaction,
  type CallOptions,
  type HistoryTransactionArgs,
  type SessionItem,
  type SessionStore,
  type StoreCapabilities,
} from '@sessionkit/core';
import { ForwardingStore } from '@sessionkit/core/adapter';

const msg = (text: string) => ({ role: 'user', content: text });
const summaryOf = (items: readonly SessionItem[]) => [{ role: 'system', content: `summary of ${items.length} items` }];

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Records every transaction the decorator sends, optionally without the preconditions capability. */
class Recording extends ForwardingStore {
  readonly sent: HistoryTransactionArgs[] = [];
  constructor(inner: SessionStore, drop: readonly (keyof StoreCapabilities)[] = []) {
    super(inner, drop);
  }
  override applyHistoryTransaction(sessionId: string, args: HistoryTransactionArgs, options?: CallOptions): Promise<void> {
    this.sent.push(args);
    return super.applyHistoryTransaction(sessionId, args, options);
  }
}

describe('withCompaction transaction preconditions', () => {
  it('sends expectedLength with its replace_suffix when the store declares transactionPreconditions', async () => {
    const recording = new Recording(new MemoryStore());
    expect(recording.capabilities.transactionPreconditions).toBe(true);
    const store = compose(recording, withCompaction({ summarize: async (items) => summaryOf(items), maxItems: 3, keepLast: 1, inline: true }));
    await store.addItems('s', [msg('a'), msg('b'), msg('c'), msg('d')]);
    expect(recording.sent).toHaveLength(1);
    expect(recording.sent[0]).toMatchObject({ expectedLength: 4, transaction: { type: 'replace_suffix' } });
    expect(await store.getItems('s')).toEqual([...summaryOf([1, 2, 3]), msg('d')]);
  });

  it('sends no expectedLength to a store without the capability (it would refuse it)', async () => {
    const recording = new Recording(new MemoryStore(), ['transactionPreconditions']);
    const store = compose(recording, withCompaction({ summarize: async (items) => summaryOf(items), maxItems: 3, keepLast: 1, inline: true }));
    await store.addItems('s', [msg('a'), msg('b'), msg('c'), msg('d')]);
    expect(recording.sent).toHaveLength(1);
    expect(recording.sent[0]).not.toHaveProperty('expectedLength');
    expect(await store.getItems('s')).toEqual([...summaryOf([1, 2, 3]), msg('d')]);
  });

  it('does not summarise the wrong span when repeating content makes the old suffix match a longer history', async () => {
    // [ok, ok, ok, ok] is read; while the summarizer runs another writer appends one more "ok". The read history
    // is still a suffix of the new one, so the suffix check alone passes and would leave the oldest "ok" in front of
    // a summary of newer items. The length precondition makes it conflict and retry on the whole history.
    const gate = deferred();
    const started = deferred();
    const summarized: SessionItem[][] = [];
    const inner = new MemoryStore();
    const store = compose(
      inner,
      withCompaction({
        summarize: async (items) => {
          summarized.push([...items]);
          started.resolve();
          await gate.promise;
          return summaryOf(items);
        },
        maxItems: 3,
        keepLast: 1,
      }),
    );
    await store.addItems('s', [msg('ok'), msg('ok'), msg('ok'), msg('ok')]);
    await started.promise;
    await inner.addItems('s', [msg('ok')]);
    gate.resolve();
    await store.idle();
    // The summary covers the oldest three; both newer items follow it. (Without expectedLength: [ok, summary, ok].)
    expect(await store.getItems('s')).toEqual([...summaryOf([1, 2, 3]), msg('ok'), msg('ok')]);
    expect(summarized).toEqual([[msg('ok'), msg('ok'), msg('ok')]]);
  });
});
