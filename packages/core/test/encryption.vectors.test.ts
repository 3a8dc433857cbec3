import { describe, expect, it } from 'vitest';
import { MemoryStore, withEncryption } from '@sessionkit/core';
// The pure seal/open and the key derivation, from source: the vectors pin them byte for byte.
import { associatedData, sealItems } from '../src/envelope.js';
import { derivePassphraseRingKey, deriveRing, loadSodium, sodium } from '../src/key-ring.js';
import { encodeItem } from '../src/codec.js';

// The frozen envelope format (docs/decorators/encryption.md, "Envelope format"). If one of these
// fails, stored data written by sessionkit would no longer read back: the format changed.
const K = Uint8Array.from({ length: 32 }, (_, i) => i); // key bytes 00 01 … 1f
const nonces = Uint8Array.from({ length: 48 }, (_, i) => 0x40 + i); // 40 41 … 57, then 58 … 6f
const items = [
  { role: 'user', content: 'hello' },
  { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'hi' }] },
];
const rawKeyVectors = [
  {
    '$sk:enc': 1,
    k: '2026-01',
    p: 0,
    n: 'QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZX',
    c: '7Mi7+uXAKF9Gyp4Yi1a1NWteyo3JZz8Zn/nSqVHOrkJhJX0oJ/fAOl76vyLPeekfew==',
  },
  {
    '$sk:enc': 1,
    k: '2026-01',
    p: 1,
    n: 'WFlaW1xdXl9gYWJjZGVmZ2hpamtsbW5v',
    c: 'q8RhdAKP8Qoar7SFLIHsYsugmqnUN5d/V/keJWFPACEdg89izeo+Jf5CDX2BLCVHEhoMKKH17LswvvVIO28gJBpQGAZtxX30CfFMwcywab5y2ge3E/A6bYhaNQVEGJUr1dn/ZQ==',
  },
];
// Passphrase "correct horse", Argon2id opsLimit 1, memLimit 8192, salt a0 a1 … af; sealed at position 7.
const passphraseVector = {
  '$sk:enc': 1,
  k: 'pass',
  p: 7,
  s: 'a2id.1.8192.oKGio6SlpqeoqaqrrK2urw==',
  n: 'QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZX',
  c: 'G5jTubx9iTtYv+x9BGOqrZku6ktrbfc4YAWNj8P8TYWzeEJTQre+UADfbIbOCMsQcA==',
};

describe('envelope format test vectors', () => {
  it('a fixed key and fixed nonces seal to exactly these bytes, field order included', async () => {
    const ring = await deriveRing(new Map([['2026-01', Uint8Array.from(K)]]));
    const sealed = sealItems('user-123', items.map(encodeItem), 0, { id: '2026-01', key: ring.get('2026-01')! }, nonces);
    expect(JSON.stringify(sealed.envelopes)).toBe(JSON.stringify(rawKeyVectors));
    // The stored text built beside each envelope is its JSON.stringify, byte for byte.
    expect(sealed.texts).toEqual(rawKeyVectors.map((vector) => JSON.stringify(vector)));
  });

  it('the vectors follow the documented construction, rebuilt with libsodium’s own calls', async () => {
    await loadSodium();
    const lib = sodium();
    const encryptionKey = lib.crypto_kdf_derive_from_key(32, 1, 'skenc_v1', K);
    rawKeyVectors.forEach((vector, i) => {
      const ad = new TextEncoder().encode(`sessionkit:enc:v1\u00002026-01\u0000user-123\u0000${i}`);
      expect(Buffer.from(associatedData('2026-01', 'user-123', i)).equals(Buffer.from(ad))).toBe(true);
      const plaintext = new TextEncoder().encode(JSON.stringify(items[i]));
      const nonce = nonces.subarray(i * 24, i * 24 + 24);
      const c = lib.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, ad, null, nonce, encryptionKey);
      expect(Buffer.from(c).toString('base64')).toBe(vector.c);
      expect(Buffer.from(nonce).toString('base64')).toBe(vector.n);
    });
  });

  it('a passphrase entry seals with its salt header to exactly these bytes', async () => {
    const salt = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
    const key = await derivePassphraseRingKey({ passphrase: new TextEncoder().encode('correct horse'), opsLimit: 1, memLimit: 8192 }, salt, 1, 8192);
    const sealed = sealItems('user-123', [encodeItem(items[0])], 7, { id: 'pass', key, header: passphraseVector.s }, nonces.subarray(0, 24));
    expect(JSON.stringify(sealed.envelopes)).toBe(JSON.stringify([passphraseVector]));
    expect(sealed.texts).toEqual([JSON.stringify(passphraseVector)]);
  });

  it('the store reads the vectors back, and only in their session', async () => {
    const inner = new MemoryStore();
    await inner.addItems('user-123', rawKeyVectors);
    const store = withEncryption({ keys: { '2026-01': Uint8Array.from(K) }, primary: '2026-01' })(inner);
    expect(await store.getItems('user-123')).toEqual(items);
    await inner.addItems('user-456', rawKeyVectors);
    await expect(store.getItems('user-456')).rejects.toMatchObject({ code: 'DECRYPTION_FAILED' });

    const withPassphrase = new MemoryStore();
    // Positions 0–6 are absent, so only a window of one that is not the whole history reads it.
    await withPassphrase.addItems('user-123', [passphraseVector]);
    const reader = withEncryption({ keys: { pass: { passphrase: 'correct horse', opsLimit: 1, memLimit: 8192 } }, primary: 'pass' })(withPassphrase);
    await expect(reader.getItems('user-123')).rejects.toMatchObject({ code: 'DECRYPTION_FAILED' });
    await withPassphrase.addItems('user-123', [{ ...passphraseVector, p: 8 }]);
    await expect(reader.getItems('user-123', { limit: 1 })).rejects.toMatchObject({ code: 'DECRYPTION_FAILED' });
    await withPassphrase.popItem('user-123');
    expect(await reader.getItems('user-123', { limit: 1 })).toEqual([items[0]]);
  });
});
