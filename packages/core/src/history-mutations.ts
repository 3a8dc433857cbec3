import { randomUUID } from 'node:crypto';
import { encodeItem } from './codec.js';
import { SessionError, SessionErrorCode } from './errors.js';
import { retryOnConflict } from './retry.js';
import type { CallOptions, HistoryMutation, HistoryMutationArgs, SessionStore } from './types.js';

function invalid(message: string): SessionError {
  return new SessionError(SessionErrorCode.InvalidArgument, message);
}

/**
 * Checks `applyHistoryMutations`' arguments before anything is read or
 * written: a known mutation type, a non-empty `callId`, and a replacement
 * that is a storable `function_call` item (INVALID_ITEM otherwise).
 */
export function validateMutations<TItem>(args: HistoryMutationArgs<TItem>): readonly HistoryMutation<TItem>[] {
  const mutations = (args as { mutations?: unknown } | undefined)?.mutations;
  if (!Array.isArray(mutations)) throw invalid('applyHistoryMutations needs { mutations: [...] }');
  for (const mutation of mutations as unknown[]) {
    const m = mutation as Partial<HistoryMutation<unknown>> | null;
    if (typeof m !== 'object' || m === null || m.type !== 'replace_function_call') {
      throw invalid("each mutation must be { type: 'replace_function_call', callId, replacement }");
    }
    if (typeof m.callId !== 'string' || m.callId.length === 0) throw invalid('mutation callId must be a non-empty string');
    encodeItem(m.replacement);
    const replacement = m.replacement as { type?: unknown } | null;
    if (typeof replacement !== 'object' || replacement === null || replacement.type !== 'function_call') {
      throw new SessionError(SessionErrorCode.InvalidItem, "a replace_function_call replacement must be an item of type 'function_call'");
    }
  }
  return mutations as readonly HistoryMutation<TItem>[];
}

const isCall = (item: unknown, callId: string): boolean =>
  typeof item === 'object' &&
  item !== null &&
  (item as { type?: unknown }).type === 'function_call' &&
  (item as { callId?: unknown }).callId === callId;

/**
 * The Agents SDK's semantics (`applySessionHistoryMutations`): each
 * `replace_function_call` puts its replacement where the first call with
 * that `callId` was and drops later ones. Returns the index of the first
 * changed item, or -1 when nothing matched.
 */
export function applyMutations<TItem>(items: TItem[], mutations: readonly HistoryMutation<TItem>[]): { items: TItem[]; firstChanged: number } {
  let next = items;
  let firstChanged = -1;
  for (const mutation of mutations) {
    const out: TItem[] = [];
    let kept = false;
    for (let i = 0; i < next.length; i++) {
      const item = next[i] as TItem;
      if (isCall(item, mutation.callId)) {
        if (firstChanged === -1 || out.length < firstChanged) firstChanged = out.length;
        if (!kept) {
          out.push(structuredClone(mutation.replacement));
          kept = true;
        }
        continue;
      }
      out.push(item);
    }
    next = out;
  }
  return { items: next, firstChanged };
}

/**
 * `applyHistoryMutations` for any store with transactions and preconditions:
 * reads the history, applies the mutations, and writes the changed suffix back
 * as one `replace_suffix` bound to the length it read, so a concurrent change
 * makes it retry instead of being overwritten. One implementation for every
 * store and every decorator that changes how items are stored.
 */
export async function mutateThroughTransactions<TItem>(
  store: SessionStore<TItem>,
  sessionId: string,
  args: HistoryMutationArgs<TItem>,
  options?: CallOptions,
): Promise<void> {
  const mutations = validateMutations(args);
  if (mutations.length === 0) return;
  await retryOnConflict(
    async () => {
      const current = await store.getItems(sessionId, options);
      const { items: next, firstChanged } = applyMutations(current, mutations);
      if (firstChanged === -1) return;
      await store.applyHistoryTransaction!(
        sessionId,
        {
          operationId: `sessionkit-mutation-${randomUUID()}`,
          transaction: {
            type: 'replace_suffix',
            expectedSuffix: current.slice(firstChanged),
            replacement: next.slice(firstChanged),
          },
          expectedLength: current.length,
        },
        options,
      );
    },
    { operation: 'applyHistoryMutations' },
  );
}
