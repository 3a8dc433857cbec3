import { randomUUID } from 'node:crypto';
import sodium from 'libsodium-wrappers';
import { hasTransactions } from '../capabilities.js';
import { canonicalize, decodeItem, encodeItem, encodeItems, type EncodedItem } from '../codec.js';
import { SessionError, SessionErrorCode, isSessionError } from '../errors.js';
import type { CallOptions, GetItemsOptions, HistoryTransactionArgs, SessionItem, SessionStore, StoreCapabilities } from '../types.js';
import { assertSessionId, prepareTransaction } from '../validation.js';
import { ForwardingStore } from './forwarding-store.js';
import { deriveRing, validateKeyRing, type DerivedKey } from './key-ring.js';


export interface EncryptionOptions {
  /**
   * The key ring: key id → 32 random bytes (see `generateKey` / `deriveKey`).
   * Every key that encrypted something still stored must stay in the ring.
   * Keys are copied; they never appear in errors, logs or `util.inspect`.
   */
  readonly keys: Readonly<Record<string, Uint8Array>>;
  /** Id of the key new writes use. Reads pick the key named by each item. Required. */
  readonly primary: string;
  /**
   * Read items stored without encryption (e.g. written before encryption was
   * enabled) as they are, instead of failing with DECRYPTION_FAILED. This also
   * lets anyone with write access to the backend insert readable items, so
   * enable it only while migrating (see `reencryptSession`). Default: `false`.
   */
  readonly allowPlaintext?: boolean;
}

/** The stored form of an encrypted item. */
export interface EncryptedEnvelope {
  /** Format version. */
  readonly '$sk:enc': 1;
  /** Key id. */
  readonly k: string;
  /** 24-byte nonce, base64. */
  readonly n: string;
  /** Ciphertext with its 16-byte Poly1305 tag, base64. */
  readonly c: string;
}

const ENVELOPE_TAG = '$sk:enc';
const NONCE_BYTES = 24;
const TAG_BYTES = 16;
const AD_PREFIX = 'sessionkit:enc:v1';
const POP_ATTEMPTS = 100;
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
function associatedData(keyId: string, sessionId: string): Uint8Array {
  return utf8.encode(`${AD_PREFIX}\0${keyId}\0${sessionId}`);
}

function lengthPrefixed(ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + ad.byteLength + plaintext.byteLength);
  new DataView(out.buffer).setUint32(0, ad.byteLength);
  out.set(ad, 4);
  out.set(plaintext, 4 + ad.byteLength);
  return out;
}

/**
 * Encrypts each item with XChaCha20-Poly1305 (IETF) under the key ring's
 * primary key, binding the session id as associated data. The nonce is a
 * keyed BLAKE2b hash of (associated data, plaintext) — a synthetic IV, so an
 * item's stored form is a function of (key, session, item). That is what keeps
 * transactions idempotent across processes (the backend compares stored
 * forms); see docs/decorators/encryption.md for what it does and does not
 * protect. Anything that cannot be decrypted fails with DECRYPTION_FAILED and
 * is never skipped or deleted.
 */
export class EncryptionStore<TItem = SessionItem> extends ForwardingStore<TItem, unknown> {
  readonly #keyIds: ReadonlySet<string>;
  readonly #primary: string;
  readonly #allowPlaintext: boolean;
  #ring: Promise<Map<string, DerivedKey>> | undefined;
  readonly #raw: Map<string, Uint8Array> | undefined;

  constructor(inner: SessionStore<any>, options: EncryptionOptions) {
    const raw = validateKeyRing(options?.keys, options?.primary);
    // A pop must check the item before removing it, which needs a compare-and-swap (replace_suffix).
    const drop: (keyof StoreCapabilities)[] = hasTransactions(inner) ? [] : ['atomicReadModifyWrite'];
    super(inner, drop);
    this.#keyIds = new Set(raw.keys());
    this.#primary = options.primary;
    this.#allowPlaintext = options.allowPlaintext === true;
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

  async #seal(sessionId: string, encoded: readonly EncodedItem[]): Promise<EncryptedEnvelope[]> {
    const key = (await this.#keys()).get(this.#primary)!;
    const ad = associatedData(this.#primary, sessionId);
    return encoded.map((item) => {
      const plaintext = utf8.encode(item);
      const nonce = sodium.crypto_generichash(NONCE_BYTES, lengthPrefixed(ad, plaintext), key.nonce);
      const ciphertext = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, ad, null, nonce, key.encryption);
      return { [ENVELOPE_TAG]: 1, k: this.#primary, n: toBase64(nonce), c: toBase64(ciphertext) } as EncryptedEnvelope;
    });
  }

  /** Decrypts one stored value; throws DECRYPTION_FAILED (or CORRUPT_DATA for an authentic but undecodable item). */
  async #open(sessionId: string, stored: unknown): Promise<TItem> {
    return this.#openWith(await this.#keys(), new Map(), sessionId, stored);
  }

  #openWith(ring: Map<string, DerivedKey>, ads: Map<string, Uint8Array>, sessionId: string, stored: unknown): TItem {
    if (!isEnvelopeShaped(stored)) {
      if (this.#allowPlaintext) return stored as TItem;
      throw failed('stored item is not encrypted (set allowPlaintext to read items written before encryption)');
    }
    const { k: keyId, n, c } = stored;
    const nonce = fromBase64(n);
    const ciphertext = fromBase64(c);
    if (
      stored[ENVELOPE_TAG] !== 1 ||
      Object.keys(stored).length !== 4 ||
      typeof keyId !== 'string' ||
      nonce?.byteLength !== NONCE_BYTES ||
      !ciphertext ||
      ciphertext.byteLength < TAG_BYTES
    ) {
      throw failed('encrypted item is malformed or truncated');
    }
    const key = this.#keyIds.has(keyId) ? ring.get(keyId) : undefined;
    if (!key) throw failed('encrypted item names a key id that is not in the key ring');
    let ad = ads.get(keyId);
    if (!ad) ads.set(keyId, (ad = associatedData(keyId, sessionId)));
    let plaintext: Uint8Array;
    try {
      plaintext = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, ciphertext, ad, nonce, key.encryption);
    } catch (cause) {
      throw failed('encrypted item failed authentication: wrong key, tampered, truncated, or moved from another session', cause);
    }
    let text: string;
    try {
      text = strictUtf8.decode(plaintext);
    } catch (cause) {
      throw new SessionError(SessionErrorCode.CorruptData, 'decrypted item is not valid UTF-8', { cause });
    }
    return decodeItem(text) as TItem;
  }

  async #openAll(sessionId: string, stored: readonly unknown[]): Promise<TItem[]> {
    const ring = await this.#keys();
    const ads = new Map<string, Uint8Array>();
    const out = new Array<TItem>(stored.length);
    for (let i = 0; i < stored.length; i++) out[i] = this.#openWith(ring, ads, sessionId, stored[i]);
    return out;
  }

  override async getItems(sessionId: string, options?: GetItemsOptions): Promise<TItem[]> {
    this.assertOpen();
    return this.#openAll(sessionId, await this.inner.getItems(sessionId, options));
  }

  override async addItems(sessionId: string, items: readonly TItem[], options?: CallOptions): Promise<void> {
    this.assertOpen();
    assertSessionId(sessionId);
    // Validate and encode the whole batch first: a bad item fails before anything is written.
    const encoded = encodeItems(items);
    if (encoded.length === 0) return;
    await this.inner.addItems(sessionId, await this.#seal(sessionId, encoded), options);
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
    for (let attempt = 1; ; attempt++) {
      const [newest] = await inner.getItems(sessionId, { limit: 1 });
      if (newest === undefined) return undefined;
      const value = await this.#open(sessionId, newest);
      try {
        await inner.applyHistoryTransaction(
          sessionId,
          {
            operationId: `sessionkit-encryption-pop:${randomUUID()}`,
            transaction: { type: 'replace_suffix', expectedSuffix: [newest], replacement: [] },
          },
          options,
        );
        return value;
      } catch (error) {
        if (!isSessionError(error, SessionErrorCode.Conflict)) throw error;
        if (attempt >= POP_ATTEMPTS) {
          throw new SessionError(SessionErrorCode.Conflict, `pop gave up after ${attempt} attempts: the session kept changing`, {
            cause: error,
          });
        }
        // Spread retries out a little when many pops race for one session.
        if (attempt > 2) await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(attempt, 20)));
      }
    }
  }

  override async applyHistoryTransaction(
    sessionId: string,
    args: HistoryTransactionArgs<TItem>,
    options?: CallOptions,
  ): Promise<void> {
    this.require('transactions', 'applyHistoryTransaction');
    assertSessionId(sessionId);
    prepareTransaction(args); // validates the arguments and every item before anything is written
    const tx = args.transaction;
    const operationId = args.operationId;
    const inner = this.inner;
    if (tx.type === 'append_items') {
      const items = await this.#seal(sessionId, encodeItems(tx.items));
      await inner.applyHistoryTransaction!(sessionId, { operationId, transaction: { type: 'append_items', items } }, options);
      return;
    }
    const expectedEncoded = encodeItems(tx.expectedSuffix);
    const expected = await this.#seal(sessionId, expectedEncoded);
    const replacement = await this.#seal(sessionId, encodeItems(tx.replacement));
    const run = (expectedSuffix: readonly unknown[]) =>
      inner.applyHistoryTransaction!(
        sessionId,
        { operationId, transaction: { type: 'replace_suffix', expectedSuffix, replacement } },
        options,
      );
    try {
      await run(expected);
    } catch (error) {
      if (!isSessionError(error, SessionErrorCode.Conflict) || expected.length === 0) throw error;
      // The stored suffix may hold the same items in another stored form: under an older key, as
      // allowed plaintext, or with another key order. Compare by value and retry on the stored form.
      const stored = await inner.getItems(sessionId, { limit: expected.length });
      if (stored.length !== expected.length) throw error;
      const storedCanonical = (await this.#openAll(sessionId, stored)).map((item) => canonicalize(encodeItem(item)));
      const sameValues = storedCanonical.every((c, i) => c === canonicalize(expectedEncoded[i]!));
      const sameForm = stored.every((item, i) => canonicalize(encodeItem(item)) === canonicalize(encodeItem(expected[i])));
      if (!sameValues || sameForm) throw error;
      await run(stored);
    }
  }

  /**
   * Rewrites one session so every item is encrypted under the primary key
   * (rotation, or migrating plaintext under `allowPlaintext`), in one atomic
   * `replace_suffix`, retried if a concurrent write intervenes. Reads the
   * whole history: O(history). Returns how many items were rewritten.
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
      const items = await this.#openAll(sessionId, stored);
      const sealed = await this.#seal(sessionId, items.map((item) => encodeItem(item)));
      let changed = 0;
      stored.forEach((item, i) => {
        if (canonicalize(encodeItem(item)) !== canonicalize(encodeItem(sealed[i]))) changed++;
      });
      if (changed === 0) return 0;
      try {
        await inner.applyHistoryTransaction(sessionId, {
          operationId: `sessionkit-reencrypt:${randomUUID()}`,
          transaction: { type: 'replace_suffix', expectedSuffix: stored, replacement: sealed },
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
 * ring with rotation, session id bound as associated data). Put it first in
 * `compose()` so the backend only ever sees ciphertext. See
 * docs/decorators/encryption.md.
 */
export function withEncryption<TItem = SessionItem>(
  options: EncryptionOptions,
): (store: SessionStore<any>) => EncryptionStore<TItem> {
  return (store) => new EncryptionStore<TItem>(store, options);
}
