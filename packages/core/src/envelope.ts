import { randomFillSync } from 'node:crypto';
import { SessionError, SessionErrorCode } from './errors.js';
import { sodium, type DerivedKey } from './key-ring.js';

/**
 * The one stored form of an encrypted item, frozen: docs/decorators/encryption.md
 * ("Envelope format") specifies every byte and `test/encryption.vectors.test.ts`
 * pins it. Pure functions only: no I/O, no state beyond libsodium's memory.
 */
export interface EncryptedEnvelope {
  /** Format version: always 1. */
  readonly '$sk:enc': 1;
  /** Key id. */
  readonly k: string;
  /** The item's 0-based position in its session's history. */
  readonly p: number;
  /** Passphrase keys only: `a2id.<opsLimit>.<memLimit>.<16-byte salt, base64>`, what derives the key again. */
  readonly s?: string;
  /** 24-byte nonce, base64. */
  readonly n: string;
  /** Ciphertext with its 16-byte Poly1305 tag, base64. */
  readonly c: string;
}

export const ENVELOPE_TAG = '$sk:enc';
export const ENVELOPE_VERSION = 1;
const NONCE_BYTES = 24;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const AD_PREFIX = 'sessionkit:enc:v1';
const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The key new writes are sealed with: its id, its derived keys, and for a passphrase entry the salt header stored beside it. */
export interface SealingKey {
  readonly id: string;
  readonly key: DerivedKey;
  readonly header?: string;
}

/** A well-formed envelope, not yet authenticated. */
export interface ParsedEnvelope {
  readonly keyId: string;
  readonly position: number;
  /** The `s` field when present (any type: a key lookup decides whether it fits). */
  readonly header: unknown;
  readonly hasHeader: boolean;
  readonly nonce: Uint8Array;
  readonly ciphertext: Uint8Array;
}

/** One item to open: the envelope and the key its id (and salt) name. */
export interface OpenRequest {
  readonly envelope: ParsedEnvelope;
  readonly key: DerivedKey;
}

export function decryptionFailed(message: string, cause?: unknown): SessionError {
  // Messages name the failure only: never key bytes, key ids read from storage, session ids or content.
  return new SessionError(SessionErrorCode.DecryptionFailed, message, cause === undefined ? {} : { cause });
}

export function isEnvelopeShaped(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && ENVELOPE_TAG in value;
}

/**
 * Associated data: `"sessionkit:enc:v1" NUL keyId NUL sessionId NUL position`
 * (decimal), UTF-8. Authenticated with every item, never stored: a ciphertext
 * decrypts only under the session, key id and position it was sealed for.
 */
export function associatedData(keyId: string, sessionId: string, position: number): Uint8Array {
  return utf8.encode(associatedText(keyId, sessionId, position));
}

/** The associated data as text, written straight into libsodium's memory by sealItems and openItems. */
function associatedText(keyId: string, sessionId: string, position: number): string {
  return `${associatedPrefix(keyId, sessionId)}${position}`;
}

/** Everything of the associated data before the position: the same for a whole batch. */
function associatedPrefix(keyId: string, sessionId: string): string {
  return `${AD_PREFIX}\0${keyId}\0${sessionId}\0`;
}

// Lenient base64 (Buffer.from skips stray characters): whatever bytes come out must still pass
// authentication, so a sloppy encoding can only ever yield authentic content or DECRYPTION_FAILED.
function fromBase64(text: unknown): Uint8Array | undefined {
  if (typeof text !== 'string') return undefined;
  const bytes = Buffer.from(text, 'base64');
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Checks an envelope's shape (fields, version, sizes) without any crypto; throws DECRYPTION_FAILED when malformed. */
export function parseEnvelope(stored: Record<string, unknown>): ParsedEnvelope {
  const { k: keyId, p: position, n, c } = stored;
  const hasHeader = 's' in stored;
  const nonce = fromBase64(n);
  const ciphertext = fromBase64(c);
  if (
    stored[ENVELOPE_TAG] !== ENVELOPE_VERSION ||
    Object.keys(stored).length !== (hasHeader ? 6 : 5) ||
    !(Number.isSafeInteger(position) && (position as number) >= 0) ||
    typeof keyId !== 'string' ||
    nonce?.byteLength !== NONCE_BYTES ||
    !ciphertext ||
    ciphertext.byteLength < TAG_BYTES
  ) {
    throw decryptionFailed('encrypted item is malformed or truncated');
  }
  return { keyId, position: position as number, header: stored.s, hasHeader, nonce, ciphertext };
}

/** libsodium's WebAssembly module underneath the wrappers: one buffer per batch instead of a wrapper call (allocate, copy, free) per step. */
interface SodiumModule {
  readonly HEAPU8: Uint8Array;
  _malloc(size: number): number;
  _free(pointer: number): void;
  // 64-bit lengths are passed as (low, high) 32-bit halves.
  _crypto_aead_xchacha20poly1305_ietf_encrypt(
    c: number, clenP: number, m: number, mlenLo: number, mlenHi: number, ad: number, adlenLo: number, adlenHi: number, nsec: number, npub: number, k: number,
  ): number;
  _crypto_aead_xchacha20poly1305_ietf_decrypt(
    m: number, mlenP: number, nsec: number, c: number, clenLo: number, clenHi: number, ad: number, adlenLo: number, adlenHi: number, npub: number, k: number,
  ): number;
}

const wasm = () => (sodium() as unknown as { libsodium: SodiumModule }).libsodium;

/** The scratch allocation kept between calls: libsodium's memory never shrinks, so keeping room for the largest batch so far takes no more of it than that batch already did. */
let scratch: { base: number; size: number } | undefined;
let scratchBusy = false;
/** The least room kept: a seal needs about six bytes per character of its batch's longest item, so items up to ~2,500 characters never grow it. */
const SCRATCH_MIN_BYTES = 16 * 1024;
/** A view of libsodium's whole memory, until growing the memory replaces its buffer. */
let heapView: Buffer | undefined;

function view(lib: SodiumModule): Buffer {
  const buffer = lib.HEAPU8.buffer;
  if (heapView?.buffer !== buffer) heapView = Buffer.from(buffer);
  return heapView;
}

/**
 * Runs `work` on a scratch allocation of at least `size` bytes in libsodium's
 * memory, then wipes what it used (keys and plaintexts pass through it). The
 * allocation is kept for the next call and grown when too small: a malloc, a
 * free and a new view of the memory per batch cost a few µs of each turn.
 */
function withScratch<R>(size: number, work: (lib: SodiumModule, base: number, heap: Buffer) => R): R {
  if (scratchBusy) throw new Error('withScratch is not reentrant');
  const lib = wasm();
  if (scratch === undefined || scratch.size < size) {
    if (scratch !== undefined) lib._free(scratch.base);
    scratch = undefined;
    const grown = Math.max(size, SCRATCH_MIN_BYTES);
    const base = lib._malloc(grown);
    if (base === 0) throw new SessionError(SessionErrorCode.BackendError, 'libsodium could not allocate memory');
    scratch = { base, size: grown };
  }
  const { base } = scratch;
  // Taken after any allocation above (growing the memory replaces its buffer); sealing and opening allocate nothing.
  const heap = view(lib);
  scratchBusy = true;
  try {
    return work(lib, base, heap);
  } finally {
    heap.fill(0, base, base + size);
    scratchBusy = false;
  }
}

/** Nonces drawn ahead from the CSPRNG, 1,024 at a time: a draw costs about as much for 24 bytes as for 24 KiB. */
const NONCE_POOL_BYTES = 1024 * NONCE_BYTES;
let noncePool = new Uint8Array(0);
let noncePoolUsed = 0;

/**
 * Writes one random 24-byte nonce from Node's CSPRNG (the OS's, as
 * libsodium's randombytes_buf uses under Node) into `target` at `offset`:
 * taken from a pool drawn ahead (nonces are stored in the clear, so holding
 * them early reveals nothing), each handed out once and zeroed in the pool as
 * it goes. Copied byte by byte: no array is allocated per item.
 */
function drawNonce(target: Uint8Array, offset: number): void {
  if (noncePoolUsed + NONCE_BYTES > noncePool.byteLength) {
    noncePool = randomFillSync(new Uint8Array(NONCE_POOL_BYTES));
    noncePoolUsed = 0;
  }
  const pool = noncePool;
  const from = noncePoolUsed;
  for (let j = 0; j < NONCE_BYTES; j++) {
    target[offset + j] = pool[from + j]!;
    pool[from + j] = 0;
  }
  noncePoolUsed = from + NONCE_BYTES;
}

/** What {@link sealItems} returns: the envelopes, and each one's stored text (exactly its `JSON.stringify`). */
export interface SealedBatch {
  readonly envelopes: EncryptedEnvelope[];
  readonly texts: string[];
}

/** Room for a position's decimal digits (a safe integer has at most 16). */
const POSITION_DIGITS = 16;

/**
 * Seals encoded items for positions `start`, `start + 1`, … under `sealing`,
 * each under its own 24-byte nonce (random, {@link drawNonce}, unless
 * `nonces` gives them: only the test vectors do), in one pass through
 * libsodium's memory. The associated data and plaintexts are written straight
 * into that memory (no intermediate byte arrays), and each envelope's text is
 * built beside it.
 */
export function sealItems(
  sessionId: string,
  encoded: readonly string[],
  start: number,
  sealing: SealingKey,
  nonces?: Uint8Array,
): SealedBatch {
  const count = encoded.length;
  if (count === 0) return { envelopes: [], texts: [] };
  const prefix = associatedPrefix(sealing.id, sessionId);
  let longest = 0;
  for (let i = 0; i < count; i++) longest = Math.max(longest, encoded[i]!.length);
  // UTF-8 takes at most 3 bytes per UTF-16 code unit: room for any text without measuring it first.
  const prefixRoom = 3 * prefix.length;
  const textRoom = 3 * longest;
  const size = KEY_BYTES + NONCE_BYTES + prefixRoom + POSITION_DIGITS + textRoom + textRoom + TAG_BYTES;
  // Fields before the nonce and ciphertext, as JSON.stringify writes them (key order: tag, k, p, s, n, c).
  const head = `{"${ENVELOPE_TAG}":${ENVELOPE_VERSION},"k":${JSON.stringify(sealing.id)},"p":`;
  const salt = sealing.header === undefined ? '' : `,"s":${JSON.stringify(sealing.header)}`;
  return withScratch(size, (lib, base, heap) => {
    const k = base;
    const npub = k + KEY_BYTES;
    const ad = npub + NONCE_BYTES;
    heap.set(sealing.key.encryption, k);
    const prefixLength = heap.write(prefix, ad, prefixRoom, 'utf8');
    const m = ad + prefixLength + POSITION_DIGITS;
    const envelopes = new Array<EncryptedEnvelope>(count);
    const texts = new Array<string>(count);
    for (let i = 0; i < count; i++) {
      const position = start + i;
      const adLength = prefixLength + heap.write(String(position), ad + prefixLength, POSITION_DIGITS, 'latin1');
      const mlen = heap.write(encoded[i]!, m, textRoom, 'utf8');
      const c = m + mlen;
      if (nonces === undefined) drawNonce(heap, npub);
      else heap.set(nonces.subarray(i * NONCE_BYTES, (i + 1) * NONCE_BYTES), npub);
      if (lib._crypto_aead_xchacha20poly1305_ietf_encrypt(c, 0, m, mlen, 0, ad, adLength, 0, 0, npub, k) !== 0) {
        throw new SessionError(SessionErrorCode.BackendError, 'libsodium failed to encrypt');
      }
      const n = heap.toString('base64', npub, npub + NONCE_BYTES);
      const ciphertext = heap.toString('base64', c, c + mlen + TAG_BYTES);
      const envelope: Record<string, unknown> = { [ENVELOPE_TAG]: ENVELOPE_VERSION, k: sealing.id, p: position };
      if (sealing.header !== undefined) envelope.s = sealing.header;
      envelope.n = n;
      envelope.c = ciphertext;
      envelopes[i] = envelope as unknown as EncryptedEnvelope;
      // Base64 needs no escaping: this is JSON.stringify(envelope), byte for byte.
      texts[i] = `${head}${position}${salt},"n":"${n}","c":"${ciphertext}"}`;
    }
    return { envelopes, texts };
  });
}

/**
 * Opens each request in one pass through libsodium's memory: the plaintext
 * (the codec's encoded item), or an error — DECRYPTION_FAILED when
 * authentication fails, CORRUPT_DATA when authentic bytes are not UTF-8.
 * Errors are returned, not thrown, so the caller reports them in item order.
 */
export function openItems(sessionId: string, requests: readonly OpenRequest[]): (string | SessionError)[] {
  if (requests.length === 0) return [];
  const ads = requests.map(({ envelope }) => associatedText(envelope.keyId, sessionId, envelope.position));
  let size = KEY_BYTES + NONCE_BYTES;
  for (let i = 0; i < requests.length; i++) {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit.
    size = Math.max(size, KEY_BYTES + NONCE_BYTES + 3 * ads[i]!.length + 2 * requests[i]!.envelope.ciphertext.byteLength);
  }
  return withScratch(size, (lib, base, heap) => {
    const k = base;
    const npub = k + KEY_BYTES;
    const ad = npub + NONCE_BYTES;
    let current: DerivedKey | undefined;
    return requests.map(({ envelope, key }, i) => {
      if (key !== current) heap.set(key.encryption, k);
      current = key;
      const adText = ads[i]!;
      const adLength = heap.write(adText, ad, 3 * adText.length, 'utf8');
      const c = ad + adLength;
      const clen = envelope.ciphertext.byteLength;
      const m = c + clen;
      heap.set(envelope.nonce, npub);
      heap.set(envelope.ciphertext, c);
      if (lib._crypto_aead_xchacha20poly1305_ietf_decrypt(m, 0, 0, c, clen, 0, ad, adLength, 0, npub, k) !== 0) {
        return decryptionFailed('encrypted item failed authentication: wrong key, tampered, truncated, or moved from another session');
      }
      try {
        return strictUtf8.decode(heap.subarray(m, m + clen - TAG_BYTES));
      } catch (cause) {
        return new SessionError(SessionErrorCode.CorruptData, 'decrypted item is not valid UTF-8', { cause });
      }
    });
  });
}
