/**
 * Deliberate defects, each one a mistake real adapters make. The kit's
 * self-tests run the suite against a store with each flaw and require that
 * the tests named in `caughtBy` fail, and that the same tests pass without
 * the flaw: a suite that cannot fail proves nothing.
 */
export const BROKEN_STORES = {
  'loses-concurrent-batch': {
    description: 'appends by read-modify-write, so a concurrent batch overwrites another',
    caughtBy: ['concurrency.parallel-batches'],
  },
  'oldest-instead-of-newest': {
    description: 'getItems({ limit }) returns the oldest items instead of the newest',
    caughtBy: ['limit.tail'],
  },
  'ignores-session-id': { description: 'keeps every session in one history', caughtBy: ['ids.isolation'] },
  'prefix-collision': {
    description: 'maps ids to keys by replacing non-alphanumerics, so a/b and a_b share data',
    caughtBy: ['ids.prefix-collisions'],
  },
  'skips-corrupt-data': { description: 'silently drops items it cannot decode', caughtBy: ['corrupt.read-reports'] },
  'pop-deletes-corrupt': { description: 'removes the newest item before decoding it', caughtBy: ['corrupt.pop-keeps'] },
  'reapplies-transaction': { description: 'has no operation log: a repeated transaction applies twice', caughtBy: ['tx.idempotent'] },
  'ignores-suffix': { description: 'replace_suffix never checks the expected suffix', caughtBy: ['tx.suffix-mismatch'] },
  'ignores-expected-length': {
    description: 'declares transactionPreconditions but never checks expectedLength',
    caughtBy: ['tx.expected-length'],
  },
  'length-checked-before-log': {
    description: 'checks expectedLength before the operation log, so a retried operation that had landed answers CONFLICT',
    caughtBy: ['tx.identity'],
  },
  'partial-batch-on-bad-input': {
    description: 'writes items one by one, so a bad item leaves the batch half written',
    caughtBy: ['input.invalid-items'],
  },
  'too-large-after-partial-write': {
    description: 'writes a batch item by item and refuses an item over 512 KiB with TOO_LARGE, leaving the items before it written',
    caughtBy: ['refused.add-items', 'refused.transaction', 'refused.replace'],
  },
  'backend-refuses-long-batch': {
    description: 'writes a batch in requests of 100 items, and the backend refuses the sixth request, leaving the first 500 items written',
    caughtBy: ['refused.add-items'],
  },
  'pops-oldest': { description: 'popItem removes the oldest item', caughtBy: ['basic.pop-newest'] },
  'limit-zero-returns-all': { description: 'treats limit 0 as "no limit"', caughtBy: ['limit.zero'] },
  'accepts-negative-limit': { description: 'answers a negative limit with [] instead of refusing it', caughtBy: ['limit.invalid'] },
  'untyped-errors': { description: 'throws a plain RangeError for a bad limit', caughtBy: ['limit.invalid'] },
  'usable-after-close': { description: 'keeps working after close()', caughtBy: ['lifecycle.closed'] },
  'close-abandons-calls': {
    description: 'close() drops its connection at once, so a write still in flight fails and never lands',
    caughtBy: ['lifecycle.close-drains', 'persistence.close-drains'],
  },
  'forgets-on-reopen': { description: 'declares persistent but a reopened handle sees nothing', caughtBy: ['persistence.reopen'] },
  'lists-empty-sessions': { description: 'lists sessions that were cleared or popped empty', caughtBy: ['list.excludes-empty'] },
  'lists-duplicates': { description: 'repeats a session across page boundaries', caughtBy: ['list.every-session-once'] },
  'normalizes-unicode': { description: 'stores text NFC-normalised, changing what was written', caughtBy: ['fidelity.unicode'] },
  'ignores-ttl': { description: 'declares ttl but sessions never expire', caughtBy: ['ttl.expires'] },
  'racy-pop': { description: 'pops by read, await, then delete, so concurrent pops return the same item', caughtBy: ['concurrency.parallel-pops'] },
  'clear-keeps-operation-log': { description: 'clearSession leaves the operation log behind', caughtBy: ['tx.clear-forgets-log'] },
  'prunes-everything': { description: 'prune deletes every session whatever the cutoff', caughtBy: ['prune.older-than'] },
  'leaks-content-in-errors': { description: 'puts the refused items into the error message', caughtBy: ['input.errors-are-typed'] },
  'created-at-moves': { description: 'sets createdAt on every write', caughtBy: ['info.lifecycle'] },
  'non-boolean-capability': { description: 'declares persistent as 1 instead of true', caughtBy: ['basic.capabilities'] },
  'clear-unknown-throws': { description: 'clearSession of a session that was never written throws', caughtBy: ['basic.empty-session'] },
  'prepends-batches': { description: 'puts each new batch before the older items', caughtBy: ['basic.append-read'] },
  'empty-batch-clears': { description: 'treats an empty batch as "the history is now empty"', caughtBy: ['basic.empty-batch'] },
  'soft-clear': {
    description: 'clearSession only hides the items, and the next write brings them back',
    caughtBy: ['basic.clear'],
  },
  'caches-decoded-items': {
    description: 'hands out the objects of its own read cache, so a caller changing a returned item changes later reads',
    caughtBy: ['basic.no-aliasing'],
  },
  'session-factory-ignores-id': { description: 'store.session(id) binds every session to one fixed id', caughtBy: ['basic.bound-session'] },
  'limit-off-by-one': {
    description: 'computes the tail as slice(length - limit), so a limit larger than the history wraps around',
    caughtBy: ['limit.larger-than-history'],
  },
  'pop-forgets-count': {
    description: 'takes the tail from a count of appended items that pops do not lower',
    caughtBy: ['limit.after-pop-and-append'],
  },
  'tail-within-first-page': { description: 'finds the tail within the first 256 items only', caughtBy: ['limit.long-history'] },
  'truncates-long-ids': { description: 'keys sessions by the first 255 code units of the id', caughtBy: ['ids.hostile'] },
  'accepts-empty-id': { description: 'reads the empty id as an unknown session instead of refusing it', caughtBy: ['ids.invalid'] },
  'drops-provider-data': { description: 'strips providerData from the items it stores', caughtBy: ['fidelity.sdk-items'] },
  'sorts-keys': { description: 'stores items with their keys sorted, as a JSONB column does', caughtBy: ['fidelity.json-values'] },
  'rounds-numbers': { description: 'stores numbers with 15 significant digits (0.1 + 0.2 reads back as 0.3)', caughtBy: ['fidelity.numbers'] },
  'bytes-become-arrays': { description: 'returns Uint8Array values as plain arrays of numbers', caughtBy: ['fidelity.bytes'] },
  'undefined-becomes-null': { description: 'stores properties whose value is undefined as null', caughtBy: ['fidelity.undefined-properties'] },
  'truncates-big-strings': { description: 'cuts strings longer than 65 535 characters, as a TEXT column does', caughtBy: ['fidelity.large-items'] },
  'nesting-limit': {
    description: 'refuses items nested more than 100 levels deep, as BSON does',
    caughtBy: ['fidelity.deep-nesting'],
  },
  'accepts-array-likes': { description: 'turns an array-like object into a batch instead of refusing it', caughtBy: ['input.not-an-array'] },
  'coerces-operation-id': { description: 'accepts a number as operationId by converting it to text', caughtBy: ['input.transaction-arguments'] },
  'shared-write-buffer': {
    description: 'stages every batch in one buffer shared by all sessions, so parallel writes to two sessions swap items',
    caughtBy: ['concurrency.parallel-sessions'],
  },
  'pop-rewrites-history': {
    description: 'pops by reading the history, awaiting, and writing it back shortened, so an append in between is lost',
    caughtBy: ['concurrency.pop-with-append'],
  },
  'per-handle-lock': {
    description: 'serialises its read-modify-writes with a lock inside each handle only, so two handles lose batches and pop twice',
    caughtBy: ['concurrency.two-handles', 'concurrency.two-handle-pops'],
  },
  'transaction-not-atomic': {
    description: 'checks the suffix, awaits, then writes what it computed before, so a racing append is lost',
    caughtBy: ['concurrency.transaction-vs-append'],
  },
  'handle-cache': {
    description: 'caches each session in the handle, so it never sees another handle’s pops and clears',
    caughtBy: ['persistence.shared-handles'],
  },
  'forgets-log-on-reopen': {
    description: 'keeps the operation log in the handle: a reopened handle applies a repeated transaction again',
    caughtBy: ['persistence.transaction-log'],
  },
  'ignores-append-expected-length': {
    description: 'declares conditionalAppend but never checks addItems expectedLength',
    caughtBy: ['append.expected-length'],
  },
  'ignores-bad-append-length': {
    description: 'ignores an addItems expectedLength that is not a non-negative integer instead of refusing it',
    caughtBy: ['append.expected-length-validated'],
  },
  'ignores-bad-expected-length': {
    description: 'ignores an expectedLength that is not a non-negative integer instead of refusing it',
    caughtBy: ['tx.preconditions-validated'],
  },
  'pop-keeps-epoch': {
    description: 'keeps the session epoch on a pop, so readChanges reports a pop and an append back to the same length as nothing changed',
    caughtBy: ['changes.rewrites-renew'],
  },
  'changes-off-by-one': {
    description: 'readChanges hands back the last item already seen along with the appended ones',
    caughtBy: ['changes.appended'],
  },
  'epoch-in-handle': {
    description: "keeps session epochs in the handle, so another handle's pop goes unnoticed by readChanges",
    caughtBy: ['changes.shared-handles'],
  },
  'lenient-since': {
    description: 'reads the whole history for a malformed since instead of refusing it',
    caughtBy: ['changes.since-validated'],
  },
  'changes-ignore-ttl': {
    description: 'readChanges does not apply the ttl, so an expired session still shows its items',
    caughtBy: ['changes.expiry'],
  },
  'tx-append-prepends': { description: 'append_items inserts the items before the history', caughtBy: ['tx.append'] },
  'suffix-compared-as-text': {
    description: 'compares the expected suffix to the stored text, so equal items with another key order never match',
    caughtBy: ['tx.replace-suffix'],
  },
  'log-ignores-fingerprint': {
    description: 'treats any transaction under a used operation id as the repeat, even a different one',
    caughtBy: ['tx.conflicting-reuse'],
  },
  'global-operation-log': { description: 'keeps one operation log for all sessions', caughtBy: ['tx.per-session-log'] },
  'short-operation-log': { description: 'remembers only the newest 10 operation ids', caughtBy: ['tx.recent-log'] },
  'list-info-without-counts': { description: 'lists sessions with itemCount 0, as a bare key scan would', caughtBy: ['list.info'] },
  'lenient-page-size': { description: 'answers an invalid page size with the default page size', caughtBy: ['list.invalid-page-size'] },
  'prune-accepts-numbers': { description: 'accepts olderThan as epoch milliseconds', caughtBy: ['prune.invalid'] },
  'prune-counts-expired': {
    description: 'counts sessions that ttl had already expired in the number prune returns',
    caughtBy: ['prune.ttl-expired'],
  },
  'ttl-from-creation': { description: 'counts the ttl from the session’s first write, not its last', caughtBy: ['ttl.refreshed-by-writes'] },
  'replace-appends': { description: 'replaceHistory appends the new items after the old ones', caughtBy: ['replace.read-back'] },
  'replace-empty-ignored': {
    description: 'treats an empty replacement as "nothing to do" and keeps the old history',
    caughtBy: ['replace.empty'],
  },
  'replace-resets-created-at': {
    description: 'replaceHistory recreates the session, so createdAt becomes the time of the replacement',
    caughtBy: ['replace.keeps-created-at'],
  },
  'replace-forgets-operation-log': {
    description: 'replaceHistory clears the session first, operation log included, so a replayed transaction applies again',
    caughtBy: ['replace.keeps-operation-log'],
  },
  'replace-partial-on-bad-input': {
    description: 'replaceHistory clears, then appends item by item, so a bad item at the end leaves a partial history',
    caughtBy: ['replace.refused-changes-nothing'],
  },
  'mutation-replaces-every-call': {
    description: 'replace_function_call replaces every call with the callId instead of dropping the later duplicates',
    caughtBy: ['mutations.replace-first-call'],
  },
  'mutation-appends-when-missing': {
    description: 'replace_function_call appends the replacement when no call has the callId',
    caughtBy: ['mutations.missing-call-id'],
  },
  'mutation-validates-lazily': {
    description: 'applies mutations one by one, checking each only when it is reached, so an invalid one leaves the earlier ones applied',
    caughtBy: ['mutations.invalid-args'],
  },
  'mutation-rewrites-history': {
    description: 'applies mutations by read, await, replace the whole history, so an append in between is lost',
    caughtBy: ['mutations.concurrent-appends'],
  },
  'clear-decodes-first': {
    description: 'decodes every item before clearing (to report what it deletes), so a corrupt session cannot be cleared',
    caughtBy: ['corrupt.clear-recovers'],
  },
  'clear-globs': {
    description: "clearSession of an id holding glob characters ('*', '?', '[a-z]') deletes every session the pattern matches, as a Redis SCAN MATCH or a key-pattern delete would",
    caughtBy: ['ids.hostile'],
  },
  'pop-globs': {
    description: 'popItem of an id holding glob characters pops the newest item of every session the pattern matches',
    caughtBy: ['ids.hostile'],
  },
  'leaks-id-in-conflict': {
    description: 'names the session id in the CONFLICT of an addItems expectedLength',
    caughtBy: ['input.errors-are-typed'],
  },
  'log-stops-at-100': {
    description: 'stops recording operation ids once a session has 100, so later transactions apply again when repeated',
    caughtBy: ['tx.recent-log'],
  },
  'pop-keeps-updated': {
    description: 'a pop moves neither updatedAt nor the ttl',
    caughtBy: ['info.lifecycle', 'ttl.refreshed-by-writes'],
  },
  'tx-keeps-updated': {
    description: 'a transaction moves neither updatedAt nor the ttl',
    caughtBy: ['info.lifecycle', 'ttl.refreshed-by-writes'],
  },
  'replace-empty-listed': {
    description: 'an empty replacement leaves an empty session behind that getSessionInfo hides but listSessions yields',
    caughtBy: ['replace.empty'],
  },
  'expires-from-created': {
    description: 'reports expiresAt as the ttl after createdAt instead of after the last write',
    caughtBy: ['ttl.refreshed-by-writes'],
  },
  'length-ignores-ttl': {
    description: 'checks expectedLength against the items of an expired session, so its old count still matches',
    caughtBy: ['append.expected-length-expired', 'tx.expected-length-expired'],
  },
  'epoch-survives-prune': {
    description: 'gives a pruned session written again its old epoch, so readChanges reports the new items as appended',
    caughtBy: ['changes.prune'],
  },
  'replace-after-close': { description: 'replaceHistory keeps working after close()', caughtBy: ['lifecycle.closed'] },
  'mutations-after-close': { description: 'applyHistoryMutations keeps working after close()', caughtBy: ['lifecycle.closed'] },
  'changes-after-close': { description: 'readChanges keeps working after close()', caughtBy: ['lifecycle.closed'] },
  'replace-accepts-bad-id': {
    description: 'replaceHistory stores under an id the other methods refuse (empty, too long, not a string)',
    caughtBy: ['ids.invalid'],
  },
  'mutations-accept-bad-id': {
    description: 'applyHistoryMutations reads an invalid id as an unknown session instead of refusing it',
    caughtBy: ['ids.invalid'],
  },
  'changes-accept-bad-id': {
    description: 'readChanges reads an invalid id as an unknown session instead of refusing it',
    caughtBy: ['ids.invalid'],
  },
  'truthy-capability': { description: 'declares transactionPreconditions as 1 instead of true', caughtBy: ['basic.capabilities'] },
  'truthy-optional-capability': { description: 'declares readChanges as 1 instead of true', caughtBy: ['basic.capabilities'] },
  'missing-capability-keys': {
    description: 'leaves replaceHistory and historyMutations out of its manifest instead of declaring them',
    caughtBy: ['basic.capabilities'],
  },
  'capability-without-method': { description: 'declares replaceHistory but has no replaceHistory method', caughtBy: ['basic.capabilities'] },
} as const satisfies Record<string, { description: string; caughtBy: readonly string[] }>;

export type BrokenStoreFlaw = keyof typeof BROKEN_STORES;
