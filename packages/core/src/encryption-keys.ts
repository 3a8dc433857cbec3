import { LRUCache } from 'lru-cache';
import {
  acceptableLimits,
  derivePassphraseRingKey,
  deriveRing,
  newSaltHeader,
  parseSaltHeader,
  type DerivedKey,
  type PassphraseEntry,
} from './key-ring.js';
import { isEnvelopeShaped, type ParsedEnvelope, type SealingKey } from './envelope.js';

/** Keys derived from passphrase entries kept per store, one per (key id, salt): each costs an Argon2id run. */
const PASSPHRASE_CACHE = 64;

/**
 * One encryption store's key ring at run time: the raw keys (derived once,
 * then wiped), the passphrase entries and the keys derived from them per
 * stored salt, and which key new writes are sealed with. Keys never leave
 * this object except as the derived keys libsodium is given.
 */
export class EncryptionKeys {
  /** Key ids in the ring (never the keys). */
  readonly ids: ReadonlySet<string>;
  /** The id new writes use. */
  readonly primary: string;
  #ring: Promise<Map<string, DerivedKey>> | undefined;
  readonly #raw: Map<string, Uint8Array>;
  readonly #passphrases: Map<string, PassphraseEntry>;
  /** `keyId NUL salt header` → derived key, for passphrase entries. */
  readonly #passKeys = new LRUCache<string, Promise<DerivedKey>>({ max: PASSPHRASE_CACHE });
  /** The salt header this store uses for a passphrase primary in sessions that have none to reuse. */
  #ownHeader: Promise<string> | undefined;
  /** A raw primary's sealing key, once derived: an append then seals without waiting a turn. */
  #rawSealing: SealingKey | undefined;

  constructor(raw: Map<string, Uint8Array>, passphrases: Map<string, PassphraseEntry>, primary: string) {
    this.ids = new Set([...raw.keys(), ...passphrases.keys()]);
    this.#raw = raw;
    this.#passphrases = passphrases;
    this.primary = primary;
  }

  /** The derived keys of the raw entries. */
  ring(): Promise<Map<string, DerivedKey>> {
    if (!this.#ring) {
      const raw = this.#raw;
      this.#ring = deriveRing(raw).then((derived) => {
        // The raw keys are only needed to derive; wipe our copies.
        for (const key of raw.values()) key.fill(0);
        raw.clear();
        const primary = derived.get(this.primary);
        if (primary !== undefined) this.#rawSealing = { id: this.primary, key: primary };
        return derived;
      });
    }
    return this.#ring;
  }

  /**
   * The key new writes use, and for a passphrase primary the salt header to
   * store with them: the one of `newest` (the session's newest stored item)
   * when it is under the primary with the configured limits, so a session
   * keeps one salt across processes; else this store's own random one.
   */
  /** {@link sealing} when it needs no waiting: a raw primary whose keys are derived; else undefined. */
  sealingNow(): SealingKey | undefined {
    return this.#rawSealing;
  }

  async sealing(newest?: unknown): Promise<SealingKey> {
    const id = this.primary;
    const entry = this.#passphrases.get(id);
    if (!entry) return { id, key: (await this.ring()).get(id)! };
    let header: string | undefined;
    if (isEnvelopeShaped(newest) && newest.k === id) {
      const parsed = parseSaltHeader(newest.s);
      if (parsed && parsed.opsLimit === entry.opsLimit && parsed.memLimit === entry.memLimit) header = newest.s as string;
    }
    header ??= await (this.#ownHeader ??= newSaltHeader(entry));
    const key = await this.#passphraseKey(id, header);
    return { id, key: key!, header };
  }

  /** The derived key of a passphrase entry for one stored salt header; undefined when the header is malformed or asks too much. */
  #passphraseKey(keyId: string, header: unknown): Promise<DerivedKey> | undefined {
    const entry = this.#passphrases.get(keyId);
    const parsed = parseSaltHeader(header);
    if (!entry || !parsed || !acceptableLimits(entry, parsed.opsLimit, parsed.memLimit)) return undefined;
    const cacheKey = `${keyId}\0${header as string}`;
    let key = this.#passKeys.get(cacheKey);
    if (!key) {
      key = derivePassphraseRingKey(entry, parsed.salt, parsed.opsLimit, parsed.memLimit);
      this.#passKeys.set(cacheKey, key);
      key.catch(() => this.#passKeys.delete(cacheKey));
    }
    return key;
  }

  /** Derives (once per salt, cached) the passphrase keys the stored items name. A wrong passphrase then fails authentication. */
  async derivedFor(stored: readonly unknown[]): Promise<Map<string, DerivedKey>> {
    const derived = new Map<string, DerivedKey>();
    if (this.#passphrases.size === 0) return derived;
    for (const item of stored) {
      if (!isEnvelopeShaped(item) || typeof item.k !== 'string' || typeof item.s !== 'string') continue;
      const cacheKey = `${item.k}\0${item.s}`;
      if (derived.has(cacheKey)) continue;
      const key = this.#passphraseKey(item.k, item.s);
      if (key) derived.set(cacheKey, await key);
    }
    return derived;
  }

  /**
   * The key that opens a parsed envelope (its id is in the ring), from the
   * raw keys' `ring` and the passphrase keys `derived` for the items read;
   * undefined when its salt header does not fit its key: a salt header
   * belongs to passphrase keys only, and a passphrase key needs one.
   */
  keyFor(envelope: ParsedEnvelope, ring: Map<string, DerivedKey>, derived: Map<string, DerivedKey>): DerivedKey | undefined {
    if (this.#passphrases.has(envelope.keyId)) {
      return typeof envelope.header === 'string' ? derived.get(`${envelope.keyId}\0${envelope.header}`) : undefined;
    }
    return envelope.hasHeader ? undefined : ring.get(envelope.keyId);
  }

  /** Whether a stored item is already what a write would store now: an envelope under the primary key. */
  current(stored: unknown): boolean {
    return isEnvelopeShaped(stored) && stored.k === this.primary;
  }
}
