// Compiled by session-types.test.ts with `tsc --noEmit` against the BUILT
// declaration files: what an npm user's compiler sees.
import type { RunContextAwareSession, Session, SessionHistoryTransactionAwareSession } from '@openai/agents';
import {
  MemoryStore,
  bindSession,
  compose,
  isTransactionalSession,
  type SessionStore,
  type StoreCapabilities,
} from '@sessionkit/core';
import { SqliteStore } from '@sessionkit/sqlite';

const sqlite = new SqliteStore({ path: ':memory:' });

export const fromSqlite: Session = sqlite.session('user-123');
export const fromMemory: Session = new MemoryStore().session('user-123');
export const runContextAware: RunContextAwareSession = sqlite.session('user-123');
export const decorated: Session = compose(sqlite, (store: SessionStore) => new MemoryStore()).session('x');

const bound = sqlite.session('user-123');
if (isTransactionalSession(bound)) {
  export_transactional(bound);
}
function export_transactional(session: SessionHistoryTransactionAwareSession): void {
  void session;
}

// A third party's store that implements only the contract binds the same way.
declare const capabilities: StoreCapabilities;
const thirdParty: SessionStore = {
  capabilities,
  getItems: async () => [],
  addItems: async () => {},
  popItem: async () => undefined,
  clearSession: async () => {},
  close: async () => {},
};
export const fromThirdParty: Session = bindSession(thirdParty, 'user-123');

// @ts-expect-error a store is not a session: the check must be able to fail
export const notASession: Session = sqlite;
