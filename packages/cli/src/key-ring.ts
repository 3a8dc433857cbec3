import { readFileSync } from 'node:fs';
import type { EncryptionOptions, KeyRingEntry } from '@sessionkit/core';
import { usage } from './errors.js';

/**
 * Where keys come from: the environment or a file, never argv (argv is
 * visible to every user of the machine through `ps`).
 *
 * `SESSIONKIT_KEYRING` (JSON) or the file named by `SESSIONKIT_KEYRING_FILE`
 * (or `--keyring-file`, which names a path, not a key):
 * `{ "primary": "k2", "keys": { "k1": "<base64 32 bytes>", "k2": { "passphrase": "…" } } }`.
 */
export interface KeyRingSource {
  readonly keyringFile?: string;
  readonly env?: NodeJS.ProcessEnv;
}

export function loadKeyRing(source: KeyRingSource): Pick<EncryptionOptions, 'keys' | 'primary'> | undefined {
  const env = source.env ?? process.env;
  const file = source.keyringFile ?? env.SESSIONKIT_KEYRING_FILE;
  let text: string | undefined;
  let origin: string;
  if (file) {
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw usage(`cannot read the key ring file (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    origin = 'the key ring file';
  } else {
    text = env.SESSIONKIT_KEYRING;
    origin = 'SESSIONKIT_KEYRING';
  }
  if (text === undefined || text.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Never echo the text: it holds keys.
    throw usage(`${origin} is not valid JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null) throw usage(`${origin} must be a JSON object`);
  const { primary, keys } = parsed as { primary?: unknown; keys?: unknown };
  if (typeof primary !== 'string' || typeof keys !== 'object' || keys === null) {
    throw usage(`${origin} must look like { "primary": "<key id>", "keys": { "<key id>": "<base64>" } }`);
  }
  const ring: Record<string, KeyRingEntry> = {};
  for (const [id, value] of Object.entries(keys as Record<string, unknown>)) {
    if (typeof value === 'string') ring[id] = new Uint8Array(Buffer.from(value, 'base64'));
    else if (typeof value === 'object' && value !== null && typeof (value as { passphrase?: unknown }).passphrase === 'string') {
      ring[id] = value as KeyRingEntry;
    } else throw usage(`${origin}: each key is base64 text or { "passphrase": "…" }`);
  }
  return { primary, keys: ring };
}
