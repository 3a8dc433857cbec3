import { randomUUID } from 'node:crypto';
import { hasTransactionPreconditions, hasTransactions } from '../capabilities.js';
import { canonicalize, decodeItem, encodeItem, type EncodedItem } from '../codec.js';
import { SessionError, SessionErrorCode } from '../errors.js';
import type {
  AddItemsOptions,
  CallOptions,
  GetItemsOptions,
  HistoryChanges,
  HistoryTransactionArgs,
  HistoryVersion,
  SessionItem,
  SessionStore,
} from '../types.js';
import { appendEncoded, appendEncodedTo, assertPreconditionsSupported, readEncoded, type EncodedReader } from '../abstract-store.js';
import { assertAppendOptions, conflicts } from '../validation.js';
import { ForwardingStore } from '../forwarding-store.js';
import { retryOnConflict } from '../retry.js';
import { SessionQueue } from '../session-queue.js';
import { sodium, validateKeyRing, type DerivedKey, type KeyRingEntry } from '../key-ring.js';
import { EncryptionKeys } from '../encryption-keys.js';
import { EncryptionMemory } from '../encryption-memory.js';
import {
  decryptionFailed as failed,
  isEnvelopeShaped,
  openItems,
  parseEnvelope,
  sealItems,
  type SealedBatch,
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
const utf8 = new TextEncoder();

const toBase64 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');

function outOfOrder(): SessionError {
  return failed('encrypted items are out of order: reordered, removed from the middle, or duplicated');
}

/** Decrypted items, the newest one's position (undefined for allowed plaintext) and its stored form. */
interface Opened<TItem> {
  readonly items: TItem[];
  readonly newestPosition: number | undefined;
  readonly newest: unknown;
}

/** The position a stored envelope's text names, to look remembered envelopes up from; 0 when it names none. */
function positionNamedBy(text: unknown): number {
  try {
    const p = (JSON.parse(text as string) as { p?: unknown } | null)?.p;
    return Number.isSafeInteger(p) && (p as number) >= 0 ? (p as number) : 0;
  } catch {
    return 0;
  }
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
  /** Instead of `args`: a conditional append (the inner store declares `conditionalAppend`), no operation log. */
  readonly append?: { readonly encoded: string[]; readonly expectedLength: number };
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
  /** The key ring: raw keys, passphrase entries and what is derived from them. */
  readonly #keys: EncryptionKeys;
  readonly #allowPlaintext: boolean;
  /** This process's writes to one session run one at a time: they never race each other, only other processes. */
  readonly #writes = new SessionQueue();
  /** What this process sealed, opened and last saw of each session; in memory only. */
  readonly #memory: EncryptionMemory;
  /** The inner store appends conditionally: an append is no transaction (no operation log entry). */
  readonly #conditionalAppend: boolean;

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
    this.#keys = new EncryptionKeys(raw, passphrases, options.primary);
    this.#allowPlaintext = options.allowPlaintext === true;
    this.#memory = new EncryptionMemory(cacheBytes);
    this.#conditionalAppend = inner.capabilities.conditionalAppend === true;
  }

  /** Key ids in the ring (never the keys). */
  get keyIds(): readonly string[] {
    return [...this.#keys.ids];
  }

  /** The id new writes use. */
  get primaryKeyId(): string {
    return this.#keys.primary;
  }

  /**
   * Decrypts consecutive stored items and checks that each sits where it was
   * sealed: the item at index i of the window carries position `base + i` for
   * one `base`, which is 0 when the window is the whole history. Returns the
   * values and the newest item's position (undefined for allowed plaintext).
   * The first failure in item order is thrown: DECRYPTION_FAILED, or
   * CORRUPT_DATA for authentic bytes that are not an item.
   *
   * `from`, when the items were read as stored text ({@link #openTexts}):
   * the texts, and the items already recognised among them (holes in
   * `stored`) with the position of the first.
   */
  async #openAll(
    sessionId: string,
    stored: readonly unknown[],
    wholeHistory: boolean,
    from?: { readonly texts: readonly unknown[]; readonly items: readonly unknown[]; readonly base: number },
  ): Promise<Opened<TItem>> {
    const memory = this.#memory;
    const keys = this.#keys;
    const remembered = memory.session(sessionId);
    const items = new Array<TItem>(stored.length);
    const texts = new Array<string | undefined>(stored.length);
    const positions = new Array<number | undefined>(stored.length);
    const requests: OpenRequest[] = [];
    const at: number[] = [];
    let ring: Map<string, DerivedKey> | undefined;
    let derived: Map<string, DerivedKey> | undefined;
    for (let i = 0; i < stored.length; i++) {
      if (from !== undefined && from.items[i] !== undefined) {
        items[i] = from.items[i] as TItem;
        positions[i] = from.base + i;
        continue;
      }
      const value = stored[i];
      if (!isEnvelopeShaped(value)) {
        if (!this.#allowPlaintext) throw failed('stored item is not encrypted (set allowPlaintext to read items written before encryption)');
        items[i] = value as TItem;
        continue;
      }
      const position = value.p;
      const known = EncryptionMemory.item(remembered, value, position);
      if (known !== undefined) {
        items[i] = known as TItem;
        positions[i] = position as number;
        continue;
      }
      const envelope = parseEnvelope(value);
      if (!keys.ids.has(envelope.keyId)) throw failed('encrypted item names a key id that is not in the key ring');
      ring ??= await keys.ring();
      derived ??= await keys.derivedFor(stored);
      const key = keys.keyFor(envelope, ring, derived);
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
      // Remembered under the text the store returned, else under the codec's text of what it returned.
      memory.opened(sessionId, stored[i] as EncryptedEnvelope, text, (from?.texts[i] as string | undefined) ?? JSON.stringify(stored[i]));
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
    const last = stored.length - 1;
    const newestPosition = positions[last];
    const newest = last < 0 || stored[last] !== undefined ? stored[last] : EncryptionMemory.envelopeAt(remembered, newestPosition!);
    return { items, newestPosition, newest };
  }

  /**
   * {@link #openAll} for items read as stored text: a text equal to the one
   * remembered for its position is that envelope, taken without parsing it;
   * the rest are parsed (in item order, so CORRUPT_DATA comes first as in any
   * store's read) and opened. Positions count from 0 for the whole history,
   * else from the position the first text names (a wrong guess only misses).
   */
  async #openTexts(sessionId: string, texts: readonly unknown[], wholeHistory: boolean): Promise<Opened<TItem>> {
    const remembered = this.#memory.session(sessionId);
    const n = texts.length;
    const base = wholeHistory || remembered === undefined || n === 0 ? 0 : positionNamedBy(texts[0]);
    const known = new Array<unknown>(n);
    const stored = new Array<unknown>(n);
    let misses = 0;
    for (let i = 0; i < n; i++) {
      const item = EncryptionMemory.itemByText(remembered, base + i, texts[i]);
      if (item !== undefined) known[i] = item;
      else {
        stored[i] = decodeItem(texts[i] as string);
        misses++;
      }
    }
    if (misses > 0) return this.#openAll(sessionId, stored, wholeHistory, { texts, items: known, base });
    return { items: known as TItem[], newestPosition: n === 0 ? undefined : base + n - 1, newest: EncryptionMemory.envelopeAt(remembered, base + n - 1) };
  }

  /** Seals encoded items for positions `start`, `start + 1`, …. */
  #seal(sessionId: string, encoded: readonly EncodedItem[], start: number, sealing: SealingKey): SealedBatch {
    return sealItems(sessionId, encoded, start, sealing);
  }

  /** Reads (and authenticates) the newest `k` items and the session's length. */
  async #readTail(sessionId: string, k: number): Promise<Tail> {
    const want = Math.max(k, 1);
    const stored = await this.inner.getItems(sessionId, { limit: want });
    const { items, newestPosition } = await this.#openAll(sessionId, stored, stored.length < want);
    this.#memory.saw(sessionId, stored.length, stored[stored.length - 1], newestPosition, stored.length < want);
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
    expectedLength?: number,
  ): Promise<R> {
    // Conflicts that retrying cannot fix (made only when one happens).
    let final: WeakSet<object> | undefined;
    return this.#writes.run(sessionId, () =>
      retryOnConflict(
        async (attempt) => {
          // An append needs only the length: what this process last saw, on the first attempt (the
          // store's expectedLength check turns a stale answer into a conflict). Otherwise read afresh:
          // after the backoff, what a read before it saw may be stale again.
          let known = k === 0 && attempt === 0 ? this.#memory.known(sessionId) : undefined;
          if (known !== undefined && expectedLength !== undefined && known.length !== expectedLength) known = undefined;
          const tail = known ? { stored: [], items: [], length: known.length, newest: known.newest } : await this.#readTail(sessionId, k);
          if (expectedLength !== undefined && tail.length !== expectedLength) {
            // The caller's own precondition (a conditional append) does not hold: final, nothing written.
            const error = conflicts.lengthMismatch();
            (final ??= new WeakSet()).add(error);
            throw error;
          }
          const step = await build(tail);
          if (!step.args && !step.append) return step.result;
          try {
            if (step.append) {
              const { encoded, expectedLength } = step.append;
              // The envelopes' codec encoding is already made (the memory keeps it): the store need not redo it.
              await appendEncodedTo(this.inner, sessionId, encoded, { ...options, expectedLength });
            }
            else await this.inner.applyHistoryTransaction!(sessionId, step.args!, options);
            if (step.done) step.done();
            else this.#memory.forget(sessionId);
            return step.result;
          } catch (error) {
            this.#memory.forget(sessionId);
            if (!SessionError.is(error, SessionErrorCode.Conflict)) throw error;
            const next = step.retry ? await this.#readTail(sessionId, k) : tail;
            if (next.length === tail.length && markOf(next) === markOf(tail)) (final ??= new WeakSet()).add(error);
            throw error;
          }
        },
        { operation, isConflict: (error) => SessionError.is(error, SessionErrorCode.Conflict) && !final?.has(error) },
      ),
    );
  }

  override async getItems(sessionId: string, options?: GetItemsOptions): Promise<TItem[]> {
    this.validateCall('getItems', sessionId);
    const limit = options?.limit;
    const inner = this.inner as Partial<EncodedReader>;
    let read: Opened<TItem>;
    let count: number;
    if (inner[readEncoded] !== undefined) {
      // The store's own read before decoding: remembered envelopes are recognised by their text, unparsed.
      const texts = await inner[readEncoded](sessionId, options);
      count = texts.length;
      read = await this.#openTexts(sessionId, texts, limit === undefined || count < limit);
    } else {
      const stored = await this.inner.getItems(sessionId, options);
      count = stored.length;
      read = await this.#openAll(sessionId, stored, limit === undefined || count < limit);
    }
    this.#memory.saw(sessionId, count, read.newest, read.newestPosition, limit === undefined || count < limit);
    return read.items;
  }

  /**
   * The inner store's changes, opened: appended envelopes must carry the
   * positions `since.length` onwards, a whole history positions from 0, and
   * either ends at the version's length (else DECRYPTION_FAILED, as for any
   * item out of order). The version is the inner store's, passed through.
   */
  override async readChanges(sessionId: string, since?: HistoryVersion, options?: CallOptions): Promise<HistoryChanges<TItem>> {
    this.validateCall('readChanges', sessionId);
    const changes = await this.inner.readChanges!(sessionId, since, options);
    const read = await this.#openAll(sessionId, changes.items, changes.whole);
    const count = changes.items.length;
    const first = changes.whole ? 0 : (since?.length ?? 0);
    // Positions are sealed in: appended items that do not start where `since` ended, or a history that
    // does not end at the version's length, had items removed, moved or added around them.
    if (read.newestPosition !== undefined && (read.newestPosition !== changes.version.length - 1 || read.newestPosition - count + 1 !== first)) {
      throw outOfOrder();
    }
    this.#memory.saw(sessionId, count, read.newest, read.newestPosition, changes.whole);
    return { version: changes.version, whole: changes.whole, items: read.items };
  }

  /** Seals the new history for positions 0..n-1 and swaps it in through the inner store's atomic replaceHistory. */
  override async replaceHistory(sessionId: string, items: readonly TItem[], options?: CallOptions): Promise<void> {
    this.validateCall('replaceHistory', sessionId);
    const encoded = this.validateItems(items);
    const { envelopes: sealed, texts } = encoded.length === 0 ? { envelopes: [], texts: [] } : this.#seal(sessionId, encoded, 0, await this.#keys.sealing());
    await this.#writes.run(sessionId, async () => {
      this.#memory.drop(sessionId);
      await this.inner.replaceHistory!(sessionId, sealed, options);
      this.#memory.wrote(sessionId, sealed, encoded, texts, sealed.length);
    });
  }

  override async addItems(sessionId: string, items: readonly TItem[], options?: AddItemsOptions): Promise<void> {
    this.validateCall('addItems', sessionId);
    assertAppendOptions(options, this.capabilities);
    // Validate and encode the whole batch first: a bad item fails before anything is written.
    return this.#append(sessionId, this.validateItems(items), options);
  }

  /** A batch a layer of core above already validated and encoded (withCache): sealed as it is. */
  override async [appendEncoded](sessionId: string, encoded: EncodedItem[], options?: AddItemsOptions): Promise<void> {
    this.validateCall('addItems', sessionId);
    assertAppendOptions(options, this.capabilities);
    return this.#append(sessionId, encoded, options);
  }

  async #append(sessionId: string, encoded: EncodedItem[], options: AddItemsOptions | undefined): Promise<void> {
    if (encoded.length === 0) return;
    // Sealed for the positions it takes, and appended only if the session still has that length.
    await this.#compareAndSwap(
      'append',
      sessionId,
      0,
      async (tail) => {
        // `stored`: the codec stores an envelope (strings and a number, no tags) as exactly its JSON.stringify.
        const sealing = this.#keys.sealingNow() ?? (await this.#keys.sealing(tail.newest));
        const { envelopes: sealed, texts: stored } = this.#seal(sessionId, encoded, tail.length, sealing);
        const done = () => this.#memory.wrote(sessionId, sealed, encoded, stored, tail.length + sealed.length);
        // Only the length this decorator chose can be stale; a caller's expectedLength conflicts for real.
        const retry = options?.expectedLength === undefined;
        if (this.#conditionalAppend) return { append: { encoded: stored, expectedLength: tail.length }, result: undefined, retry, done };
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
          retry,
          done,
        };
      },
      options,
      options?.expectedLength,
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
      this.#memory.drop(sessionId);
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
        const sealing = await this.#keys.sealing(tail.newest);
        const identity = this.#identity(sealing.key, sessionId, args, expected, replacementCanonical);
        const replacement = this.#seal(sessionId, replacementEncoded, start, sealing).envelopes;
        // No match by value: send the expected items anyway (they cannot match), so the store still
        // recognises a repeat of an applied operation by its identity, and otherwise answers CONFLICT.
        const expectedSuffix = matches ? tail.stored : this.#seal(sessionId, expectedEncoded, start, sealing).envelopes;
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
          const sealing = await this.#keys.sealing(stored.findLast((item) => this.#keys.current(item)));
          const replacement = stored.map((item, i) => (this.#keys.current(item) ? item : this.#seal(sessionId, [encodeItem(items[i])], i, sealing).envelopes[0]));
          const changed = stored.filter((item) => !this.#keys.current(item)).length;
          if (changed === 0) return 0;
          this.#memory.forget(sessionId);
          await inner.applyHistoryTransaction(sessionId, {
            operationId: `sessionkit-reencrypt:${randomUUID()}`,
            transaction: { type: 'replace_suffix', expectedSuffix: stored, replacement },
            // The whole history, not only a suffix equal to it: plaintext items (migrating) can repeat, so an
            // append of an equal item meanwhile would otherwise leave `stored` matching the newest items.
            expectedLength: stored.length,
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
