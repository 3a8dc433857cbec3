import { SessionError, SessionErrorCode } from '@sessionkit/core';
import { type EncodedItem } from '@sessionkit/core/adapter';

/**
 * The body of every object the store writes: one line of JSON header, then
 * one encoded item per line. The core codec guarantees an encoded item never
 * contains a raw newline, so lines split back exactly.
 */
export function encodeRecord(header: object, items: readonly EncodedItem[]): string {
  const head = JSON.stringify(header);
  return items.length === 0 ? head : `${head}\n${items.join('\n')}`;
}

export interface DecodedRecord {
  readonly header: Record<string, unknown>;
  readonly items: EncodedItem[];
}

export function corrupt(what: string, cause?: unknown): SessionError {
  return new SessionError(SessionErrorCode.CorruptData, `stored session object is corrupt: ${what}`, cause === undefined ? {} : { cause });
}

export function decodeRecord(text: string): DecodedRecord {
  const newline = text.indexOf('\n');
  const headText = newline < 0 ? text : text.slice(0, newline);
  let header: unknown;
  try {
    header = JSON.parse(headText);
  } catch (cause) {
    throw corrupt('header is not JSON', cause);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw corrupt('header is not an object');
  const items = newline < 0 ? [] : text.slice(newline + 1).split('\n');
  return { header: header as Record<string, unknown>, items };
}

/** UTF-8 size of encoded items as stored (one newline each). */
export function itemBytes(items: readonly EncodedItem[]): number {
  let total = 0;
  for (const item of items) total += Buffer.byteLength(item, 'utf8') + 1;
  return total;
}
