// How the value-changing and mutation flaws alter what they keep.
import type { EncodedItem } from '@sessionkit/core/adapter';

export const isCallItem = (item: unknown, callId: string) =>
  (item as { type?: unknown } | null)?.type === 'function_call' && (item as { callId?: unknown }).callId === callId;

/** The mutation flaws' own replace_function_call: the first match replaced, later ones dropped (or, with `every`, all replaced). */
export function replaceCalls(items: unknown[], callId: string, replacement: unknown, every: boolean): unknown[] {
  let seen = false;
  const out: unknown[] = [];
  for (const item of items) {
    if (!isCallItem(item, callId)) out.push(item);
    else if (every || !seen) out.push(structuredClone(replacement));
    seen ||= isCallItem(item, callId);
  }
  return out;
}

/** Re-encodes a stored JSON text through `reviver`: how the value-changing flaws alter what they keep. */
export const rewrite = (encoded: EncodedItem, reviver: (key: string, value: unknown) => unknown): EncodedItem =>
  JSON.stringify(JSON.parse(encoded, reviver)) as EncodedItem;

export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  // fromEntries defines own properties, so "__proto__" stays a key.
  return Object.fromEntries(Object.keys(value).sort().map((key) => [key, sortKeys((value as Record<string, unknown>)[key])]));
}

export function depthOf(value: unknown): number {
  let depth = 0;
  let level: unknown[] = [value];
  while (level.length) {
    level = level.flatMap((v) => (v !== null && typeof v === 'object' ? Object.values(v as object) : []));
    if (level.length) depth++;
  }
  return depth;
}

export function mapDeep(value: unknown, fn: (value: unknown) => unknown): unknown {
  const mapped = fn(value);
  if (mapped !== value) return mapped;
  if (Array.isArray(value)) return value.map((v) => mapDeep(v, fn));
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapDeep(v, fn)]));
}
