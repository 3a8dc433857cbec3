import type Sodium from 'libsodium-wrappers';

// libsodium loads on first use, not when core is imported: most users never encrypt (about 29 ms of core's import).
let loaded: typeof Sodium | undefined;
let loading: Promise<typeof Sodium> | undefined;

/** Loads and initialises libsodium once; every crypto path awaits this before calling `sodium()`. */
export function loadSodium(): Promise<typeof Sodium> {
  return (loading ??= import('libsodium-wrappers').then(async ({ default: lib }) => {
    await lib.ready;
    loaded = lib;
    return lib;
  }));
}

/** The loaded libsodium; only called on paths that awaited `loadSodium()` (a derived key exists only after it). */
export function sodium(): typeof Sodium {
  if (!loaded) throw new Error('libsodium used before loadSodium() resolved');
  return loaded;
}
import { SessionError, SessionErrorCode } from './errors.js';

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
   * repeat is recognised although its ciphertexts differ.
   */
  readonly identity: Uint8Array;
}

const KDF_CONTEXT = 'skenc_v1';

// libsodium's crypto_pwhash constants (the same in every build), so options can be checked before the sumo build loads.
const OPSLIMIT_MIN = 1;
const MEMLIMIT_MIN = 8192;
const OPSLIMIT_MODERATE = 3;
const MEMLIMIT_MODERATE = 268_435_456;
const OPSLIMIT_SENSITIVE = 4;
const MEMLIMIT_SENSITIVE = 1_073_741_824;
const SALT_BYTES = 16;

/**
 * A key ring entry given as a passphrase: the key is derived with libsodium's
 * password hashing (Argon2id) under a random salt, and the salt and limits
 * are stored in every envelope (`s`), so nothing but the passphrase has to be
 * kept. See docs/decorators/encryption.md.
 */
export interface PassphraseKey {
  /** The passphrase (non-empty). Kept in memory to derive keys for salts it meets; never logged or in errors. */
  readonly passphrase: string | Uint8Array;
  /** Argon2id passes for new salts. Default: libsodium's `OPSLIMIT_MODERATE` (3). */
  readonly opsLimit?: number;
  /** Argon2id memory in bytes for new salts. Default: libsodium's `MEMLIMIT_MODERATE` (256 MiB). */
  readonly memLimit?: number;
}

/** A key ring entry: 32 random bytes, or a passphrase. */
export type KeyRingEntry = Uint8Array | PassphraseKey;

/** A checked passphrase entry. */
export interface PassphraseEntry {
  readonly passphrase: Uint8Array;
  readonly opsLimit: number;
  readonly memLimit: number;
}

/** A checked key ring: raw keys and passphrase entries, copied. */
export interface ValidatedKeyRing {
  readonly raw: Map<string, Uint8Array>;
  readonly passphrases: Map<string, PassphraseEntry>;
}

function invalid(message: string): SessionError {
  return new SessionError(SessionErrorCode.InvalidArgument, message);
}

function checkLimits(opsLimit: unknown, memLimit: unknown): void {
  if (!Number.isSafeInteger(opsLimit) || (opsLimit as number) < OPSLIMIT_MIN) {
    throw invalid(`opsLimit must be an integer of at least ${OPSLIMIT_MIN}`);
  }
  if (!Number.isSafeInteger(memLimit) || (memLimit as number) < MEMLIMIT_MIN) {
    throw invalid(`memLimit must be an integer of at least ${MEMLIMIT_MIN}`);
  }
}

function passphraseBytes(passphrase: unknown): Uint8Array {
  if (typeof passphrase !== 'string' && !(passphrase instanceof Uint8Array)) {
    throw invalid('passphrase must be a string or a Uint8Array');
  }
  if (passphrase.length === 0) throw invalid('passphrase must not be empty');
  return typeof passphrase === 'string' ? new TextEncoder().encode(passphrase) : Uint8Array.from(passphrase);
}

/**
 * Checks a key ring without touching the key bytes beyond their length, and
 * copies them so later changes to the caller's arrays cannot change the ring.
 * Errors name the problem and, at most, a key id — never key material or passphrases.
 */
export function validateKeyRing(keys: unknown, primary: unknown): ValidatedKeyRing {
  if (typeof keys !== 'object' || keys === null || Array.isArray(keys)) {
    throw invalid('keys must be an object mapping key ids to 32-byte Uint8Arrays or { passphrase } entries');
  }
  const raw = new Map<string, Uint8Array>();
  const passphrases = new Map<string, PassphraseEntry>();
  for (const [id, key] of Object.entries(keys as Record<string, unknown>)) {
    if (id.length === 0 || id.length > MAX_KEY_ID_LENGTH || !id.isWellFormed() || id.includes('\0')) {
      // NUL separates fields of the associated data, so it may not appear in an id.
      throw invalid(`key ids must be well-formed strings of 1 to ${MAX_KEY_ID_LENGTH} characters without NUL`);
    }
    if (typeof key === 'object' && key !== null && !(key instanceof Uint8Array) && 'passphrase' in key) {
      const entry = key as PassphraseKey;
      const opsLimit = entry.opsLimit ?? OPSLIMIT_MODERATE;
      const memLimit = entry.memLimit ?? MEMLIMIT_MODERATE;
      checkLimits(opsLimit, memLimit);
      passphrases.set(id, { passphrase: passphraseBytes(entry.passphrase), opsLimit, memLimit });
      continue;
    }
    if (!(key instanceof Uint8Array) || key.byteLength !== KEY_BYTES) {
      throw invalid(`key "${id}" must be a Uint8Array of ${KEY_BYTES} bytes or a { passphrase } entry`);
    }
    raw.set(id, Uint8Array.from(key));
  }
  if (raw.size + passphrases.size === 0) throw invalid('keys must hold at least one key');
  if (typeof primary !== 'string' || !(raw.has(primary) || passphrases.has(primary))) {
    throw invalid('primary must be the id of a key in keys');
  }
  return { raw, passphrases };
}

/** The encryption and identity subkeys of one 32-byte key (after libsodium is ready). */
function subkeys(key: Uint8Array): DerivedKey {
  return {
    encryption: sodium().crypto_kdf_derive_from_key(KEY_BYTES, 1, KDF_CONTEXT, key),
    identity: sodium().crypto_kdf_derive_from_key(KEY_BYTES, 2, KDF_CONTEXT, key),
  };
}

/** Derives the encryption and identity keys of every key in the ring (after libsodium is ready). */
export async function deriveRing(ring: ReadonlyMap<string, Uint8Array>): Promise<Map<string, DerivedKey>> {
  await loadSodium();
  const derived = new Map<string, DerivedKey>();
  for (const [id, key] of ring) derived.set(id, subkeys(key));
  return derived;
}

/** The stored salt header of a passphrase key: `a2id.<opsLimit>.<memLimit>.<salt, base64>`. */
const HEADER = /^a2id\.([1-9][0-9]{0,9})\.([1-9][0-9]{0,12})\.([A-Za-z0-9+/]{22}==)$/;

/** Parses a salt header; undefined when malformed. */
export function parseSaltHeader(header: unknown): { opsLimit: number; memLimit: number; salt: Uint8Array } | undefined {
  if (typeof header !== 'string') return undefined;
  const match = HEADER.exec(header);
  if (!match) return undefined;
  const salt = Buffer.from(match[3]!, 'base64');
  if (salt.byteLength !== SALT_BYTES) return undefined;
  return { opsLimit: Number(match[1]), memLimit: Number(match[2]), salt: new Uint8Array(salt) };
}

/** A fresh salt header with the entry's limits. */
export async function newSaltHeader(entry: PassphraseEntry): Promise<string> {
  await loadSodium();
  return `a2id.${entry.opsLimit}.${entry.memLimit}.${Buffer.from(sodium().randombytes_buf(SALT_BYTES)).toString('base64')}`;
}

/**
 * Whether a reader may spend the limits a stored header names: at most the
 * entry's own or libsodium's SENSITIVE limits (4 passes, 1 GiB), whichever is
 * higher, so a planted header cannot make a read allocate without bound.
 */
export function acceptableLimits(entry: PassphraseEntry, opsLimit: number, memLimit: number): boolean {
  return (
    opsLimit >= OPSLIMIT_MIN &&
    memLimit >= MEMLIMIT_MIN &&
    opsLimit <= Math.max(entry.opsLimit, OPSLIMIT_SENSITIVE) &&
    memLimit <= Math.max(entry.memLimit, MEMLIMIT_SENSITIVE)
  );
}

/** Argon2id of a passphrase entry under a salt and limits, as the subkeys a ring key gives. */
export async function derivePassphraseRingKey(
  entry: PassphraseEntry,
  salt: Uint8Array,
  opsLimit: number,
  memLimit: number,
): Promise<DerivedKey> {
  const [key] = await Promise.all([argon2id(entry.passphrase, salt, opsLimit, memLimit), loadSodium()]);
  try {
    return subkeys(key);
  } finally {
    key.fill(0);
  }
}

/** A 32-byte key from libsodium's crypto_pwhash (Argon2id); only the "sumo" build has it, so it loads only when a passphrase is used. */
async function argon2id(passphrase: Uint8Array, salt: Uint8Array, opsLimit: number, memLimit: number): Promise<Uint8Array> {
  const { default: sumo } = await import('libsodium-wrappers-sumo');
  await sumo.ready;
  return sumo.crypto_pwhash(KEY_BYTES, passphrase, salt, opsLimit, memLimit, sumo.crypto_pwhash_ALG_ARGON2ID13);
}

/** A fresh random 32-byte key for a key ring. */
export async function generateKey(): Promise<Uint8Array> {
  await loadSodium();
  return sodium().randombytes_buf(KEY_BYTES);
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
 * passphrase, salt and limits always give the same key. To have the salt
 * stored with the data instead, put `{ passphrase }` in the key ring.
 */
export async function deriveKey(
  passphrase: string | Uint8Array,
  salt?: Uint8Array,
  options: DeriveKeyOptions = {},
): Promise<DerivedPassphraseKey> {
  // crypto_pwhash is only in libsodium's "sumo" build; load it only when a passphrase is used.
  const { default: sumo } = await import('libsodium-wrappers-sumo');
  await sumo.ready;
  const bytes = passphraseBytes(passphrase);
  if (salt !== undefined && (!(salt instanceof Uint8Array) || salt.byteLength !== sumo.crypto_pwhash_SALTBYTES)) {
    throw invalid(`salt must be a Uint8Array of ${sumo.crypto_pwhash_SALTBYTES} bytes`);
  }
  const opsLimit = options.opsLimit ?? sumo.crypto_pwhash_OPSLIMIT_MODERATE;
  const memLimit = options.memLimit ?? sumo.crypto_pwhash_MEMLIMIT_MODERATE;
  checkLimits(opsLimit, memLimit);
  const usedSalt = salt ? Uint8Array.from(salt) : sumo.randombytes_buf(sumo.crypto_pwhash_SALTBYTES);
  const key = await argon2id(bytes, usedSalt, opsLimit, memLimit);
  bytes.fill(0);
  return { key, salt: usedSalt };
}
