import { createReadStream } from 'node:fs';
import { SessionError, SessionErrorCode } from '@sessionkit/core';
import { decodeItem, encodeItem } from '@sessionkit/core/adapter';

/**
 * The export format, version 1 (JSON Lines, UTF-8, one JSON value per line;
 * see docs/cli.md):
 *
 *     {"kind":"session","format":"sessionkit-export","version":1,"sessionId":"…","itemCount":2,
 *      "createdAt":"…","updatedAt":"…","sha256":"…"}
 *     {"kind":"item","item":{…}}
 *     {"kind":"item","item":{…}}
 *
 * A session header is followed by exactly `itemCount` item lines, oldest
 * first. `sha256` is the hash `copy --verify` compares (canonical JSON of each
 * item, newline-separated). Readers refuse a version they do not know.
 */
export const EXPORT_FORMAT = 'sessionkit-export';
export const EXPORT_VERSION = 1;

export interface SessionHeader {
  readonly kind: 'session';
  readonly format: typeof EXPORT_FORMAT;
  readonly version: typeof EXPORT_VERSION;
  readonly sessionId: string;
  readonly itemCount: number;
  readonly createdAt?: string;
  readonly updatedAt?: string;
  readonly sha256: string;
}

export interface ExportedSession {
  readonly header: SessionHeader;
  readonly items: unknown[];
}

function corrupt(line: number, what: string): SessionError {
  return new SessionError(SessionErrorCode.InvalidArgument, `export file line ${line}: ${what}`);
}

/**
 * The file's lines: JSON Lines ends a record at `\n` only (a `\r` before it
 * is dropped). readline would also break at U+2028 and U+2029, which JSON
 * text may hold unescaped inside a string.
 */
async function* linesOf(path: string): AsyncIterable<string> {
  const strip = (line: string) => (line.endsWith('\r') ? line.slice(0, -1) : line);
  let pieces: string[] = [];
  for await (const chunk of createReadStream(path, 'utf8') as AsyncIterable<string>) {
    let start = 0;
    for (let end = chunk.indexOf('\n'); end >= 0; end = chunk.indexOf('\n', start)) {
      pieces.push(chunk.slice(start, end));
      yield strip(pieces.join(''));
      pieces = [];
      start = end + 1;
    }
    if (start < chunk.length) pieces.push(chunk.slice(start));
  }
  if (pieces.length > 0) yield strip(pieces.join(''));
}

/** Reads an export file one session at a time. */
export async function* readExport(path: string): AsyncIterable<ExportedSession> {
  const lines = linesOf(path);
  let current: { header: SessionHeader; items: unknown[] } | undefined;
  let number = 0;
  for await (const text of lines) {
    number++;
    if (text.trim() === '') continue;
    let value: any;
    try {
      value = JSON.parse(text);
    } catch {
      throw corrupt(number, 'not valid JSON');
    }
    if (value?.kind === 'session') {
      if (value.format !== EXPORT_FORMAT) throw corrupt(number, 'not a sessionkit export');
      if (value.version !== EXPORT_VERSION) throw corrupt(number, `format version ${value.version} is not supported (this CLI reads ${EXPORT_VERSION})`);
      if (typeof value.sessionId !== 'string' || !Number.isInteger(value.itemCount)) throw corrupt(number, 'bad session header');
      if (current) {
        if (current.items.length !== current.header.itemCount) throw corrupt(number, 'the previous session has fewer items than its header says');
        yield current;
      }
      current = { header: value as SessionHeader, items: [] };
    } else if (value?.kind === 'item') {
      if (!current) throw corrupt(number, 'an item before any session header');
      if (current.items.length >= current.header.itemCount) throw corrupt(number, 'more items than the session header says');
      if (!('item' in value)) throw corrupt(number, 'an item line without its "item"');
      // Items are written in core's encoding (binary values tagged), so decode them the same way.
      current.items.push(decodeItem(JSON.stringify(value.item)));
    } else throw corrupt(number, 'neither a session header nor an item');
  }
  if (current) {
    if (current.items.length !== current.header.itemCount) throw corrupt(number, 'the last session has fewer items than its header says');
    yield current;
  }
}

// JSON.stringify leaves U+2028 and U+2029 as they are; escaped, a line stays one line for readers that
// also break there (readline, Python's splitlines). The JSON value is the same.
const lineBreaking = /[\u2028\u2029]/g;
const escapeLineBreaks = (text: string) => text.replace(lineBreaking, (c) => (c === '\u2028' ? '\\u2028' : '\\u2029'));

export function headerLine(header: Omit<SessionHeader, 'kind' | 'format' | 'version'>): string {
  return escapeLineBreaks(JSON.stringify({ kind: 'session', format: EXPORT_FORMAT, version: EXPORT_VERSION, ...header }));
}

export function itemLine(item: unknown): string {
  return escapeLineBreaks(`{"kind":"item","item":${encodeItem(item)}}`);
}
