import { LRUCache } from 'lru-cache';
import { decodeItem, type EncodedItem } from './codec.js';
import type { EncryptedEnvelope } from './envelope.js';
import { copyItem } from './item-copy.js';

/**
 * A decrypted item as this process sealed or opened it, with the envelope's
 * exact stored text: a stored envelope equal to it, at the same session and
 * position, is the same authenticated input (the text holds the key id,
 * position, salt, nonce and ciphertext; the session and position are in the
 * associated data), so its plaintext is this one.
 */
interface Opened {
  /** The envelope as the store returns it (its codec encoding, which is its JSON.stringify). */
  readonly stored: string;
  /** The codec's encoding of the item, until the first read decodes it. */
  text: EncodedItem | undefined;
  /** The decoded item, kept from the first read on; handed out as copies only. */
  item: unknown;
  /** Bytes counted for this entry. */
  readonly size: number;
}

/** One session's remembered plaintexts, indexed by position. */
export interface SessionPlaintexts {
  readonly at: (Opened | undefined)[];
  bytes: number;
}

/** A fresh copy of a remembered item; its text is decoded on the first read and the decoded item kept. */
function itemOf(hit: Opened): unknown {
  if (hit.text !== undefined) {
    hit.item = decodeItem(hit.text);
    hit.text = undefined;
  }
  return copyItem(hit.item);
}

/** What this process last saw of a session: its length and newest stored item. */
export interface Known {
  readonly length: number;
  readonly newest: unknown;
}

/** Sessions whose length and newest item are remembered, so an append needs no read first. */
const KNOWN_SESSIONS = 10_000;
/** Bytes counted per entry beyond its strings: the object, the array slot, the session's share. */
const ENTRY_OVERHEAD = 96;

/**
 * What one encryption store remembers between calls, in memory only and
 * bounded: plaintexts keyed by the exact stored envelope (reads do not
 * decrypt again what this process already sealed or opened), and each
 * session's length (an append goes straight to a conditional write; a stale
 * length only costs the store's CONFLICT and a read).
 *
 * Plaintexts are held per session in an array indexed by position, so a
 * read of n items costs n array lookups and string comparisons, not n hashed
 * keys; sessions are evicted least recently used first when the byte budget
 * is exceeded. A remembered item is decoded once and then deep-copied for
 * each read (about 4× cheaper than parsing its text again; see item-copy.ts).
 */
export class EncryptionMemory {
  readonly #budget: number;
  /** Least recently used first (Map keeps insertion order; a use moves a session to the end). */
  readonly #sessions = new Map<string, SessionPlaintexts>();
  #bytes = 0;
  readonly #known = new LRUCache<string, Known>({ max: KNOWN_SESSIONS });

  /** `cacheBytes`: the plaintext cache's budget; 0 keeps none. */
  constructor(cacheBytes: number) {
    this.#budget = cacheBytes;
  }

  /** The session's remembered plaintexts (marked recently used), or undefined. */
  session(sessionId: string): SessionPlaintexts | undefined {
    const entry = this.#sessions.get(sessionId);
    if (entry !== undefined) {
      this.#sessions.delete(sessionId);
      this.#sessions.set(sessionId, entry);
    }
    return entry;
  }

  /**
   * A fresh copy of the plaintext item of a stored envelope at `position`
   * that this process sealed or opened before, when every stored field is the
   * same; undefined otherwise.
   */
  static item(plaintexts: SessionPlaintexts | undefined, value: Record<string, unknown>, position: unknown): unknown {
    if (plaintexts === undefined || typeof position !== 'number') return undefined;
    const hit = plaintexts.at[position];
    // The codec's encoding of the value read: equal to the remembered text only for the very same envelope.
    return hit !== undefined && JSON.stringify(value) === hit.stored ? itemOf(hit) : undefined;
  }

  /**
   * The same for an envelope's stored text, before it is parsed: a hit when
   * it is exactly the text remembered for `position` (which names that
   * position, so it is the same authenticated input).
   */
  static itemByText(plaintexts: SessionPlaintexts | undefined, position: number, stored: unknown): unknown {
    const hit = plaintexts?.at[position];
    return hit !== undefined && hit.stored === stored ? itemOf(hit) : undefined;
  }

  /** A remembered envelope, parsed from its stored text (for a passphrase key's salt, or comparing tails). */
  static envelopeAt(plaintexts: SessionPlaintexts | undefined, position: number): EncryptedEnvelope | undefined {
    const hit = plaintexts?.at[position];
    return hit === undefined ? undefined : (JSON.parse(hit.stored) as EncryptedEnvelope);
  }

  /** Remembers an authenticated envelope's plaintext (decoded on its first read from memory) under its stored text. */
  opened(sessionId: string, envelope: EncryptedEnvelope, text: EncodedItem, stored: string): void {
    if (this.#budget === 0) return;
    // A decoded item takes about twice its text's length on the heap (item-copy.ts's itemSize is a
    // closer estimate, too slow to run per entry): budget for the decoded form from the start.
    const size = stored.length + 2 * text.length + ENTRY_OVERHEAD;
    // One item larger than the whole budget is not kept (it would evict everything else).
    if (size > this.#budget) return;
    let plaintexts = this.#sessions.get(sessionId);
    if (plaintexts === undefined) {
      plaintexts = { at: [], bytes: 0 };
      this.#sessions.set(sessionId, plaintexts);
    }
    const position = envelope.p;
    const previous = plaintexts.at[position];
    if (previous !== undefined) {
      plaintexts.bytes -= previous.size;
      this.#bytes -= previous.size;
    } else if (position > plaintexts.at.length) {
      // Positions are dense from 0 in practice; a far one (another process appended meanwhile) fills holes.
      for (let i = plaintexts.at.length; i < position; i++) plaintexts.at[i] = undefined;
    }
    plaintexts.at[position] = { stored, text, item: undefined, size };
    plaintexts.bytes += size;
    this.#bytes += size;
    this.#evict(sessionId);
  }

  /** Drops least recently used sessions while over budget; `current` (being filled) goes last. */
  #evict(current: string): void {
    if (this.#bytes <= this.#budget) return;
    for (const [sessionId, plaintexts] of this.#sessions) {
      if (this.#bytes <= this.#budget) return;
      if (sessionId === current) continue;
      this.#sessions.delete(sessionId);
      this.#bytes -= plaintexts.bytes;
    }
    if (this.#bytes > this.#budget) {
      // The current session alone exceeds the budget: keep none of it rather than thrash.
      const plaintexts = this.#sessions.get(current);
      if (plaintexts !== undefined) {
        this.#sessions.delete(current);
        this.#bytes -= plaintexts.bytes;
      }
    }
  }

  /** After the store accepted them: the plaintexts of what this process stored, and the session's new length. */
  wrote(sessionId: string, sealed: readonly EncryptedEnvelope[], encoded: readonly EncodedItem[], stored: readonly string[], length: number): void {
    // `stored`: each envelope's codec encoding (strings and a number, no tags: exactly its JSON.stringify).
    sealed.forEach((envelope, i) => this.opened(sessionId, envelope, encoded[i]!, stored[i]!));
    this.#known.set(sessionId, { length, newest: sealed.length > 0 ? sealed[sealed.length - 1] : undefined });
  }

  /** A session's length from an authenticated read of its newest `count` items (`wholeHistory`: an empty read means empty). */
  saw(sessionId: string, count: number, newest: unknown, newestPosition: number | undefined, wholeHistory: boolean): void {
    if (count === 0) {
      if (wholeHistory) this.#known.set(sessionId, { length: 0, newest: undefined });
    } else if (newestPosition !== undefined) {
      this.#known.set(sessionId, { length: newestPosition + 1, newest });
    }
  }

  known(sessionId: string): Known | undefined {
    return this.#known.get(sessionId);
  }

  forget(sessionId: string): void {
    this.#known.delete(sessionId);
  }

  /** Everything remembered of a session: after a clear or a replacement its positions hold other envelopes. */
  drop(sessionId: string): void {
    this.#known.delete(sessionId);
    const plaintexts = this.#sessions.get(sessionId);
    if (plaintexts !== undefined) {
      this.#sessions.delete(sessionId);
      this.#bytes -= plaintexts.bytes;
    }
  }
}
