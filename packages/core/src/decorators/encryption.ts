import { randomFillSync, randomUUID } from 'node:crypto';
import { hasTransactionPreconditions, hasTransactions } from '../capabilities.js';
import { canonicalize, decodeItem, encodeItem, encodeItems, type EncodedItem } from '../codec.js';
import { SessionError, SessionErrorCode, isSessionError } from '../errors.js';
import type { CallOptions, GetItemsOptions, HistoryTransactionArgs, SessionItem, SessionStore, StoreCapabilities } from '../types.js';
import { assertSessionId, prepareTransaction } from '../validation.js';
import { assertPreconditionsSupported } from '../abstract-store.js';
import { ForwardingStore } from '../forwarding-store.js';
import { LRUCache } from 'lru-cache';
import {
  acceptableLimits,
  derivePassphraseRingKey,
  deriveRing,
  sodium,
  newSaltHeader,
  parseSaltHeader,
  validateKeyRing,
  type DerivedKey,
  type KeyRingEntry,
  type PassphraseEntry,
} from '../key-ring.js';


export interface EncryptionOptions {
  /**
   * The key ring: key id → 32 random bytes (see `generateKey` / `deriveKey`),
   * or `{ passphrase, opsLimit?, memLimit? }`: a key derived with Argon2id
   * under a random salt that is stored in each envelope (`s`), so the
   * passphrase alone reads the data back. Every key that encrypted something
   * still stored must stay in the ring. Keys and passphrases are copied; they
   * never appear in errors, logs or `util.inspect`.
   */
  readonly keys: Readonly<Record<string, KeyRingEntry>>;
  /** Id of the key new writes use. Reads pick the key named by each item. Required. */
  readonly primary: string;
  /**
   * Read items stored without encryption (e.g. written before encryption was
   * enabled) as they are, instead of failing with DECRYPTION_FAILED. This also
   * lets anyone with write access to the backend insert readable items, so
   * enable it only while migrating (see `reencryptSession`). Default: `false`.
   */
  readonly allowPlaintext?: boolean;
  /**
   * Bind each item's position in the history into its associated data, so
   * items reordered, removed from the middle or duplicated within a session
   * fail with DECRYPTION_FAILED. Every append then becomes a compare-and-swap
   * on the session's length, so the store beneath must declare
   * `transactionPreconditions` (all built-in stores do, except S3 with
   * `conditionalWrites: false`); without it the decorator refuses to apply
   * with UNSUPPORTED. `false` writes position-free envelopes (format 1) on any
   * store, with order unprotected; `applyHistoryTransaction` is then offered
   * only over a store with `transactionPreconditions` (random nonces make a
   * repeat recognisable only by its `identity`). Default: `true`.
   */
  readonly bindPositions?: boolean;
  /**
   * With `bindPositions`, also read position-free envelopes (format 1,
   * written with `bindPositions: false`). Like `allowPlaintext`, only while
   * migrating: `reencryptSession` rewrites them with positions. Default: `false`.
   */
  readonly allowUnbound?: boolean;
}

/** The stored form of an encrypted item. */
export interface EncryptedEnvelope {
  /** Format: 2 binds the position `p`; 1 (written with `bindPositions: false`) has none. */
  readonly '$sk:enc': 1 | 2;
  /** Key id. */
  readonly k: string;
  /** Format 2: the item's 0-based position in its session's history. */
  readonly p?: number;
  /** Passphrase keys only: `a2id.<opsLimit>.<memLimit>.<16-byte salt, base64>`, what derives the key again. */
  readonly s?: string;
  /** 24-byte nonce, base64. */
  readonly n: string;
  /** Ciphertext with its 16-byte Poly1305 tag, base64. */
  readonly c: string;
}

const ENVELOPE_TAG = '$sk:enc';
const NONCE_BYTES = 24;
const TAG_BYTES = 16;
const AD_PREFIX = 'sessionkit:enc:v1';
const AD_PREFIX_V2 = 'sessionkit:enc:v2';
/** Keys derived from passphrase entries kept per store, one per (key id, salt): each costs an Argon2id run. */
const PASSPHRASE_CACHE = 64;
/** Compare-and-swap attempts while other writers keep changing the session. Each lost attempt means another writer progressed. */
const CAS_ATTEMPTS = 1000;
const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function failed(message: string, cause?: unknown): SessionError {
  // Messages name the failure only: never key bytes, key ids read from storage, session ids or content.
  return new SessionError(SessionErrorCode.DecryptionFailed, message, cause === undefined ? {} : { cause });
}

function isEnvelopeShaped(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && ENVELOPE_TAG in value;
}

// Lenient base64 (Buffer.from skips stray characters): whatever bytes come out must still pass
// authentication, so a sloppy encoding can only ever yield authentic content or DECRYPTION_FAILED.
function fromBase64(text: unknown): Uint8Array | undefined {
  if (typeof text !== 'string') return undefined;
  const bytes = Buffer.from(text, 'base64');
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

const toBase64 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');

/**
 * Associated data: `"sessionkit:enc:v1" 0x00 keyId 0x00 sessionId`, UTF-8.
 * Authenticated with every item, never stored: a ciphertext decrypts only
 * under the session id (and key id) it was written for.
 */
function associatedData(keyId: string, sessionId: string, position?: number): Uint8Array {
  return utf8.encode(
    position === undefined ? `${AD_PREFIX}\0${keyId}\0${sessionId}` : `${AD_PREFIX_V2}\0${keyId}\0${sessionId}\0${position}`,
  );
}

function outOfOrder(): SessionError {
  return failed('encrypted items are out of order: reordered, removed from the middle, or duplicated');
}

/** Waits a little before another compare-and-swap attempt, longer as attempts grow, so racers spread out. */
async function backoff(attempt: number): Promise<void> {
  if (attempt > 2) await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(attempt, 20)));
}

function gaveUp(operation: string, attempts: number, cause: unknown): SessionError {
  return new SessionError(SessionErrorCode.Conflict, `${operation} gave up after ${attempts} attempts: the session kept changing`, { cause });
}

/** What one read of a session's newest items found, to write after it by compare-and-swap. */
interface Tail {
  /** The stored newest items (at most the number asked for). */
  readonly stored: unknown[];
  /** Their decrypted values. */
  readonly items: unknown[];
  /** Item count of the session: the position the next appended item takes. */
  readonly length: number;
  /** The stored newest item (undefined when empty): a passphrase key reuses its salt; {@link markOf} compares tails. */
  readonly newest: unknown;
}

/** Canonical stored form of a tail's newest item ('' when empty): tells whether the session changed since. Only needed after a conflict. */
function markOf(tail: Tail): string {
  return tail.newest === undefined ? '' : canonicalize(encodeItem(tail.newest));
}

/**
 * Encrypts each item with XChaCha20-Poly1305 (IETF) under the key ring's
 * primary key and a fresh random 24-byte nonce, binding the session id and
 * (by default) the item's position as associated data. Appends are
 * compare-and-swaps on the session's length so every item is sealed for the
 * position it lands at; pops and transactions send the stored forms they
 * read, and a keyed identity so repeats are recognised.
 * See docs/decorators/encryption.md for what it does and does not protect.
 * Anything that cannot be decrypted, or sits out of order, fails with
 * DECRYPTION_FAILED and is never skipped or deleted.
 */
export class EncryptionStore<TItem = SessionItem> extends ForwardingStore<TItem, unknown> {
  readonly #keyIds: ReadonlySet<string>;
  readonly #primary: string;
  readonly #allowPlaintext: boolean;
  readonly #bind: boolean;
  readonly #allowUnbound: boolean;
  #ring: Promise<Map<string, DerivedKey>> | undefined;
  readonly #raw: Map<string, Uint8Array> | undefined;
  readonly #passphrases: Map<string, PassphraseEntry>;
  /** `keyId NUL salt header` → derived key, for passphrase entries. */
  readonly #passKeys = new LRUCache<string, Promise<DerivedKey>>({ max: PASSPHRASE_CACHE });
  /** The salt header this store uses for a passphrase primary in sessions that have none to reuse. */
  #ownHeader: Promise<string> | undefined;

  constructor(inner: SessionStore<any>, options: EncryptionOptions) {
    const { raw, passphrases } = validateKeyRing(options?.keys, options?.primary);
    for (const flag of ['allowPlaintext', 'bindPositions', 'allowUnbound'] as const) {
      if (options[flag] !== undefined && typeof options[flag] !== 'boolean') {
        throw new SessionError(SessionErrorCode.InvalidArgument, `${flag} must be a boolean`);
      }
    }
    const bind = options.bindPositions ?? true;
    if (bind && !(hasTransactionPreconditions(inner) && inner.capabilities.atomicReadModifyWrite)) {
      throw new SessionError(
        SessionErrorCode.Unsupported,
        'withEncryption binds item positions, which needs a store declaring transactionPreconditions and atomicReadModifyWrite; ' +
          'pass bindPositions: false to encrypt without order protection',
      );
    }
    // A pop must check the item before removing it, which needs a compare-and-swap (replace_suffix).
    const drop: (keyof StoreCapabilities)[] = hasTransactions(inner) ? [] : ['atomicReadModifyWrite'];
    // Random nonces make every attempt's stored form new, so a repeated transaction is only recognised
    // through an `identity`: without transactionPreconditions, `tx.idempotent` cannot hold. Pops still
    // use the store's transactions beneath, with fresh operation ids.
    if (!hasTransactionPreconditions(inner)) drop.push('transactions');
    super(inner, drop);
    this.#keyIds = new Set([...raw.keys(), ...passphrases.keys()]);
    this.#passphrases = passphrases;
    this.#primary = options.primary;
    this.#allowPlaintext = options.allowPlaintext === true;
    this.#bind = bind;
    this.#allowUnbound = options.allowUnbound === true;
    this.#raw = raw;
  }

  /** Key ids in the ring (never the keys). */
  get keyIds(): readonly string[] {
    return [...this.#keyIds];
  }

  /** The id new writes use. */
  get primaryKeyId(): string {
    return this.#primary;
  }

  /** Whether items are sealed to their positions (`bindPositions`). */
  get bindsPositions(): boolean {
    return this.#bind;
  }

  #keys(): Promise<Map<string, DerivedKey>> {
    if (!this.#ring) {
      const raw = this.#raw!;
      this.#ring = deriveRing(raw).then((derived) => {
        // The raw keys are only needed to derive; wipe our copies.
        for (const key of raw.values()) key.fill(0);
        raw.clear();
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
  async #sealing(newest?: unknown): Promise<{ key: DerivedKey; header?: string }> {
    const entry = this.#passphrases.get(this.#primary);
    if (!entry) return { key: (await this.#keys()).get(this.#primary)! };
    let header: string | undefined;
    if (isEnvelopeShaped(newest) && newest.k === this.#primary) {
      const parsed = parseSaltHeader(newest.s);
      if (parsed && parsed.opsLimit === entry.opsLimit && parsed.memLimit === entry.memLimit) header = newest.s as string;
    }
    header ??= await (this.#ownHeader ??= newSaltHeader(entry));
    const key = await this.#passphraseKey(this.#primary, header);
    return { key: key!, header };
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

  /**
   * Seals items that will sit at positions `start`, `start + 1`, … (ignored
   * without `bindPositions`), each under a fresh random nonce, with the key
   * (and salt header) from `#sealing`.
   */
  async #seal(
    sessionId: string,
    encoded: readonly EncodedItem[],
    start: number,
    sealing: { key: DerivedKey; header?: string },
  ): Promise<EncryptedEnvelope[]> {
    const { key, header } = sealing;
    const unbound = this.#bind ? undefined : associatedData(this.#primary, sessionId);
    return encoded.map((item, i) => {
      const position = start + i;
      const ad = unbound ?? associatedData(this.#primary, sessionId, position);
      // 24 random bytes: XChaCha20's nonce is long enough that random nonces never collide in practice.
      // From Node's CSPRNG (the OS's, as libsodium's randombytes_buf uses in Node) at ~3 µs, not ~75 µs through WebAssembly.
      const nonce = randomFillSync(new Uint8Array(NONCE_BYTES));
      const ciphertext = sodium().crypto_aead_xchacha20poly1305_ietf_encrypt(utf8.encode(item), ad, null, nonce, key.encryption);
      const salt = header === undefined ? {} : { s: header };
      return unbound
        ? ({ [ENVELOPE_TAG]: 1, k: this.#primary, ...salt, n: toBase64(nonce), c: toBase64(ciphertext) } as EncryptedEnvelope)
        : ({ [ENVELOPE_TAG]: 2, k: this.#primary, p: position, ...salt, n: toBase64(nonce), c: toBase64(ciphertext) } as EncryptedEnvelope);
    });
  }

  /** Whether a stored item is already what `#seal` would write now: an envelope of the current format under the primary key. */
  #current(stored: unknown): boolean {
    return isEnvelopeShaped(stored) && stored.k === this.#primary && stored[ENVELOPE_TAG] === (this.#bind ? 2 : 1);
  }

  /**
   * Decrypts one stored value and returns it with the position it was sealed
   * for (undefined for format 1 or allowed plaintext). Throws
   * DECRYPTION_FAILED, or CORRUPT_DATA for an authentic but undecodable item.
   */
  #openOne(ring: Map<string, DerivedKey>, derived: Map<string, DerivedKey>, sessionId: string, stored: unknown): [TItem, number | undefined] {
    if (!isEnvelopeShaped(stored)) {
      if (this.#allowPlaintext) return [stored as TItem, undefined];
      throw failed('stored item is not encrypted (set allowPlaintext to read items written before encryption)');
    }
    const { k: keyId, p: position, s: header, n, c } = stored;
    const version = stored[ENVELOPE_TAG];
    const nonce = fromBase64(n);
    const ciphertext = fromBase64(c);
    const fields = Object.keys(stored).length - ('s' in stored ? 1 : 0);
    if (
      !(version === 1 ? fields === 4 && position === undefined : version === 2 && fields === 5) ||
      (version === 2 && !(Number.isSafeInteger(position) && (position as number) >= 0)) ||
      typeof keyId !== 'string' ||
      nonce?.byteLength !== NONCE_BYTES ||
      !ciphertext ||
      ciphertext.byteLength < TAG_BYTES
    ) {
      throw failed('encrypted item is malformed or truncated');
    }
    if (version === 1 && this.#bind && !this.#allowUnbound) {
      throw failed('encrypted item has no position (written with bindPositions: false; set allowUnbound while migrating)');
    }
    if (!this.#keyIds.has(keyId)) throw failed('encrypted item names a key id that is not in the key ring');
    // A salt header belongs to passphrase keys only, and a passphrase key needs one.
    const key = this.#passphrases.has(keyId)
      ? typeof header === 'string'
        ? derived.get(`${keyId}\0${header}`)
        : undefined
      : 's' in stored
        ? undefined
        : ring.get(keyId);
    if (!key) throw failed('encrypted item is malformed: its salt header does not fit its key');
    const ad = associatedData(keyId, sessionId, version === 2 ? (position as number) : undefined);
    let plaintext: Uint8Array;
    try {
      plaintext = sodium().crypto_aead_xchacha20poly1305_ietf_decrypt(null, ciphertext, ad, nonce, key.encryption);
    } catch (cause) {
      throw failed('encrypted item failed authentication: wrong key, tampered, truncated, or moved from another session', cause);
    }
    let text: string;
    try {
      text = strictUtf8.decode(plaintext);
    } catch (cause) {
      throw new SessionError(SessionErrorCode.CorruptData, 'decrypted item is not valid UTF-8', { cause });
    }
    return [decodeItem(text) as TItem, version === 2 ? (position as number) : undefined];
  }

  /**
   * Decrypts consecutive stored items and checks that each positioned one
   * sits where it was sealed: the item at index i of the window carries
   * position `base + i` for one `base`, which is 0 when the window is the
   * whole history. Returns the values and the newest item's position.
   */
  async #openAll(
    sessionId: string,
    stored: readonly unknown[],
    wholeHistory: boolean,
  ): Promise<{ items: TItem[]; newestPosition: number | undefined }> {
    const ring = await this.#keys();
    const derived = await this.#derivedFor(stored);
    const items = new Array<TItem>(stored.length);
    let base: number | undefined;
    let newestPosition: number | undefined;
    for (let i = 0; i < stored.length; i++) {
      const [item, position] = this.#openOne(ring, derived, sessionId, stored[i]);
      items[i] = item;
      newestPosition = position;
      if (position === undefined) continue;
      if (base === undefined) base = position - i;
      if (position - i !== base || base < 0) throw outOfOrder();
    }
    if (wholeHistory && base !== undefined && base !== 0) throw outOfOrder();
    return { items, newestPosition };
  }

  /** Derives (once per salt, cached) the passphrase keys the stored items name. A wrong passphrase then fails authentication. */
  async #derivedFor(stored: readonly unknown[]): Promise<Map<string, DerivedKey>> {
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

  /** Reads (and authenticates) the newest `k` items, and the session's length when positions are bound. */
  async #readTail(sessionId: string, k: number): Promise<Tail> {
    const want = Math.max(k, 1);
    const stored = await this.inner.getItems(sessionId, { limit: want });
    const { items, newestPosition } = await this.#openAll(sessionId, stored, stored.length < want);
    let length = -1;
    if (this.#bind) {
      if (stored.length === 0) length = 0;
      else if (newestPosition !== undefined) length = newestPosition + 1;
      // A newest item without a position (allowUnbound / allowPlaintext, i.e. migrating): count the history.
      else length = (await this.inner.getItems(sessionId)).length;
    }
    const from = Math.max(0, stored.length - k);
    return {
      stored: k === 0 ? [] : stored.slice(from),
      items: k === 0 ? [] : items.slice(from),
      length,
      newest: stored[stored.length - 1],
    };
  }

  /**
   * Read the tail, build a transaction from it, apply it; when it conflicts
   * because the session changed in between, read again and rebuild. A
   * conflict with nothing changed is the transaction's own and is thrown.
   */
  async #compareAndSwap<R>(
    operation: string,
    sessionId: string,
    k: number,
    build: (tail: Tail) => Promise<{ args?: HistoryTransactionArgs<unknown>; result: R; retry: boolean }>,
    options: CallOptions | undefined,
  ): Promise<R> {
    const inner = this.inner;
    let tail = await this.#readTail(sessionId, k);
    for (let attempt = 1; ; attempt++) {
      const step = await build(tail);
      if (!step.args) return step.result;
      try {
        await inner.applyHistoryTransaction!(sessionId, step.args, options);
        return step.result;
      } catch (error) {
        if (!isSessionError(error, SessionErrorCode.Conflict) || !step.retry) throw error;
        const next = await this.#readTail(sessionId, k);
        if (next.length === tail.length && markOf(next) === markOf(tail)) throw error;
        if (attempt >= CAS_ATTEMPTS) throw gaveUp(operation, attempt, error);
        await backoff(attempt);
        tail = next;
      }
    }
  }

  override async getItems(sessionId: string, options?: GetItemsOptions): Promise<TItem[]> {
    this.assertOpen();
    const stored = await this.inner.getItems(sessionId, options);
    const limit = options?.limit;
    return (await this.#openAll(sessionId, stored, limit === undefined || stored.length < limit)).items;
  }

  /** Seals the new history for positions 0..n-1 and swaps it in through the inner store's atomic replaceHistory. */
  override async replaceHistory(sessionId: string, items: readonly TItem[], options?: CallOptions): Promise<void> {
    this.require('replaceHistory', 'replaceHistory');
    assertSessionId(sessionId);
    const encoded = encodeItems(items);
    const sealed = encoded.length === 0 ? [] : await this.#seal(sessionId, encoded, 0, await this.#sealing());
    await this.inner.replaceHistory!(sessionId, sealed, options);
  }

  override async addItems(sessionId: string, items: readonly TItem[], options?: CallOptions): Promise<void> {
    this.assertOpen();
    assertSessionId(sessionId);
    // Validate and encode the whole batch first: a bad item fails before anything is written.
    const encoded = encodeItems(items);
    if (encoded.length === 0) return;
    if (!this.#bind) {
      await this.inner.addItems(sessionId, await this.#seal(sessionId, encoded, 0, await this.#sealing()), options);
      return;
    }
    // Sealed for the positions it takes, and appended only if the session still has that length.
    await this.#compareAndSwap(
      'append',
      sessionId,
      0,
      async (tail) => ({
        args: {
          operationId: `sessionkit-encryption-append:${randomUUID()}`,
          transaction: { type: 'append_items', items: await this.#seal(sessionId, encoded, tail.length, await this.#sealing(tail.newest)) },
          expectedLength: tail.length,
        },
        result: undefined,
        retry: true,
      }),
      options,
    );
  }

  /**
   * Decrypts the newest item before removing it, so an item that cannot be
   * decrypted stays where it is. With transactions the removal is a
   * compare-and-swap (`replace_suffix` of exactly that item), retried when a
   * concurrent write got there first.
   */
  override async popItem(sessionId: string, options?: CallOptions): Promise<TItem | undefined> {
    this.assertOpen();
    assertSessionId(sessionId);
    const inner = this.inner;
    if (!hasTransactions(inner)) {
      const [newest] = await inner.getItems(sessionId, { limit: 1 });
      if (newest === undefined) return undefined;
      await this.#open(sessionId, newest);
      const popped = await inner.popItem(sessionId, options);
      if (popped === undefined) return undefined;
      try {
        return await this.#open(sessionId, popped);
      } catch (error) {
        // A concurrent writer changed the newest item between the check and the pop: put it back, report.
        await inner.addItems(sessionId, [popped], options);
        throw error;
      }
    }
    return this.#compareAndSwap<TItem | undefined>(
      'pop',
      sessionId,
      1,
      async (tail) =>
        tail.stored.length === 0
          ? { result: undefined, retry: false }
          : {
              args: {
                operationId: `sessionkit-encryption-pop:${randomUUID()}`,
                transaction: { type: 'replace_suffix', expectedSuffix: tail.stored, replacement: [] },
              },
              result: tail.items[0] as TItem,
              retry: true,
            },
      options,
    );
  }

  async #open(sessionId: string, stored: unknown): Promise<TItem> {
    return this.#openOne(await this.#keys(), await this.#derivedFor([stored]), sessionId, stored)[0];
  }

  /**
   * What identifies a transaction for repeats, since its stored form differs
   * on every attempt (random nonces, and positions where it lands): a keyed
   * hash (under the key's identity subkey, so the backend learns nothing of
   * the items) of the session, the transaction by value and the caller's own
   * identity. A passphrase primary keys it under the session's salt.
   */
  #identity(key: DerivedKey, sessionId: string, args: HistoryTransactionArgs<TItem>, expected: string[], replacement: string[]): string {
    // The caller's identity, when given, is the whole of what makes a repeat (the contract: whatever the items).
    const body = JSON.stringify(
      args.identity !== undefined
        ? ['sessionkit:enc:tx:v2', sessionId, 'identity', args.identity]
        : ['sessionkit:enc:tx:v2', sessionId, args.transaction.type, expected, replacement],
    );
    return `enc2:${toBase64(sodium().crypto_generichash(32, utf8.encode(body), key.identity))}`;
  }

  /**
   * Reads the newest items the transaction expects, compares them by value,
   * and sends the stored forms it read as the expected suffix (ciphertexts are
   * never reproducible), the replacement freshly sealed, and an `identity` so
   * the store recognises a repeat. With positions bound it also sets
   * `expectedLength`, so the replacement lands where it was sealed for.
   */
  override async applyHistoryTransaction(
    sessionId: string,
    args: HistoryTransactionArgs<TItem>,
    options?: CallOptions,
  ): Promise<void> {
    this.require('transactions', 'applyHistoryTransaction');
    assertSessionId(sessionId);
    prepareTransaction(args); // validates the arguments and every item before anything is written
    assertPreconditionsSupported(args, this.capabilities);
    const tx = args.transaction;
    const expectedEncoded = tx.type === 'append_items' ? [] : encodeItems(tx.expectedSuffix);
    const replacementEncoded = encodeItems(tx.type === 'append_items' ? tx.items : tx.replacement);
    const expected = expectedEncoded.map(canonicalize);
    const replacementCanonical = replacementEncoded.map(canonicalize);
    const k = expected.length;
    const bind = this.#bind;
    await this.#compareAndSwap(
      'transaction',
      sessionId,
      k,
      async (tail) => {
        const start = bind ? Math.max(0, tail.length - k) : 0;
        const matches = tail.items.length === k && tail.items.every((item, i) => canonicalize(encodeItem(item)) === expected[i]);
        const sealing = await this.#sealing(tail.newest);
        const identity = this.#identity(sealing.key, sessionId, args, expected, replacementCanonical);
        const replacement = await this.#seal(sessionId, replacementEncoded, start, sealing);
        // No match by value: send the expected items anyway (they cannot match), so the store still
        // recognises a repeat of an applied operation by its identity, and otherwise answers CONFLICT.
        const expectedSuffix = matches ? tail.stored : await this.#seal(sessionId, expectedEncoded, start, sealing);
        const transaction =
          tx.type === 'append_items'
            ? ({ type: 'append_items', items: replacement } as const)
            : ({ type: 'replace_suffix', expectedSuffix, replacement } as const);
        const expectedLength = args.expectedLength ?? (bind ? tail.length : undefined);
        return {
          args: {
            operationId: args.operationId,
            transaction,
            ...(expectedLength === undefined ? {} : { expectedLength }),
            identity,
          },
          result: undefined,
          // Only what this decorator read can be stale (a length it chose, or the stored forms of the
          // suffix); the caller's own preconditions conflict for real.
          retry: matches && args.expectedLength === undefined && (bind || k > 0),
        };
      },
      options,
    );
  }

  /**
   * Rewrites one session so every item is encrypted under the primary key
   * (rotation, migrating plaintext under `allowPlaintext`, or adding
   * positions under `allowUnbound`), in one atomic `replace_suffix`, retried
   * if a concurrent write intervenes. Reads the whole history: O(history).
   * Returns how many items were rewritten.
   */
  async reencrypt(sessionId: string): Promise<number> {
    this.assertOpen();
    assertSessionId(sessionId);
    const inner = this.inner;
    if (!hasTransactions(inner)) {
      throw new SessionError(SessionErrorCode.Unsupported, 'reencryptSession needs a store with transactions');
    }
    for (let attempt = 1; ; attempt++) {
      const stored = await inner.getItems(sessionId);
      const { items } = await this.#openAll(sessionId, stored, true);
      // Items already current keep their stored form (sealing afresh would change every one of them).
      let changed = 0;
      const replacement: unknown[] = [];
      const sealing = await this.#sealing(stored.findLast((item) => this.#current(item)));
      for (let i = 0; i < stored.length; i++) {
        if (this.#current(stored[i])) {
          replacement.push(stored[i]);
        } else {
          changed++;
          replacement.push(...(await this.#seal(sessionId, [encodeItem(items[i])], i, sealing)));
        }
      }
      if (changed === 0) return 0;
      try {
        await inner.applyHistoryTransaction(sessionId, {
          operationId: `sessionkit-reencrypt:${randomUUID()}`,
          transaction: { type: 'replace_suffix', expectedSuffix: stored, replacement },
        });
        return changed;
      } catch (error) {
        if (!isSessionError(error, SessionErrorCode.Conflict) || attempt >= 5) throw error;
      }
    }
  }
}

/**
 * Re-encrypts every item of one session under the store's primary key (after
 * rotating keys, or to migrate plaintext items). Returns how many items changed.
 */
export function reencryptSession(store: EncryptionStore<any>, sessionId: string): Promise<number> {
  return store.reencrypt(sessionId);
}

/**
 * Encrypts every item before it reaches the store (XChaCha20-Poly1305, key
 * ring with rotation, session id and position bound as associated data). Put it first in
 * `compose()` so the backend only ever sees ciphertext. See
 * docs/decorators/encryption.md.
 */
export function withEncryption<TItem = SessionItem>(
  options: EncryptionOptions,
): (store: SessionStore<any>) => EncryptionStore<TItem> {
  return (store) => new EncryptionStore<TItem>(store, options);
}
