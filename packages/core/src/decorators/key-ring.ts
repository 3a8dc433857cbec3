import sodium from 'libsodium-wrappers';
import { SessionError, SessionErrorCode } from '../errors.js';

/** Length of every key in a key ring: 32 bytes (XChaCha20-Poly1305's key size). */
export const KEY_BYTES = 32;

/** Longest accepted key id. Ids are stored beside every ciphertext, so keep them short. */
export const MAX_KEY_ID_LENGTH = 64;

/** The two keys actually used per key id, derived so that no key serves two purposes. */
export interface DerivedKey {
  /** Encrypts and authenticates items (XChaCha20-Poly1305). */
  readonly encryption: Uint8Array;
  /**
   * Keys the hash that names a transaction by value (its `identity`), so a
   * repeat is recognised although its ciphertexts differ. (Subkey 2 keyed the
   * synthetic nonces of earlier releases; identities stay the same.)
   */
  readonly identity: Uint8Array;
}

const KDF_CONTEXT = 'skenc_v1';

function invalid(message: string): SessionError {
  return new SessionError(SessionErrorCode.InvalidArgument, message);
}

/**
 * Checks a key ring without touching the key bytes beyond their length, and
 * copies them so later changes to the caller's arrays cannot change the ring.
 * Errors name the problem and, at most, a key id — never key material.
 */
export function validateKeyRing(keys: unknown, primary: unknown): Map<string, Uint8Array> {
  if (typeof keys !== 'object' || keys === null || Array.isArray(keys)) {
    throw invalid('keys must be an object mapping key ids to 32-byte Uint8Arrays');
  }
  const ring = new Map<string, Uint8Array>();
  for (const [id, key] of Object.entries(keys as Record<string, unknown>)) {
    if (id.length === 0 || id.length > MAX_KEY_ID_LENGTH || !id.isWellFormed() || id.includes('\0')) {
      // NUL separates fields of the associated data, so it may not appear in an id.
      throw invalid(`key ids must be well-formed strings of 1 to ${MAX_KEY_ID_LENGTH} characters without NUL`);
    }
    if (!(key instanceof Uint8Array) || key.byteLength !== KEY_BYTES) {
      throw invalid(`key "${id}" must be a Uint8Array of ${KEY_BYTES} bytes`);
    }
    ring.set(id, Uint8Array.from(key));
  }
  if (ring.size === 0) throw invalid('keys must hold at least one key');
  if (typeof primary !== 'string' || !ring.has(primary)) {
    throw invalid('primary must be the id of a key in keys');
  }
  return ring;
}

/** Derives the encryption and nonce keys of every key in the ring (after libsodium is ready). */
export async function deriveRing(ring: ReadonlyMap<string, Uint8Array>): Promise<Map<string, DerivedKey>> {
  await sodium.ready;
  const derived = new Map<string, DerivedKey>();
  for (const [id, key] of ring) {
    derived.set(id, {
      encryption: sodium.crypto_kdf_derive_from_key(KEY_BYTES, 1, KDF_CONTEXT, key),
      identity: sodium.crypto_kdf_derive_from_key(KEY_BYTES, 2, KDF_CONTEXT, key),
    });
  }
  return derived;
}

/** A fresh random 32-byte key for a key ring. */
export async function generateKey(): Promise<Uint8Array> {
  await sodium.ready;
  return sodium.randombytes_buf(KEY_BYTES);
}

export interface DeriveKeyOptions {
  /**
   * Argon2id passes. Default: libsodium's `OPSLIMIT_MODERATE` (3), the
   * documented choice for keys that protect data at rest.
   */
  readonly opsLimit?: number;
  /** Argon2id memory in bytes. Default: libsodium's `MEMLIMIT_MODERATE` (256 MiB). */
  readonly memLimit?: number;
}

/** A key derived from a passphrase and the salt needed to derive it again. */
export interface DerivedPassphraseKey {
  /** 32 bytes for a key ring. */
  readonly key: Uint8Array;
  /** 16 random bytes (or the salt you passed). Store it beside your config: it is not secret, but without it the key is gone. */
  readonly salt: Uint8Array;
}

/**
 * Derives a 32-byte key from a passphrase with libsodium's password hashing
 * (`crypto_pwhash`, Argon2id). Without `salt`, a random one is made and
 * returned: store it, and pass it back to derive the same key again. Same
 * passphrase, salt and limits always give the same key.
 */
export async function deriveKey(
  passphrase: string | Uint8Array,
  salt?: Uint8Array,
  options: DeriveKeyOptions = {},
): Promise<DerivedPassphraseKey> {
  // crypto_pwhash is only in libsodium's "sumo" build; load it only when a passphrase is used.
  const { default: sumo } = await import('libsodium-wrappers-sumo');
  await sumo.ready;
  if (typeof passphrase !== 'string' && !(passphrase instanceof Uint8Array)) {
    throw invalid('passphrase must be a string or a Uint8Array');
  }
  if (passphrase.length === 0) throw invalid('passphrase must not be empty');
  if (salt !== undefined && (!(salt instanceof Uint8Array) || salt.byteLength !== sumo.crypto_pwhash_SALTBYTES)) {
    throw invalid(`salt must be a Uint8Array of ${sumo.crypto_pwhash_SALTBYTES} bytes`);
  }
  const opsLimit = options.opsLimit ?? sumo.crypto_pwhash_OPSLIMIT_MODERATE;
  const memLimit = options.memLimit ?? sumo.crypto_pwhash_MEMLIMIT_MODERATE;
  if (!Number.isSafeInteger(opsLimit) || opsLimit < sumo.crypto_pwhash_OPSLIMIT_MIN) {
    throw invalid(`opsLimit must be an integer of at least ${sumo.crypto_pwhash_OPSLIMIT_MIN}`);
  }
  if (!Number.isSafeInteger(memLimit) || memLimit < sumo.crypto_pwhash_MEMLIMIT_MIN) {
    throw invalid(`memLimit must be an integer of at least ${sumo.crypto_pwhash_MEMLIMIT_MIN}`);
  }
  const usedSalt = salt ? Uint8Array.from(salt) : sumo.randombytes_buf(sumo.crypto_pwhash_SALTBYTES);
  const key = sumo.crypto_pwhash(KEY_BYTES, passphrase, usedSalt, opsLimit, memLimit, sumo.crypto_pwhash_ALG_ARGON2ID13);
  return { key, salt: usedSalt };
}
