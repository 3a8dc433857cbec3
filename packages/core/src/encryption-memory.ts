import { LRUCache } from 'lru-cache';
import type { EncodedItem } from './codec.js';
import { ENVELOPE_TAG, ENVELOPE_VERSION, type EncryptedEnvelope } from './envelope.js';

/**
 * A decrypted item as this process sealed or opened it, with the exact
 * stored fields it came from: a stored envelope equal in all of them, at the
 * same session and position, is the same authenticated input (the position
 * and session are in the associated data), so its plaintext is this one.
 */
interface Opened {
  readonly k: string;
  readonly s: unknown;
  readonly n: string;
  readonly c: string;
  /** The codec's encoding of the item. */
  readonly text: string;
}

/** What this process last saw of a session: its length and newest stored item. */
export interface Known {
  readonly length: number;
  readonly newest: unknown;
}

/** Sessions whose length and newest item are remembered, so an append needs no read first. */
const KNOWN_SESSIONS = 10_000;

const cacheKey = (sessionId: string, position: number) => `${position}\0${sessionId}`;

/**
 * What one encryption store remembers between calls, in memory only and
 * bounded: plaintexts keyed by the exact stored envelope (reads do not
 * decrypt again what this process already sealed or opened), and each
 * session's length (an append goes straight to a conditional write; a stale
 * length only costs the store's CONFLICT and a read).
 */
export class EncryptionMemory {
  readonly #opened: LRUCache<string, Opened> | undefined;
  readonly #known = new LRUCache<string, Known>({ max: KNOWN_SESSIONS });

  /** `cacheBytes`: the plaintext cache's budget; 0 keeps none. */
  constructor(cacheBytes: number) {
    this.#opened =
      cacheBytes === 0
        ? undefined
        : new LRUCache<string, Opened>({
            maxSize: cacheBytes,
            // Strings of one-byte characters (base64, mostly ASCII JSON), plus the entry's own overhead.
            sizeCalculation: (entry, key) => entry.c.length + entry.n.length + entry.text.length + key.length + 128,
          });
  }

  /** The plaintext of a stored envelope this process sealed or opened before, when every stored field is the same. */
  plaintext(sessionId: string, value: Record<string, unknown>): string | undefined {
    const p = value.p;
    if (this.#opened === undefined || typeof p !== 'number') return undefined;
    const hit = this.#opened.get(cacheKey(sessionId, p));
    if (
      hit !== undefined &&
      hit.c === value.c &&
      hit.n === value.n &&
      hit.k === value.k &&
      hit.s === value.s &&
      value[ENVELOPE_TAG] === ENVELOPE_VERSION &&
      Object.keys(value).length === (hit.s === undefined ? 5 : 6)
    ) {
      return hit.text;
    }
    return undefined;
  }

  /** Remembers an authenticated envelope's plaintext. */
  opened(sessionId: string, envelope: EncryptedEnvelope, text: string): void {
    this.#opened?.set(cacheKey(sessionId, envelope.p), { k: envelope.k, s: envelope.s, n: envelope.n, c: envelope.c, text });
  }

  /** After the store accepted them: the plaintexts of what this process stored, and the session's new length. */
  wrote(sessionId: string, sealed: readonly EncryptedEnvelope[], encoded: readonly EncodedItem[], length: number): void {
    sealed.forEach((envelope, i) => this.opened(sessionId, envelope, encoded[i]!));
    this.#known.set(sessionId, { length, newest: sealed.length > 0 ? sealed[sealed.length - 1] : undefined });
  }

  /** A session's length from an authenticated read of its newest items (`wholeHistory`: an empty read means empty). */
  saw(sessionId: string, stored: readonly unknown[], newestPosition: number | undefined, wholeHistory: boolean): void {
    if (stored.length === 0) {
      if (wholeHistory) this.#known.set(sessionId, { length: 0, newest: undefined });
    } else if (newestPosition !== undefined) {
      this.#known.set(sessionId, { length: newestPosition + 1, newest: stored[stored.length - 1] });
    }
  }

  known(sessionId: string): Known | undefined {
    return this.#known.get(sessionId);
  }

  forget(sessionId: string): void {
    this.#known.delete(sessionId);
  }
}
