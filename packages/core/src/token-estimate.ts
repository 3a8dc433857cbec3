import type { SessionItem } from './types.js';

/**
 * Counts the tokens of a piece of text. Synchronous so it can run on every
 * write. For exact counts use `await tiktokenTokenizer('o200k_base')`
 * (js-tiktoken, an optional peer dependency), or any function of your own.
 */
export type Tokenizer = (text: string) => number;

/**
 * The default tokenizer: one token per 4 UTF-16 code units, rounded up, and
 * 0 for the empty string — OpenAI's rule of thumb for English text. Cheap
 * and dependency-free; expect ±30% against a real tokenizer, more for code
 * or non-Latin scripts.
 */
export const heuristicTokenizer: Tokenizer = (text) => Math.ceil(text.length / 4);

// Keys whose string values are what a model reads. Everything else (ids,
// callIds, status, providerData, base64 payloads such as image/file data) is
// bookkeeping or binary and would only inflate the estimate.
const TEXT_KEYS = new Set(['text', 'content', 'arguments', 'output', 'name', 'refusal', 'transcript', 'code', 'summary']);
const SKIPPED_KEYS = new Set(['providerData', 'id', 'callId', 'call_id', 'status', 'type', 'role', 'image', 'file', 'data']);

function collect(value: unknown, key: string | undefined, out: string[], depth: number): void {
  if (depth > 64) return;
  if (typeof value === 'string') {
    if (key !== undefined && TEXT_KEYS.has(key)) out.push(value);
    return;
  }
  if (Array.isArray(value)) {
    // Array elements inherit their parent key: `content: ['a', 'b']` is text.
    for (const entry of value) collect(entry, key, out, depth + 1);
    return;
  }
  if (typeof value === 'object' && value !== null && !(value instanceof Uint8Array)) {
    for (const [childKey, child] of Object.entries(value)) {
      if (!SKIPPED_KEYS.has(childKey)) collect(child, childKey, out, depth + 1);
    }
  }
}

/**
 * The model-visible text of an item, pieces joined by a newline: message
 * content (string or `text` parts), refusals, tool names, call arguments and
 * outputs, reasoning text. Ids, statuses, `providerData` and binary or base64
 * payloads (images, files) are left out.
 */
export function itemText(item: SessionItem): string {
  const out: string[] = [];
  collect(item, undefined, out, 0);
  return out.join('\n');
}

/** Estimated tokens of one item: `tokenizer(itemText(item))`. */
export function estimateItemTokens(item: SessionItem, tokenizer: Tokenizer = heuristicTokenizer): number {
  const text = itemText(item);
  return text.length === 0 ? 0 : tokenizer(text);
}

/** Sum of {@link estimateItemTokens} over a list of items. */
export function estimateTokens(items: readonly SessionItem[], tokenizer: Tokenizer = heuristicTokenizer): number {
  let total = 0;
  for (const item of items) total += estimateItemTokens(item, tokenizer);
  return total;
}
