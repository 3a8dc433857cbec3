// Compiled by session-types.test.ts with `tsc --noEmit` against the BUILT
// declaration files: what an npm user's compiler sees.
import type {
  RunContextAwareSession,
  Session,
  SessionHistoryRewriteAwareSession,
  SessionHistoryTransactionAwareSession,
} from '@openai/agents';
import {
  MemoryStore,
  bindSession,
  compose,
  isTransactionalSession,
  withCache,
  withEncryption,
  withMonitoring,
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

// The 0.20.0 declarations: replaceHistoryWithCompaction is an optional method
// of Session itself (and of RunContextAwareSession, with the run context);
// applyHistoryMutations is SessionHistoryRewriteAwareSession's. A bound
// session has each when its store declares it, so the checks below take the
// present-method form of the bound session.
type With<S, K extends keyof S> = S & Required<Pick<S, K>>;
const stack = compose(
  sqlite,
  withEncryption({ keys: { k1: new Uint8Array(32) }, primary: 'k1' }),
  withMonitoring({}),
  withCache({}),
);
const full = stack.session('user-123') as With<ReturnType<typeof stack.session>, 'applyHistoryTransaction' | 'replaceHistoryWithCompaction' | 'applyHistoryMutations'>;
export const stackSession: Session = full;
export const stackRunContextAware: RunContextAwareSession<{ tenant: string }> = full;
export const stackTransactional: SessionHistoryTransactionAwareSession = full;
export const stackRewriteAware: SessionHistoryRewriteAwareSession = full;
export const replaceWithCompaction: NonNullable<Session['replaceHistoryWithCompaction']> = full.replaceHistoryWithCompaction;
export const replaceWithCompactionInRun: NonNullable<RunContextAwareSession['replaceHistoryWithCompaction']> =
  full.replaceHistoryWithCompaction;
export const sqliteRewriteAware: SessionHistoryRewriteAwareSession = sqlite.session('user-123') as With<
  ReturnType<typeof sqlite.session>,
  'applyHistoryMutations'
>;
// @ts-expect-error without the capability known, applyHistoryMutations is optional: not a rewrite-aware session
export const maybeRewriteAware: SessionHistoryRewriteAwareSession = sqlite.session('user-123');

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
