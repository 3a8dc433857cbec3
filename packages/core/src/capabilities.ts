import type { PruneOptions, SessionStore, StoreCapabilities } from './types.js';

// Type guards read the capability manifest and the method together, never
// `instanceof`, so stores from other packages (or other copies of core) work.

type With<K extends keyof SessionStore> = SessionStore & Required<Pick<SessionStore, K>>;

export function hasTransactions<S extends SessionStore<any>>(store: S): store is S & With<'applyHistoryTransaction'> {
  return store.capabilities?.transactions === true && typeof store.applyHistoryTransaction === 'function';
}

export function hasListSessions<S extends SessionStore<any>>(store: S): store is S & With<'listSessions'> {
  return store.capabilities?.listSessions === true && typeof store.listSessions === 'function';
}

export function hasSessionInfo<S extends SessionStore<any>>(store: S): store is S & With<'getSessionInfo'> {
  return store.capabilities?.sessionInfo === true && typeof store.getSessionInfo === 'function';
}

export function hasPrune<S extends SessionStore<any>>(
  store: S,
): store is S & { prune(options: PruneOptions): Promise<number> } {
  return store.capabilities?.prune === true && typeof store.prune === 'function';
}

/** The store honours `expectedLength` and `identity` in `applyHistoryTransaction`. */
export function hasTransactionPreconditions<S extends SessionStore<any>>(
  store: S,
): store is S & With<'applyHistoryTransaction'> {
  return hasTransactions(store) && store.capabilities.transactionPreconditions === true;
}

export function hasReplaceHistory<S extends SessionStore<any>>(store: S): store is S & With<'replaceHistory'> {
  return store.capabilities?.replaceHistory === true && typeof store.replaceHistory === 'function';
}

export function hasHistoryMutations<S extends SessionStore<any>>(store: S): store is S & With<'applyHistoryMutations'> {
  return store.capabilities?.historyMutations === true && typeof store.applyHistoryMutations === 'function';
}

/** The store answers `readChanges` (see {@link HistoryVersion}). */
export function hasReadChanges<S extends SessionStore<any>>(store: S): store is S & With<'readChanges'> {
  return store.capabilities?.readChanges === true && typeof store.readChanges === 'function';
}

/** The manifest of a store that supports nothing optional; spread and override. */
export const NO_CAPABILITIES: StoreCapabilities = Object.freeze({
  transactions: false,
  listSessions: false,
  sessionInfo: false,
  prune: false,
  ttl: false,
  persistent: false,
  atomicReadModifyWrite: false,
  transactionPreconditions: false,
  replaceHistory: false,
  historyMutations: false,
});
