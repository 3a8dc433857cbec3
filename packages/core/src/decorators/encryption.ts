import { randomUUID } from 'node:crypto';
import { hasTransactionPreconditions, hasTransactions } from '../capabilities.js';
import { canonicalize, decodeItem, encodeItem, type EncodedItem } from '../codec.js';
import { SessionError, SessionErrorCode } from '../errors.js';
import type { CallOptions, GetItemsOptions, HistoryTransactionArgs, SessionItem, SessionStore } from '../types.js';
import { assertPreconditionsSupported } from '../abstract-store.js';
import { ForwardingStore } from '../forwarding-store.js';
import { retryOnConflict } from '../retry.js';
import { SessionQueue } from '../session-queue.js';
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
import { EncryptionMemory } from '../encryption-memory.js';
import {
  decryptionFailed as failed,
  isEnvelopeShaped,
  openItems,
  parseEnvelope,
  sealItems,
  type EncryptedEnvelope,
  type OpenRequest,
  type SealingKey,
} from '../envelope.js';

export type { EncryptedEnvelope } from '../envelope.js';

export interface EncryptionOptions {
  /**
   * The key ring: key id → 32 random bytes (see `generateKey` / `deriveKey`),
   * or `{ passphrase, opsLimit?, memLimit? }`: a key derived with Argon2id
   * under a random salt that is stored in each envelope (`s`), so the
   * passphrase alone reads the data back. Every key that encrypted something
   * still stored must stay in the ring. Keys and passphrases are copied; they
   * never appear in errors, logs or `util.inspect`. Required.
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
   * Bytes of decrypted items this store keeps in memory, keyed by the exact
   * stored envelope (session, position, key id, salt, nonce and ciphertext),
   * so a read does not decrypt again what this process already sealed or
   * opened. Never written anywhere; 0 turns it off. Default: 64 MiB.
   */
  readonly plaintextCacheBytes?: number;
}

const OPTION_NAMES: ReadonlySet<string> = new Set(['keys', 'primary', 'allowPlaintext', 'plaintextCacheBytes']);
const DEFAULT_PLAINTEXT_CACHE_BYTES = 64 * 1024 * 1024;
/** Keys derived from passphrase entries kept per store, one per (key id, salt): each costs an Argon2id run. */
const PASSPHRASE_CACHE = 64;
const utf8 = new TextEncoder();

const toBase64 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');

function outOfOrder(): SessionError {
  return failed('encrypted items are out of order: reordered, removed from the middle, or duplicated');
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

/** One step of a compare-and-swap: the transaction to apply (none: done), what to return, and whether a conflict may be a lost race. */
interface Step<R> {
  readonly args?: HistoryTransactionArgs<unknown>;
  readonly result: R;
  readonly retry: boolean;
  /** After the store applied it: remember what was written (else what this process knew of the session is dropped). */
  readonly done?: () => void;
}

/**
 * Encrypts each item with XChaCha20-Poly1305 (IETF) under the key ring's
 * primary key and a fresh random 24-byte nonce, binding the session id, the
 * key id and the item's position as associated data (the envelope format is
 * in ../envelope.ts). Appends are compare-and-swaps on the session's length so
 * every item is sealed for the position it lands at; pops and transactions
 * send the stored forms they read, and a keyed identity so repeats are
 * recognised. See docs/decorators/encryption.md for what it does and does not
 * protect. Anything that cannot be decrypted, or sits out of order, fails
 * with DECRYPTION_FAILED and is never skipped or deleted.
 */
export class EncryptionStore<TItem = SessionItem> extends ForwardingStore<TItem, unknown> {
  readonly #keyIds: ReadonlySet<string>;
  readonly #primary: string;
  readonly #allowPlaintext: boolean;
  #ring: Promise<Map<string, DerivedKey>> | undefined;
  readonly #raw: Map<string, Uint8Array> | undefined;
  readonly #passphrases: Map<string, PassphraseEntry>;
  /** `keyId NUL salt header` → derived key, for passphrase entries. */
  readonly #passKeys = new LRUCache<string, Promise<DerivedKey>>({ max: PASSPHRASE_CACHE });
  /** The salt header this store uses for a passphrase primary in sessions that have none to reuse. */
  #ownHeader: Promise<string> | undefined;
  /** This process's writes to one session run one at a time: they never race each other, only other processes. */
  readonly #writes = new SessionQueue();
  /** What this process sealed, opened and last saw of each session; in memory only. */
  readonly #memory: EncryptionMemory;

  constructor(inner: SessionStore<any>, options: EncryptionOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new SessionError(SessionErrorCode.InvalidArgument, 'withEncryption needs an options object');
    }
    for (const name of Object.keys(options)) {
      if (!OPTION_NAMES.has(name)) throw new SessionError(SessionErrorCode.InvalidArgument, `unknown withEncryption option "${name.slice(0, 40)}"`);
    }
    const { raw, passphrases } = validateKeyRing(options.keys, options.primary);
    if (options.allowPlaintext !== undefined && typeof options.allowPlaintext !== 'boolean') {
      throw new SessionError(SessionErrorCode.InvalidArgument, 'allowPlaintext must be a boolean');
    }
    const cacheBytes = options.plaintextCacheBytes ?? DEFAULT_PLAINTEXT_CACHE_BYTES;
    if (!Number.isSafeInteger(cacheBytes) || cacheBytes < 0) {
      throw new SessionError(SessionErrorCode.InvalidArgument, 'plaintextCacheBytes must be a non-negative integer');
    }
    if (!(hasTransactionPreconditions(inner) && inner.capabilities.atomicReadModifyWrite)) {
      throw new SessionError(
        SessionErrorCode.Unsupported,
        'withEncryption binds item positions, which needs a store declaring transactionPreconditions and atomicReadModifyWrite',
      );
    }
    super(inner);
    this.#keyIds = new Set([...raw.keys(), ...passphrases.keys()]);
    this.#passphrases = passphrases;
    this.#primary = options.primary;
    this.#allowPlaintext = options.allowPlaintext === true;
    this.#raw = raw;
    this.#memory = new EncryptionMemory(cacheBytes);
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

  /**
   * The key new writes use, and for a passphrase primary the salt header to
   * store with them: the one of `newest` (the session's newest stored item)
   * when it is under the primary with the configured limits, so a session
   * keeps one salt across processes; else this store's own random one.
   */
  async #sealing(newest?: unknown): Promise<SealingKey> {
    const id = this.#primary;
    const entry = this.#passphrases.get(id);
    if (!entry) return { id, key: (await this.#keys()).get(id)! };
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

  /** Whether a stored item is already what a write would store now: an envelope under the primary key. */
  #current(stored: unknown): boolean {
    return isEnvelopeShaped(stored) && stored.k === this.#primary;
  }

  /**
   * Decrypts consecutive stored items and checks that each sits where it was
   * sealed: the item at index i of the window carries position `base + i` for
   * one `base`, which is 0 when the window is the whole history. Returns the
   * values and the newest item's position (undefined for allowed plaintext).
   * The first failure in item order is thrown: DECRYPTION_FAILED, or
   * CORRUPT_DATA for authentic bytes that are not an item.
   */
  async #openAll(
    sessionId: string,
    stored: readonly unknown[],
    wholeHistory: boolean,
  ): Promise<{ items: TItem[]; newestPosition: number | undefined }> {
    const memory = this.#memory;
    const items = new Array<TItem>(stored.length);
    const texts = new Array<string | undefined>(stored.length);
    const positions = new Array<number | undefined>(stored.length);
    const requests: OpenRequest[] = [];
    const at: number[] = [];
    let ring: Map<string, DerivedKey> | undefined;
    let derived: Map<string, DerivedKey> | undefined;
    for (let i = 0; i < stored.length; i++) {
      const value = stored[i];
      if (!isEnvelopeShaped(value)) {
        if (!this.#allowPlaintext) throw failed('stored item is not encrypted (set allowPlaintext to read items written before encryption)');
        items[i] = value as TItem;
        continue;
      }
      const known = memory.plaintext(sessionId, value);
      if (known !== undefined) {
        texts[i] = known;
        positions[i] = value.p as number;
        continue;
      }
      const envelope = parseEnvelope(value);
      if (!this.#keyIds.has(envelope.keyId)) throw failed('encrypted item names a key id that is not in the key ring');
      ring ??= await this.#keys();
      derived ??= await this.#derivedFor(stored);
      // A salt header belongs to passphrase keys only, and a passphrase key needs one.
      const key = this.#passphrases.has(envelope.keyId)
        ? typeof envelope.header === 'string'
          ? derived.get(`${envelope.keyId}\0${envelope.header}`)
          : undefined
        : envelope.hasHeader
          ? undefined
          : ring.get(envelope.keyId);
      if (!key) throw failed('encrypted item is malformed: its salt header does not fit its key');
      positions[i] = envelope.position;
      requests.push({ envelope, key });
      at.push(i);
    }
    const opened = openItems(sessionId, requests);
    for (let j = 0; j < opened.length; j++) {
      const text = opened[j]!;
      if (text instanceof SessionError) throw text;
      const i = at[j]!;
      texts[i] = text;
      memory.opened(sessionId, stored[i] as EncryptedEnvelope, text);
    }
    let base: number | undefined;
    for (let i = 0; i < positions.length; i++) {
      const position = positions[i];
      if (position === undefined) continue;
      base ??= position - i;
      if (position - i !== base || base < 0) throw outOfOrder();
    }
    if (wholeHistory && base !== undefined && base !== 0) throw outOfOrder();
    for (let i = 0; i < texts.length; i++) {
      const text = texts[i];
      if (text !== undefined) items[i] = decodeItem(text) as TItem;
    }
    return { items, newestPosition: positions[positions.length - 1] };
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

  /** Seals encoded items for positions `start`, `start + 1`, …. */
  #seal(sessionId: string, encoded: readonly EncodedItem[], start: number, sealing: SealingKey): EncryptedEnvelope[] {
    return sealItems(sessionId, encoded, start, sealing);
  }

  /** Reads (and authenticates) the newest `k` items and the session's length. */
  async #readTail(sessionId: string, k: number): Promise<Tail> {
    const want = Math.max(k, 1);
    const stored = await this.inner.getItems(sessionId, { limit: want });
    const { items, newestPosition } = await this.#openAll(sessionId, stored, stored.length < want);
    this.#memory.saw(sessionId, stored, newestPosition, stored.length < want);
    let length: number;
    if (stored.length === 0) length = 0;
    else if (newestPosition !== undefined) length = newestPosition + 1;
    // A plaintext newest item (allowPlaintext, i.e. migrating): count the history.
    else length = (await this.inner.getItems(sessionId)).length;
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
   * because the session changed in between (another process wrote), read
   * again and rebuild, within core's one retry budget. A conflict with
   * nothing changed is the transaction's own and is thrown at once.
   */
  #compareAndSwap<R>(
    operation: string,
    sessionId: string,
    k: number,
    build: (tail: Tail) => Promise<Step<R>>,
    options: CallOptions | undefined,
  ): Promise<R> {
    const final = new WeakSet<object>();
    return this.#writes.run(sessionId, () =>
      retryOnConflict(
        async (attempt) => {
          // An append needs only the length: what this process last saw, on the first attempt (the
          // store's expectedLength check turns a stale answer into a conflict). Otherwise read afresh:
          // after the backoff, what a read before it saw may be stale again.
          const known = k === 0 && attempt === 0 ? this.#memory.known(sessionId) : undefined;
          const tail = known ? { stored: [], items: [], length: known.length, newest: known.newest } : await this.#readTail(sessionId, k);
          const step = await build(tail);
          if (!step.args) return step.result;
          try {
            await this.inner.applyHistoryTransaction!(sessionId, step.args, options);
            if (step.done) step.done();
            else this.#memory.forget(sessionId);
            return step.result;
          } catch (error) {
            this.#memory.forget(sessionId);
            if (!SessionError.is(error, SessionErrorCode.Conflict)) throw error;
            const next = step.retry ? await this.#readTail(sessionId, k) : tail;
            if (next.length === tail.length && markOf(next) === markOf(tail)) final.add(error);
            throw error;
          }
        },
        { operation, isConflict: (error) => SessionError.is(error, SessionErrorCode.Conflict) && !final.has(error) },
      ),
    );
  }

  override async getItems(sessionId: string, options?: GetItemsOptions): Promise<TItem[]> {
    this.validateCall('getItems', sessionId);
    const stored = await this.inner.getItems(sessionId, options);
    const limit = options?.limit;
    const wholeHistory = limit === undefined || stored.length < limit;
    const { items, newestPosition } = await this.#openAll(sessionId, stored, wholeHistory);
    this.#memory.saw(sessionId, stored, newestPosition, wholeHistory);
    return items;
  }

  /** Seals the new history for positions 0..n-1 and swaps it in through the inner store's atomic replaceHistory. */
  override async replaceHistory(sessionId: string, items: readonly TItem[], options?: CallOptions): Promise<void> {
    this.validateCall('replaceHistory', sessionId);
    const encoded = this.validateItems(items);
    const sealed = encoded.length === 0 ? [] : this.#seal(sessionId, encoded, 0, await this.#sealing());
    await this.#writes.run(sessionId, async () => {
      this.#memory.forget(sessionId);
      await this.inner.replaceHistory!(sessionId, sealed, options);
      this.#memory.wrote(sessionId, sealed, encoded, sealed.length);
    });
  }

  override async addItems(sessionId: string, items: readonly TItem[], options?: CallOptions): Promise<void> {
    this.validateCall('addItems', sessionId);
    // Validate and encode the whole batch first: a bad item fails before anything is written.
    const encoded = this.validateItems(items);
    if (encoded.length === 0) return;
    // Sealed for the positions it takes, and appended only if the session still has that length.
    await this.#compareAndSwap(
      'append',
      sessionId,
      0,
      async (tail) => {
        const sealed = this.#seal(sessionId, encoded, tail.length, await this.#sealing(tail.newest));
        const operationId = `sessionkit-encryption-append:${randomUUID()}`;
        return {
          args: {
            operationId,
            transaction: { type: 'append_items', items: sealed },
            expectedLength: tail.length,
            // A fresh id is never repeated: naming it the change spares the store hashing the stored forms.
            identity: operationId,
          },
          result: undefined,
          retry: true,
          done: () => this.#memory.wrote(sessionId, sealed, encoded, tail.length + sealed.length),
        };
      },
      options,
    );
  }

  /**
   * Decrypts the newest item before removing it, so an item that cannot be
   * decrypted stays where it is. The removal is a compare-and-swap
   * (`replace_suffix` of exactly that item), retried when another process's
   * write got there first.
   */
  override async popItem(sessionId: string, options?: CallOptions): Promise<TItem | undefined> {
    this.validateCall('popItem', sessionId);
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

  override async clearSession(sessionId: string, options?: CallOptions): Promise<void> {
    this.validateCall('clearSession', sessionId);
    await this.#writes.run(sessionId, async () => {
      this.#memory.forget(sessionId);
      await this.inner.clearSession(sessionId, options);
    });
  }

  /**
   * What identifies a transaction for repeats, since its stored form differs
   * on every attempt (random nonces, and positions where it lands): a keyed
   * hash (under the key's identity subkey, so the backend learns nothing of
   * the items) of the session, the transaction by value and the caller's own
   * identity. A passphrase primary keys it under the session's salt.
   */
  #identity(key: DerivedKey, sessionId: string, args: HistoryTransactionArgs<TItem>, expected: readonly string[], replacement: readonly string[]): string {
    // The caller's identity, when given, is the whole of what makes a repeat (the contract: whatever the items).
    const body = JSON.stringify(
      args.identity !== undefined
        ? ['sessionkit:enc:tx:v1', sessionId, 'identity', args.identity]
        : ['sessionkit:enc:tx:v1', sessionId, args.transaction.type, expected, replacement],
    );
    return `enc1:${toBase64(sodium().crypto_generichash(32, utf8.encode(body), key.identity))}`;
  }

  /**
   * Reads the newest items the transaction expects, compares them by value,
   * and sends the stored forms it read as the expected suffix (ciphertexts are
   * never reproducible), the replacement freshly sealed, an `identity` so the
   * store recognises a repeat, and `expectedLength`, so the replacement lands
   * where it was sealed for.
   */
  override async applyHistoryTransaction(
    sessionId: string,
    args: HistoryTransactionArgs<TItem>,
    options?: CallOptions,
  ): Promise<void> {
    this.validateCall('applyHistoryTransaction', sessionId);
    const prepared = this.validateTransaction(args); // the arguments and every item, before anything is written
    assertPreconditionsSupported(args, this.capabilities);
    const expected = prepared.expectedSuffix;
    const expectedEncoded = prepared.expectedEncoded;
    const replacementEncoded = prepared.replacement;
    const replacementCanonical = replacementEncoded.map(canonicalize);
    const k = expected.length;
    await this.#compareAndSwap(
      'transaction',
      sessionId,
      k,
      async (tail) => {
        const start = Math.max(0, tail.length - k);
        const matches = tail.items.length === k && tail.items.every((item, i) => canonicalize(encodeItem(item)) === expected[i]);
        const sealing = await this.#sealing(tail.newest);
        const identity = this.#identity(sealing.key, sessionId, args, expected, replacementCanonical);
        const replacement = this.#seal(sessionId, replacementEncoded, start, sealing);
        // No match by value: send the expected items anyway (they cannot match), so the store still
        // recognises a repeat of an applied operation by its identity, and otherwise answers CONFLICT.
        const expectedSuffix = matches ? tail.stored : this.#seal(sessionId, expectedEncoded, start, sealing);
        const transaction =
          prepared.type === 'append_items'
            ? ({ type: 'append_items', items: replacement } as const)
            : ({ type: 'replace_suffix', expectedSuffix, replacement } as const);
        return {
          args: { operationId: args.operationId, transaction, expectedLength: args.expectedLength ?? tail.length, identity },
          result: undefined,
          // Only what this decorator read can be stale (the length it chose, the stored forms of the
          // suffix); the caller's own preconditions conflict for real.
          retry: matches && args.expectedLength === undefined,
        };
      },
      options,
    );
  }

  /**
   * Rewrites one session so every item is encrypted under the primary key
   * (rotation, or migrating plaintext under `allowPlaintext`), in one atomic
   * `replace_suffix`, retried if another process writes in between. Reads
   * the whole history: O(history). Returns how many items were rewritten.
   */
  async reencrypt(sessionId: string): Promise<number> {
    this.validateCall('getItems', sessionId);
    const inner = this.inner;
    if (!hasTransactions(inner)) {
      throw new SessionError(SessionErrorCode.Unsupported, 'reencryptSession needs a store with transactions');
    }
    return this.#writes.run(sessionId, () =>
      retryOnConflict(
        async () => {
          const stored = await inner.getItems(sessionId);
          const { items } = await this.#openAll(sessionId, stored, true);
          // Items already current keep their stored form (sealing afresh would change every one of them).
          const sealing = await this.#sealing(stored.findLast((item) => this.#current(item)));
          const replacement = stored.map((item, i) => (this.#current(item) ? item : this.#seal(sessionId, [encodeItem(items[i])], i, sealing)[0]));
          const changed = stored.filter((item) => !this.#current(item)).length;
          if (changed === 0) return 0;
          this.#memory.forget(sessionId);
          await inner.applyHistoryTransaction(sessionId, {
            operationId: `sessionkit-reencrypt:${randomUUID()}`,
            transaction: { type: 'replace_suffix', expectedSuffix: stored, replacement },
          });
          return changed;
        },
        { operation: 'reencrypt' },
      ),
    );
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
