import { createHash, randomBytes } from 'node:crypto';

/**
 * Where a session's objects live. Every key the store writes is one of:
 *
 *   {prefix}h/{dir}            the session's head (manifest, or index in log mode)
 *   {prefix}d/{dir}/s/{name}   an immutable segment of items (conditional mode)
 *   {prefix}d/{dir}/l/{name}   a batch or merged batch object (log mode)
 *
 * `dir` is the session id turned into one path component that cannot hold
 * `/`, `.`-tricks or any other S3 syntax: `b` + base64url(UTF-8 id) while
 * that stays short, else `h` + base64url(SHA-256(id)). Distinct ids give
 * distinct dirs (base64url is injective; the leading letter separates the
 * two forms), and because data keys put `/` after the dir, no session's
 * key prefix is a prefix of another's (`a` vs `ab`, `a/b` vs `a%2Fb`).
 * Heads are listed without a delimiter, one key per session.
 */

/** Longest base64url dir kept readable; longer ids are hashed (s3rver and many filesystems cap a path segment at 255 bytes). */
export const MAX_PLAIN_DIR = 200;

/** The one path component ("dir") that stands for `sessionId`; "segment" in this package means an object of items. */
export function sessionDir(sessionId: string): string {
  const plain = `b${Buffer.from(sessionId, 'utf8').toString('base64url')}`;
  if (plain.length <= MAX_PLAIN_DIR) return plain;
  return `h${createHash('sha256').update(sessionId, 'utf8').digest('base64url')}`;
}

/** True when the dir is hashed, so the id must be stored in the objects to be listed. */
export function isHashedDir(dir: string): boolean {
  return dir.startsWith('h');
}

/** The id a readable dir stands for, or undefined when it is hashed or not one of ours. */
export function sessionIdFromDir(dir: string): string | undefined {
  if (!dir.startsWith('b')) return undefined;
  const encoded = dir.slice(1);
  if (!/^[A-Za-z0-9_-]+$/.test(encoded)) return undefined;
  const id = Buffer.from(encoded, 'base64url').toString('utf8');
  // Only the canonical encoding of a well-formed id counts.
  return sessionDir(id) === dir ? id : undefined;
}

/** All keys of one session. */
export interface SessionKeys {
  readonly dir: string;
  /** The head object. */
  readonly head: string;
  /** Prefix of all the session's data objects (ends with `/`). */
  readonly data: string;
  /** Prefix of segment objects (conditional mode). */
  readonly segments: string;
  /** Prefix of batch objects (log mode). */
  readonly log: string;
}

export function sessionKeys(prefix: string, sessionId: string): SessionKeys {
  return keysForDir(prefix, sessionDir(sessionId));
}

export function keysForDir(prefix: string, dir: string): SessionKeys {
  const data = `${prefix}d/${dir}/`;
  return { dir, head: `${prefix}h/${dir}`, data, segments: `${data}s/`, log: `${data}l/` };
}

/** Prefix under which every head lives: listing it lists sessions. */
export function headsPrefix(prefix: string): string {
  return `${prefix}h/`;
}

/** A random, key-safe suffix that makes names unique across writers. */
export function randomName(bytes = 9): string {
  return randomBytes(bytes).toString('base64url');
}

/**
 * Issues batch names for log mode that sort in write order within this
 * process and by clock across processes: 13-digit epoch ms, a 4-digit
 * base-36 counter for writes in the same millisecond, and a random suffix.
 */
export class BatchNamer {
  #lastMs = 0;
  #counter = 0;

  next(now = Date.now()): string {
    if (now > this.#lastMs) {
      this.#lastMs = now;
      this.#counter = 0;
    } else if (++this.#counter >= 36 ** 4) {
      this.#lastMs++;
      this.#counter = 0;
    }
    return `${String(this.#lastMs).padStart(13, '0')}${this.#counter.toString(36).padStart(4, '0')}-${randomName()}`;
  }
}

/** Epoch ms a batch name (or a merged name, which starts with its newest source's name) was written at. */
export function batchTime(name: string): number {
  return Number(name.slice(0, 13));
}

/** The newest source name covered by an object name: the name itself, or the part before `~` of a merged object. */
export function positionOf(name: string): string {
  const tilde = name.indexOf('~');
  return tilde < 0 ? name : name.slice(0, tilde);
}

/** Name of a merged object whose newest source is `newestSource`: sorts right after that source. */
export function mergedName(newestSource: string): string {
  return `${newestSource}~${randomName()}`;
}

const BATCH_NAME = /^\d{13}[0-9a-z]{4}-[A-Za-z0-9_-]+(~[A-Za-z0-9_-]+)?$/;

/** True for names written by {@link BatchNamer} or {@link mergedName}. */
export function isBatchName(name: string): boolean {
  return BATCH_NAME.test(name);
}
