import { randomUUID } from 'node:crypto';
import { hasTransactionPreconditions, hasTransactions } from '../capabilities.js';
import { canonicalize, encodeItem } from '../codec.js';
import { SessionError, SessionErrorCode, isSessionError } from '../errors.js';
import type { CallOptions, HistoryTransactionArgs, SessionItem, SessionStore } from '../types.js';
import { ForwardingStore } from '../forwarding-store.js';
import { retryOnConflict } from '../retry.js';
import { itemCallId, itemType } from '../item-kinds.js';
import { estimateTokens, heuristicTokenizer, type Tokenizer } from '../token-estimate.js';

/** What the summarizer is told besides the items. */
export interface SummarizeContext {
  readonly sessionId: string;
  /** 1 for the first try; higher when a concurrent write forced a retry with a different prefix. */
  readonly attempt: number;
}

/** Reported after a compaction was applied. */
export interface CompactionResult {
  readonly sessionId: string;
  /** Items replaced by the summary. */
  readonly summarized: number;
  /** Items the summarizer returned. */
  readonly summaryItems: number;
  /** Newest items kept as they were. */
  readonly kept: number;
  /**
   * Tries needed (each conflict with a concurrent write costs one), at most
   * core's one retry budget, `CONFLICT_RETRY_ATTEMPTS`.
   */
  readonly attempts: number;
}

/** Where a compaction failed; the history is unchanged in every case. */
export type CompactionPhase = 'check' | 'summarize' | 'apply';

export interface CompactionOptions<TItem = SessionItem> {
  /**
   * Turns the older items into summary items (usually one message). Called
   * with the items to be replaced, oldest first. Its errors never fail a
   * write: they go to `onError` and the history stays as it is.
   */
  readonly summarize: (items: readonly TItem[], context: SummarizeContext) => Promise<readonly TItem[]>;
  /**
   * Compact when the history holds more than this many items: an integer
   * greater than `keepLast`. Set `maxItems`, `maxTokens` or both
   * (INVALID_ARGUMENT otherwise). Default: no item threshold.
   */
  readonly maxItems?: number;
  /** Compact when the history's estimated tokens exceed this (a positive integer). Default: no token threshold. */
  readonly maxTokens?: number;
  /**
   * Newest items kept verbatim. The cut moves older (keeping more) so a tool
   * call is never separated from its output, nor a reasoning item from the
   * item after it.
   */
  readonly keepLast: number;
  /** Token counter for `maxTokens`. Default: {@link heuristicTokenizer} (characters / 4). */
  readonly tokenizer?: Tokenizer;
  /**
   * `false` (default): the write resolves first and compaction runs in the
   * background (await `idle()` to wait for it). `true`: the write waits for
   * the compaction, which still never makes the write fail.
   */
  readonly inline?: boolean;
  /** Called after each applied compaction. Default: none. */
  readonly onCompacted?: (result: CompactionResult) => void;
  /** Called when a compaction fails or gives up (summarizer error, conflicts, backend error). Default: none. */
  readonly onError?: (error: unknown, context: { readonly sessionId: string; readonly phase: CompactionPhase }) => void;
}

function invalid(message: string): SessionError {
  return new SessionError(SessionErrorCode.InvalidArgument, message);
}

/**
 * Where to cut `items` so that `items.slice(cut)` holds at least the newest
 * `keepLast`, no tool call is split from its output (items sharing a
 * `callId` stay on one side) and no reasoning item is split from what
 * follows it. 0 means nothing can be compacted.
 */
export function compactionCut(items: readonly SessionItem[], keepLast: number): number {
  const firstByCallId = new Map<string, number>();
  items.forEach((item, index) => {
    const id = itemCallId(item);
    if (id !== undefined && !firstByCallId.has(id)) firstByCallId.set(id, index);
  });
  let cut = Math.max(0, items.length - keepLast);
  let changed = true;
  while (changed && cut > 0) {
    changed = false;
    for (let i = cut; i < items.length; i++) {
      const id = itemCallId(items[i]);
      const first = id === undefined ? undefined : firstByCallId.get(id);
      if (first !== undefined && first < cut) {
        cut = first;
        changed = true;
      }
    }
    // The Responses API rejects a kept call whose preceding reasoning item is gone.
    while (cut > 0 && itemType(items[cut - 1]) === 'reasoning') {
      cut--;
      changed = true;
    }
  }
  return cut;
}

/** True when cutting at `cut` separates no call from its output and no reasoning item from its successor. */
function cutKeepsPairs(items: readonly SessionItem[], cut: number): boolean {
  if (cut > 0 && itemType(items[cut - 1]) === 'reasoning') return false;
  const before = new Set<string>();
  for (let i = 0; i < cut; i++) {
    const id = itemCallId(items[i]);
    if (id !== undefined) before.add(id);
  }
  for (let i = cut; i < items.length; i++) {
    const id = itemCallId(items[i]);
    if (id !== undefined && before.has(id)) return false;
  }
  return true;
}

const canonical = (item: SessionItem) => canonicalize(encodeItem(item));

/**
 * Replaces older history with a summary once it passes a threshold, through
 * one `replace_suffix` transaction over the whole history read, so a
 * concurrent write makes the compaction retry or give up — it never loses an
 * item. Requires the inner store's transactions. `replaceHistory` passes
 * through when the inner store has it. For OpenAI's compact endpoint as the
 * summarizer see `openAICompactSummarizer`.
 */
export class CompactionStore<TItem = SessionItem> extends ForwardingStore<TItem> {
  readonly #options: CompactionOptions<TItem>;
  readonly #tokenizer: Tokenizer;
  // Whether replace_suffix can carry expectedLength (the store declares transactionPreconditions).
  readonly #preconditions: boolean;
  // One compaction per session at a time; a write during it asks for one more check afterwards.
  readonly #running = new Map<string, { again: boolean; done: Promise<void> }>();
  readonly #pending = new Set<Promise<void>>();

  constructor(inner: SessionStore<TItem>, options: CompactionOptions<TItem>) {
    // replaceHistory is forwarded as is (ForwardingStore) and never triggers a check: the caller (the
    // runner's own compaction) chose that history. A compaction of ours racing it conflicts on its
    // whole-history precondition and re-reads, so it never writes over the replacement.
    super(inner);
    if (!hasTransactions(inner)) {
      throw new SessionError(
        SessionErrorCode.Unsupported,
        'withCompaction needs a store with the transactions capability (applyHistoryTransaction)',
      );
    }
    if (typeof options?.summarize !== 'function') throw invalid('summarize must be a function');
    const { keepLast, maxItems, maxTokens } = options;
    if (!Number.isSafeInteger(keepLast) || keepLast < 0) throw invalid('keepLast must be a non-negative integer');
    if (maxItems === undefined && maxTokens === undefined) throw invalid('set maxItems, maxTokens or both');
    if (maxItems !== undefined && (!Number.isSafeInteger(maxItems) || maxItems <= keepLast)) {
      throw invalid('maxItems must be an integer greater than keepLast');
    }
    if (maxTokens !== undefined && (!Number.isSafeInteger(maxTokens) || maxTokens <= 0)) {
      throw invalid('maxTokens must be a positive integer');
    }
    this.#options = options;
    this.#tokenizer = options.tokenizer ?? heuristicTokenizer;
    this.#preconditions = hasTransactionPreconditions(inner);
  }

  /** Resolves when no compaction is running or scheduled. */
  async idle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
  }

  /**
   * Checks the threshold for one session now and compacts if it is passed.
   * Resolves when done; failures go to `onError`, never to the caller.
   */
  compact(sessionId: string): Promise<void> {
    this.assertOpen();
    return this.#schedule(sessionId);
  }

  override async addItems(sessionId: string, items: readonly TItem[], options?: CallOptions): Promise<void> {
    await super.addItems(sessionId, items, options);
    if (items.length > 0) await this.#afterWrite(sessionId);
  }

  override async applyHistoryTransaction(
    sessionId: string,
    args: HistoryTransactionArgs<TItem>,
    options?: CallOptions,
  ): Promise<void> {
    await super.applyHistoryTransaction(sessionId, args, options);
    await this.#afterWrite(sessionId);
  }

  async #afterWrite(sessionId: string): Promise<void> {
    const done = this.#schedule(sessionId);
    if (this.#options.inline) await done;
  }

  #schedule(sessionId: string): Promise<void> {
    const running = this.#running.get(sessionId);
    if (running) {
      running.again = true;
      return running.done;
    }
    const state = { again: false, done: Promise.resolve() };
    state.done = (async () => {
      try {
        do {
          state.again = false;
          await this.#compact(sessionId);
        } while (state.again && !this.#isClosed());
      } finally {
        this.#running.delete(sessionId);
      }
    })();
    this.#running.set(sessionId, state);
    this.#pending.add(state.done);
    void state.done.finally(() => this.#pending.delete(state.done));
    return state.done;
  }

  #isClosed(): boolean {
    try {
      this.assertOpen();
      return false;
    } catch {
      return true;
    }
  }

  #report(error: unknown, sessionId: string, phase: CompactionPhase): void {
    // After close, in-flight work meets a closed store: that is shutdown, not a failure.
    if (this.#isClosed()) return;
    try {
      this.#options.onError?.(error, { sessionId, phase });
    } catch {
      // A throwing hook must not turn into an unhandled rejection.
    }
  }

  #over(items: readonly TItem[], complete: boolean): boolean {
    const { maxItems, maxTokens } = this.#options;
    if (maxItems !== undefined && items.length > maxItems) return true;
    return complete && maxTokens !== undefined && estimateTokens(items, this.#tokenizer) > maxTokens;
  }

  async #read(sessionId: string, phase: CompactionPhase): Promise<TItem[] | undefined> {
    try {
      return await this.inner.getItems(sessionId);
    } catch (error) {
      this.#report(error, sessionId, phase);
      return undefined;
    }
  }

  async #compact(sessionId: string): Promise<void> {
    const { maxItems, maxTokens, keepLast } = this.#options;
    if (this.#isClosed()) return;
    // The item threshold alone needs only the newest maxItems + 1 items: O(maxItems), not O(history).
    if (maxTokens === undefined && maxItems !== undefined) {
      let tail: TItem[];
      try {
        tail = await this.inner.getItems(sessionId, { limit: maxItems + 1 });
      } catch (error) {
        this.#report(error, sessionId, 'check');
        return;
      }
      if (tail.length <= maxItems) return;
    }
    // State carried between attempts: the summary of the prefix cut last time, reused when that prefix is unchanged.
    let summary: { older: string[]; items: readonly TItem[] } | undefined;
    try {
      await retryOnConflict(
        async (n) => {
          if (this.#isClosed()) return;
          const history = await this.#read(sessionId, n === 0 ? 'check' : 'apply');
          if (history === undefined || this.#isClosed() || !this.#over(history, true)) return;
          let cut: number;
          // A retry after a concurrent append keeps the earlier summary when the summarized prefix is unchanged.
          if (
            summary &&
            history.length - summary.older.length >= keepLast &&
            cutKeepsPairs(history, summary.older.length) &&
            summary.older.every((c, i) => c === canonical(history[i]))
          ) {
            cut = summary.older.length;
          } else {
            cut = compactionCut(history, keepLast);
            if (cut === 0) return;
            const older = history.slice(0, cut);
            let items: readonly TItem[];
            try {
              items = await this.#options.summarize(older, { sessionId, attempt: n + 1 });
              if (!Array.isArray(items)) throw invalid('summarize must resolve to an array of items');
            } catch (error) {
              this.#report(error, sessionId, 'summarize');
              return;
            }
            summary = { older: older.map(canonical), items };
          }
          if (this.#isClosed()) return;
          const replacement = [...summary.items, ...history.slice(cut)];
          try {
            await this.inner.applyHistoryTransaction!(sessionId, {
              operationId: `sessionkit-compaction:${randomUUID()}`,
              transaction: { type: 'replace_suffix', expectedSuffix: history, replacement },
              // The suffix check alone cannot tell [x, ...history] from history when content repeats (e.g. an
              // item prepended elsewhere, or a history read through a tail): the length pins the whole session.
              ...(this.#preconditions ? { expectedLength: history.length } : {}),
            });
          } catch (error) {
            // A CONFLICT means a concurrent write changed the history: read it again and retry.
            if (isSessionError(error, SessionErrorCode.Conflict)) throw error;
            this.#report(error, sessionId, 'apply');
            return;
          }
          try {
            this.#options.onCompacted?.({
              sessionId,
              summarized: cut,
              summaryItems: summary.items.length,
              kept: history.length - cut,
              attempts: n + 1,
            });
          } catch {
            // Hook errors stay with the hook.
          }
        },
        { operation: 'compaction' },
      );
    } catch (error) {
      // A spent retry budget gets here (failures of the read, the summarizer and the transaction were reported
      // in their own phase above), or something unforeseen; either way it is reported, never thrown at a writer.
      this.#report(error, sessionId, 'apply');
    }
  }
}

/**
 * Summarizes older history past a threshold, atomically through
 * `replace_suffix`. See docs/decorators/compaction.md.
 */
export function withCompaction<TItem = SessionItem>(
  options: CompactionOptions<NoInfer<TItem>>,
): (store: SessionStore<TItem>) => CompactionStore<TItem> {
  return (store) => new CompactionStore<TItem>(store, options);
}
