import { describe, expect, it } from 'vitest';
import {
  MemoryStore,
  SessionErrorCode,
  bindSession,
  compose,
  isTransactionalSession,
  type CallOptions,
  type GetItemsOptions,
  type SessionStore,
} from '@sessionkit/core';
import { ForwardingStore, NO_CAPABILITIES, hasListSessions, hasTransactions } from '@sessionkit/core/adapter';

/** A minimal third-party store: the contract only, no optional capabilities. */
function thirdParty(): SessionStore & { calls: Array<[string, unknown]> } {
  const data = new Map<string, unknown[]>();
  const calls: Array<[string, unknown]> = [];
  return {
    calls,
    capabilities: NO_CAPABILITIES,
    async getItems(id: string, options?: GetItemsOptions) {
      calls.push(['getItems', options]);
      const items = data.get(id) ?? [];
      return options?.limit === undefined ? items : items.slice(-options.limit);
    },
    async addItems(id: string, items: readonly unknown[], options?: CallOptions) {
      calls.push(['addItems', options]);
      data.set(id, [...(data.get(id) ?? []), ...items]);
    },
    async popItem(id: string) {
      return data.get(id)?.pop();
    },
    async clearSession(id: string) {
      data.delete(id);
    },
    async close() {},
  };
}

describe('bindSession / store.session', () => {
  it('binds a third-party store and exposes no transaction method it lacks', async () => {
    const store = thirdParty();
    const session = bindSession(store, 'abc');
    expect(await session.getSessionId()).toBe('abc');
    await session.addItems([{ n: 1 }, { n: 2 }]);
    expect(await session.getItems(1)).toEqual([{ n: 2 }]);
    expect(await session.popItem()).toEqual({ n: 2 });
    expect(isTransactionalSession(session)).toBe(false);
    expect('applyHistoryTransaction' in session).toBe(false);
  });

  it('has applyHistoryTransaction exactly when the store declares transactions', async () => {
    const session = new MemoryStore().session('x');
    expect(isTransactionalSession(session)).toBe(true);
    if (!isTransactionalSession(session)) return;
    await session.applyHistoryTransaction({ operationId: 'op', transaction: { type: 'append_items', items: [{ a: 1 }] } });
    expect(await session.getItems()).toEqual([{ a: 1 }]);
  });

  it('forwards the run context to the store and declares acceptsRunContext', async () => {
    const store = thirdParty();
    const session = bindSession(store, 'abc');
    const runContext = { context: { tenant: 't1' } };
    expect(session.acceptsRunContext).toBe(true);
    await session.addItems([{ n: 1 }], runContext);
    await session.getItems(undefined, runContext);
    expect(store.calls).toEqual([
      ['addItems', { runContext }],
      ['getItems', { limit: undefined, runContext }],
    ]);
  });

  it('applies settings.limit only when getItems gets no limit', async () => {
    const store = new MemoryStore();
    await store.addItems('x', [1, 2, 3, 4].map((n) => ({ n })));
    const session = store.session('x', { limit: 2 });
    expect(await session.getItems()).toEqual([{ n: 3 }, { n: 4 }]);
    expect(await session.getItems(3)).toEqual([{ n: 2 }, { n: 3 }, { n: 4 }]);
    expect(await store.session('x').getItems()).toHaveLength(4);
  });

  it('validates the id and settings when binding, not on first use', () => {
    const store = new MemoryStore();
    expect(() => store.session('')).toThrow(expect.objectContaining({ code: SessionErrorCode.InvalidArgument }));
    expect(() => store.session('x', { limit: -1 })).toThrow(expect.objectContaining({ code: SessionErrorCode.InvalidArgument }));
  });
});

describe('compose and ForwardingStore', () => {
  it('applies decorators innermost first: compose(base, a, b) is b(a(base))', async () => {
    const order: string[] = [];
    const tag = (name: string) => (inner: SessionStore) =>
      new (class extends ForwardingStore {
        override async addItems(id: string, items: readonly unknown[], options?: CallOptions) {
          order.push(name);
          return super.addItems(id, items, options);
        }
      })(inner);
    const store = compose(new MemoryStore(), tag('a'), tag('b'));
    await store.addItems('x', [{ n: 1 }]);
    expect(order).toEqual(['b', 'a']);
  });

  it('drops capabilities a decorator cannot honour and refuses their methods', async () => {
    const store = new ForwardingStore(new MemoryStore(), ['transactions', 'listSessions']);
    expect(hasTransactions(store)).toBe(false);
    expect(hasListSessions(store)).toBe(false);
    expect(isTransactionalSession(store.session('x'))).toBe(false);
    await expect(
      store.applyHistoryTransaction('x', { operationId: 'o', transaction: { type: 'append_items', items: [] } }),
    ).rejects.toMatchObject({ code: SessionErrorCode.Unsupported });
  });

  it('never claims a capability whose method the inner store lacks', () => {
    const inner = { ...thirdParty(), capabilities: { ...NO_CAPABILITIES, transactions: true } };
    expect(new ForwardingStore(inner).capabilities.transactions).toBe(false);
  });

  it('closes the wrapped store once and then refuses calls', async () => {
    const inner = new MemoryStore();
    const store = new ForwardingStore(inner);
    await store.close();
    await store.close();
    expect(inner.closed).toBe(true);
    await expect(store.getItems('x')).rejects.toMatchObject({ code: SessionErrorCode.Closed });
  });
});
