/** The operations of a `SessionStore` (other than `close`), as decorators that observe or disturb them name them. */
export type StoreOperation =
  | 'getItems'
  | 'addItems'
  | 'popItem'
  | 'clearSession'
  | 'applyHistoryTransaction'
  | 'replaceHistory'
  | 'applyHistoryMutations'
  | 'listSessions'
  | 'getSessionInfo'
  | 'readChanges'
  | 'prune';

/** Every {@link StoreOperation}, in the order reports list them. */
export const STORE_OPERATIONS: readonly StoreOperation[] = Object.freeze([
  'getItems',
  'addItems',
  'popItem',
  'clearSession',
  'applyHistoryTransaction',
  'replaceHistory',
  'applyHistoryMutations',
  'listSessions',
  'getSessionInfo',
  'readChanges',
  'prune',
]);
