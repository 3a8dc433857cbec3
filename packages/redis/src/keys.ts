/**
 * Key layout. Every key of one session is `<prefix>{<tag>}:<kind>`, where
 * `<tag>` is the base64url encoding of the session id's UTF-8 bytes. The
 * alphabet `A–Z a–z 0–9 - _` contains none of `{ } * ? [ ] \ :` nor
 * whitespace, so an id can neither move its keys to another slot (Redis
 * Cluster hashes only the text between the first `{` and the next `}`), nor
 * match a glob pattern meant for another id, nor collide with another id's
 * keys (the encoding is injective).
 */

/** The four keys of one session, all in one hash slot. */
export interface SessionKeys {
  /** LIST of encoded items, oldest at the head. */
  readonly items: string;
  /** HASH: `c` created-at and `u` updated-at, epoch ms; `e` the history's epoch (readChanges). */
  readonly meta: string;
  /** HASH: operation id → transaction fingerprint. */
  readonly ops: string;
  /** LIST: operation ids, oldest first, for bounded retention. */
  readonly opQueue: string;
}

export function encodeSessionId(sessionId: string): string {
  return Buffer.from(sessionId, 'utf8').toString('base64url');
}

const TAG = /^[A-Za-z0-9_-]+$/;

/** The session id for an encoded tag, or undefined if the tag is not one we write. */
export function decodeSessionTag(tag: string): string | undefined {
  if (!TAG.test(tag)) return undefined;
  const sessionId = Buffer.from(tag, 'base64url').toString('utf8');
  // Only canonical encodings are ours: reject tags that decode lossily or re-encode differently.
  return encodeSessionId(sessionId) === tag ? sessionId : undefined;
}

export function sessionKeys(prefix: string, sessionId: string): SessionKeys {
  const base = `${prefix}{${encodeSessionId(sessionId)}}`;
  return { items: `${base}:i`, meta: `${base}:m`, ops: `${base}:o`, opQueue: `${base}:q` };
}

/** Escapes glob syntax (`* ? [ ] \`) so a prefix matches only itself in SCAN MATCH. */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/** SCAN MATCH pattern for every meta key under `fullPrefix` (the prefix as stored on the server). */
export function metaKeyPattern(fullPrefix: string): string {
  return `${escapeGlob(fullPrefix)}{*}:m`;
}

/** The session id of a meta key found by SCAN, or undefined for a key that is not one of ours. */
export function sessionIdFromMetaKey(fullPrefix: string, key: string): string | undefined {
  if (!key.startsWith(`${fullPrefix}{`) || !key.endsWith('}:m')) return undefined;
  return decodeSessionTag(key.slice(fullPrefix.length + 1, -3));
}
