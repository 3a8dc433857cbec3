/** `@sessionkit/core/encryption`: the encryption store, re-keying a session, the envelope and key shapes. */
export { EncryptionStore, reencryptSession, type EncryptedEnvelope } from '../decorators/encryption.js';
export { KEY_BYTES, type DeriveKeyOptions, type DerivedPassphraseKey, type PassphraseKey } from '../key-ring.js';
