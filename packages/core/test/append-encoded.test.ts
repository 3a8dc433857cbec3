import { describe, expect, it } from 'vitest';
import { compose, MemoryStore, withCache, withEncryption, withMonitoring, type SessionItem } from '@sessionkit/core';
import type { OperationEvent } from '@sessionkit/core/monitoring';
import { ForwardingStore } from '@sessionkit/core/adapter';

// Core's layers hand a batch down already encoded (cache → monitoring → encryption → store). A layer that
// changes appends, written by anyone, must still see the items through its own addItems.
class Redacting extends ForwardingStore {
  seen: SessionItem[][] = [];
  override async addItems(sessionId: string, items: readonly SessionItem[]): Promise<void> {
    this.seen.push([...items]);
    const redacted = items.map((item) => JSON.parse(JSON.stringify(item).replaceAll('secret', '******')) as SessionItem);
    return this.inner.addItems(sessionId, redacted);
  }
}

const keys = { k1: new Uint8Array(32).fill(7) };
const item = (text: string): SessionItem => ({ type: 'message', role: 'user', content: [{ type: 'input_text', text }] }) as SessionItem;

describe('encoded appends through a stack', () => {
  it('a decorator that overrides addItems, below the cache, sees the items and its change is what is stored', async () => {
    const base = new MemoryStore();
    const redacting = new Redacting(base);
    const store = compose(redacting, withMonitoring({ onOperation: () => {} }), withCache());
    await store.addItems('s', [item('my secret'), item('plain')]);
    expect(redacting.seen).toEqual([[item('my secret'), item('plain')]]);
    expect(await base.getItems('s')).toEqual([item('my ******'), item('plain')]);
  });

  it('the same with encryption below the decorator: the stored envelopes hold the changed items', async () => {
    const base = new MemoryStore();
    const redacting = new Redacting(withEncryption({ keys, primary: 'k1' })(base));
    const store = compose(redacting, withMonitoring({ onOperation: () => {} }), withCache());
    await store.addItems('s', [item('my secret')]);
    expect(redacting.seen).toHaveLength(1);
    const reader = withEncryption({ keys: { k1: new Uint8Array(32).fill(7) }, primary: 'k1' })(base);
    expect(await reader.getItems('s')).toEqual([item('my ******')]);
  });

  it('monitoring below the cache reports an encoded append as one addItems with its item count', async () => {
    const events: OperationEvent[] = [];
    const base = new MemoryStore();
    const store = compose(base, withEncryption({ keys, primary: 'k1' }), withMonitoring({ onOperation: (event) => void events.push(event) }), withCache());
    await store.addItems('s', [item('a'), item('b'), item('c')]);
    expect(events.map((event) => [event.operation, event.count, event.ok])).toEqual([['addItems', 3, true]]);
    // And what reached the store is sealed: three envelopes, none holding the text.
    const stored = await base.getItems('s');
    expect(stored).toHaveLength(3);
    expect(JSON.stringify(stored)).not.toContain('input_text');
  });

  it('an invalid item is refused before anything is written, whatever the stack', async () => {
    const base = new MemoryStore();
    const store = compose(base, withEncryption({ keys, primary: 'k1' }), withMonitoring({ onOperation: () => {} }), withCache());
    await expect(store.addItems('s', [item('ok'), { bad: () => 1 } as never])).rejects.toMatchObject({ code: 'INVALID_ITEM' });
    expect(await base.getItems('s')).toEqual([]);
  });
});
