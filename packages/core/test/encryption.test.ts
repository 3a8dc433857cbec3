import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  MemoryStore,
  SessionErrorCode,
  compose,
  deriveKey,
  generateKey,
  isSessionError,
  withEncryption,
  type SessionStore,
} from '@sessionkit/core';
import { reencryptSession, type EncryptedEnvelope } from '@sessionkit/core/encryption';
import { withFaults } from '@sessionkit/conformance';

const key1 = new Uint8Array(32).fill(7);
const key2 = Uint8Array.from({ length: 32 }, (_, i) => i * 3 + 1);

const secretItems = [
  { role: 'user', content: 'my card number is 4111-1111-1111-1111' },
  { type: 'function_call', callId: 'c1', name: 'lookup', arguments: '{"ssn":"078-05-1120"}' },
  { role: 'assistant', content: [{ type: 'output_text', text: 'Your balance is 1,234.56' }], bytes: new Uint8Array([1, 2, 3]) },
];

/** Expects `action` to fail with DECRYPTION_FAILED and returns the error. */
async function decryptionFails(action: () => Promise<unknown>): Promise<Error> {
  try {
    await action();
  } catch (error) {
    expect(isSessionError(error, SessionErrorCode.DecryptionFailed), String(error)).toBe(true);
    return error as Error;
  }
  throw new Error('expected DECRYPTION_FAILED, but the call succeeded');
}

function envelope(value: unknown): EncryptedEnvelope {
  return value as EncryptedEnvelope;
}

describe('withEncryption', () => {
  it('round-trips items exactly while the inner store only sees envelopes without plaintext', async () => {
    const inner = new MemoryStore();
    const store = withEncryption({ keys: { k1: key1 }, primary: 'k1' })(inner);
    await store.addItems('s', secretItems);
    expect(await store.getItems('s')).toEqual(secretItems);
    expect(await store.getItems('s', { limit: 1 })).toEqual(secretItems.slice(2));
    const raw = await inner.getItems('s');
    expect(raw).toHaveLength(3);
    for (const stored of raw) expect(Object.keys(stored).sort()).toEqual(['$sk:enc', 'c', 'k', 'n', 'p']);
    expect(raw.map((stored) => envelope(stored).p)).toEqual([0, 1, 2]);
    const text = JSON.stringify(raw);
    for (const needle of ['4111', 'ssn', '078-05', 'balance', 'lookup', 'role', 'user', 'function_call', 'AQID']) {
      expect(text).not.toContain(needle);
    }
  });

  it('carries replaceHistory: the backend only sees ciphertext and the replaced history decrypts', async () => {
    const inner = new MemoryStore();
    const store = withEncryption({ keys: { k1: key1 }, primary: 'k1' })(inner);
    expect(store.capabilities.replaceHistory).toBe(true);
    await store.addItems('s', [{ role: 'user', content: 'old' }, { role: 'user', content: 'older' }]);
    await store.replaceHistory!('s', secretItems);
    expect(await store.getItems('s')).toEqual(secretItems);
    const raw = await inner.getItems('s');
    expect(raw.map((stored) => envelope(stored).p)).toEqual([0, 1, 2]);
    const text = JSON.stringify(raw);
    for (const needle of ['4111', 'ssn', '078-05', 'balance', 'role', 'user']) expect(text).not.toContain(needle);
    await store.addItems('s', [{ role: 'user', content: 'next' }]);
    expect(await store.getItems('s')).toEqual([...secretItems, { role: 'user', content: 'next' }]);
    await store.replaceHistory!('s', []);
    expect(await store.getItems('s')).toEqual([]);
  });

  it('refuses invalid items before writing anything', async () => {
    const inner = new MemoryStore();
    const store = withEncryption({ keys: { k1: key1 }, primary: 'k1' })(inner);
    await expect(store.addItems('s', [{ ok: 1 }, { bad: () => 1 }])).rejects.toMatchObject({ code: SessionErrorCode.InvalidItem });
    expect(await inner.getItems('s')).toEqual([]);
  });

  it('a ciphertext copied to another session fails to decrypt', async () => {
    const inner = new MemoryStore();
    const store = withEncryption({ keys: { k1: key1 }, primary: 'k1' })(inner);
    await store.addItems('alice', [{ role: 'user', content: 'alice secret' }]);
    await inner.addItems('mallory', await inner.getItems('alice'));
    await decryptionFails(() => store.getItems('mallory'));
    await decryptionFails(() => store.popItem('mallory'));
    expect(await inner.getItems('mallory')).toHaveLength(1);
  });

  it('tampered, truncated, relabelled and malformed envelopes fail with DECRYPTION_FAILED', async () => {
    const inner = new MemoryStore();
    const store = withEncryption({ keys: { k1: key1, k2: key2 }, primary: 'k1' })(inner);
    await store.addItems('s', [{ role: 'user', content: 'hello' }]);
    const [good] = (await inner.getItems('s')).map(envelope);
    const c = Buffer.from(good!.c, 'base64');
    const flipped = Buffer.from(c);
    flipped[3] = flipped[3]! ^ 1;
    const variants: Record<string, unknown> = {
      tampered: { ...good, c: flipped.toString('base64') },
      truncated: { ...good, c: c.subarray(0, c.length - 1).toString('base64') },
      'tag only': { ...good, c: c.subarray(0, 15).toString('base64') },
      'other nonce': { ...good, n: Buffer.alloc(24, 9).toString('base64') },
      'short nonce': { ...good, n: Buffer.alloc(12).toString('base64') },
      'relabelled key id': { ...good, k: 'k2' },
      'unknown key id': { ...good, k: 'gone' },
      'not base64': { ...good, c: '!!!' },
      'extra field': { ...good, x: 1 },
      'other version': { ...good, '$sk:enc': 2 },
    };
    for (const [name, value] of Object.entries(variants)) {
      const sessionId = `session-${name.replaceAll(' ', '-')}`;
      await inner.addItems(sessionId, [value]);
      const error = await decryptionFails(() => store.getItems(sessionId));
      expect(error.message, name).not.toContain(sessionId);
      await decryptionFails(() => store.popItem(sessionId));
      expect(await inner.getItems(sessionId), name).toEqual([value]);
    }
  });

  it('a wrong key fails, and a pop of an undecryptable item throws and leaves it in place', async () => {
    const inner = new MemoryStore();
    await withEncryption({ keys: { k1: key1 }, primary: 'k1' })(inner).addItems('s', [{ content: 'a' }, { content: 'b' }]);
    const wrong = withEncryption({ keys: { k1: key2 }, primary: 'k1' })(inner);
    await decryptionFails(() => wrong.getItems('s'));
    await decryptionFails(() => wrong.popItem('s'));
    await decryptionFails(() => wrong.popItem('s'));
    expect(await inner.getItems('s')).toHaveLength(2);
    const right = withEncryption({ keys: { k1: key1 }, primary: 'k1' })(inner);
    expect(await right.popItem('s')).toEqual({ content: 'b' });
    expect(await right.getItems('s')).toEqual([{ content: 'a' }]);
  });

  it('plaintext items are refused unless allowPlaintext, and reencryptSession migrates them', async () => {
    const inner = new MemoryStore();
    await inner.addItems('s', [{ role: 'user', content: 'old plaintext' }]);
    const strict = withEncryption({ keys: { k1: key1 }, primary: 'k1' })(inner);
    await decryptionFails(() => strict.getItems('s'));
    await decryptionFails(() => strict.popItem('s'));
    expect(await inner.getItems('s')).toHaveLength(1);

    const migrating = withEncryption({ keys: { k1: key1 }, primary: 'k1', allowPlaintext: true })(inner);
    await migrating.addItems('s', [{ role: 'assistant', content: 'new' }]);
    expect(await migrating.getItems('s')).toEqual([
      { role: 'user', content: 'old plaintext' },
      { role: 'assistant', content: 'new' },
    ]);
    expect(await reencryptSession(migrating, 's')).toBe(1);
    expect(await reencryptSession(migrating, 's')).toBe(0);
    expect(JSON.stringify(await inner.getItems('s'))).not.toContain('plaintext');
    expect(await strict.getItems('s')).toEqual([
      { role: 'user', content: 'old plaintext' },
      { role: 'assistant', content: 'new' },
    ]);
  });

  it('reencryptSession while a plaintext writer appends an equal item: retried over the whole history, nothing overwritten', async () => {
    const inner = new MemoryStore();
    const said = { role: 'user', content: 'ok' };
    await inner.addItems('s', [said]);
    // The rewrite waits between its read and its transaction; a writer not yet migrated appends meanwhile.
    const paused = withFaults(inner);
    paused.hang('applyHistoryTransaction', { times: 1 });
    const migrating = withEncryption({ keys: { k1: key1 }, primary: 'k1', allowPlaintext: true })(paused);
    const rewrite = reencryptSession(migrating, 's');
    while (paused.pendingHangs === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    await inner.addItems('s', [said]);
    paused.release();
    expect(await rewrite).toBe(2);
    const stored = (await inner.getItems('s')) as EncryptedEnvelope[];
    expect(stored.map((envelope) => envelope.p)).toEqual([0, 1]);
    expect(await withEncryption({ keys: { k1: key1 }, primary: 'k1' })(inner).getItems('s')).toEqual([said, said]);
  });

  it('rotates keys: old items stay readable, new writes use the primary, reencryptSession moves history to it', async () => {
    const inner = new MemoryStore();
    const before = withEncryption({ keys: { old: key1 }, primary: 'old' })(inner);
    await before.addItems('s', [{ content: 'one' }, { content: 'two' }]);
    const rotated = withEncryption({ keys: { old: key1, new: key2 }, primary: 'new' })(inner);
    await rotated.addItems('s', [{ content: 'three' }]);
    expect((await inner.getItems('s')).map((e) => envelope(e).k)).toEqual(['old', 'old', 'new']);
    expect(await rotated.getItems('s')).toEqual([{ content: 'one' }, { content: 'two' }, { content: 'three' }]);

    // A transaction whose expected suffix is stored under the old key still applies.
    await rotated.applyHistoryTransaction('s', {
      operationId: 'op-1',
      transaction: { type: 'replace_suffix', expectedSuffix: [{ content: 'two' }, { content: 'three' }], replacement: [{ content: 'sum' }] },
    });
    expect(await rotated.getItems('s')).toEqual([{ content: 'one' }, { content: 'sum' }]);

    expect(await reencryptSession(rotated, 's')).toBe(1);
    expect((await inner.getItems('s')).map((e) => envelope(e).k)).toEqual(['new', 'new']);
    const onlyNew = withEncryption({ keys: { new: key2 }, primary: 'new' })(inner);
    expect(await onlyNew.getItems('s')).toEqual([{ content: 'one' }, { content: 'sum' }]);
    await decryptionFails(() => withEncryption({ keys: { old: key1 }, primary: 'old' })(inner).getItems('s'));
  });

  it('pops through a compare-and-swap: concurrent pops return distinct items', async () => {
    const store = withEncryption({ keys: { k1: key1 }, primary: 'k1' })(new MemoryStore());
    const items = Array.from({ length: 20 }, (_, i) => ({ content: `i${i}` }));
    await store.addItems('s', items);
    const popped = await Promise.all(Array.from({ length: 25 }, () => store.popItem('s')));
    const got = popped.filter((x) => x !== undefined).map((x) => x.content);
    expect(new Set(got).size).toBe(20);
    expect(await store.getItems('s')).toEqual([]);
  });

  it('a repeated transaction is a no-op through a second decorator on the same data', async () => {
    const inner = new MemoryStore();
    const args = { operationId: 'op', transaction: { type: 'append_items' as const, items: [{ content: 'once' }] } };
    await withEncryption({ keys: { k1: key1 }, primary: 'k1' })(inner).applyHistoryTransaction('s', args);
    const again = withEncryption({ keys: { k1: key1 }, primary: 'k1' })(inner);
    await again.addItems('s', [{ content: 'later' }]);
    await again.applyHistoryTransaction('s', args);
    expect(await again.getItems('s')).toEqual([{ content: 'once' }, { content: 'later' }]);
  });

  it('never puts key material in errors, their JSON, their causes, or an inspected store', async () => {
    const inner = new MemoryStore();
    const secret = await generateKey();
    const store = withEncryption({ keys: { k1: secret }, primary: 'k1' })(inner);
    await store.addItems('s', [{ content: 'x' }]);
    const wrong = withEncryption({ keys: { k1: key2 }, primary: 'k1' })(inner);
    await inner.addItems('t', [{ '$sk:enc': 1, k: 'k1', n: 'AA==', c: 'AA==' }]);
    const errors: unknown[] = [];
    for (const action of [() => wrong.getItems('s'), () => wrong.popItem('s'), () => store.getItems('t')]) {
      try {
        await action();
      } catch (error) {
        errors.push(error);
      }
    }
    expect(() => withEncryption({ keys: { k1: secret.subarray(0, 31) }, primary: 'k1' })).not.toThrow();
    try {
      withEncryption({ keys: { k1: secret.subarray(0, 31) }, primary: 'k1' })(inner);
    } catch (error) {
      errors.push(error);
    }
    expect(errors).toHaveLength(4);
    const forms = [secret, key2].flatMap((k) => [
      Buffer.from(k).toString('hex'),
      Buffer.from(k).toString('base64'),
      Array.from(k).join(','),
    ]);
    for (const error of errors) {
      const e = error as Error & { cause?: unknown };
      const texts = [e.message, e.stack ?? '', JSON.stringify(e), inspect(e, { depth: 10 }), String(e.cause), inspect(e.cause, { depth: 10 })];
      for (const text of texts) for (const form of forms) expect(text).not.toContain(form);
    }
    const inspected = inspect(store, { depth: 10, showHidden: true });
    for (const form of forms) expect(inspected).not.toContain(form);
  });

  it('checks its options', () => {
    const bad = [
      {},
      { keys: {}, primary: 'k' },
      { keys: { k: new Uint8Array(16) }, primary: 'k' },
      { keys: { k: key1 }, primary: 'other' },
      { keys: { 'a\0b': key1 }, primary: 'a\0b' },
      { keys: { k: 'not bytes' }, primary: 'k' },
      { keys: { k: key1 }, primary: 'k', bindPositions: 'yes' },
      { keys: { k: key1 }, primary: 'k', allowUnbound: 1 },
    ];
    for (const options of bad) {
      expect(() => withEncryption(options as never)(new MemoryStore()), JSON.stringify(Object.keys(options))).toThrow(
        expect.objectContaining({ code: SessionErrorCode.InvalidArgument }),
      );
    }
  });

  it('forwards capabilities it honours; pops need transactions to stay atomic', () => {
    const full = withEncryption({ keys: { k: key1 }, primary: 'k' })(new MemoryStore());
    expect(full.capabilities).toEqual(new MemoryStore().capabilities);
    const inner = new MemoryStore();
    const noPreconditions = { ...inner, capabilities: { ...inner.capabilities, transactionPreconditions: false } } as SessionStore;
    expect(() => withEncryption({ keys: { k: key1 }, primary: 'k' })(noPreconditions)).toThrow(
      expect.objectContaining({ code: SessionErrorCode.Unsupported }),
    );
    const noTx: SessionStore = {
      capabilities: { ...inner.capabilities, transactions: false },
      getItems: (s, o) => inner.getItems(s, o),
      addItems: (s, i) => inner.addItems(s, i),
      popItem: (s) => inner.popItem(s),
      clearSession: (s) => inner.clearSession(s),
      close: () => inner.close(),
    };
    expect(() => withEncryption({ keys: { k: key1 }, primary: 'k' })(noTx)).toThrow(
      expect.objectContaining({ code: SessionErrorCode.Unsupported }),
    );
  });

  it('seals every item for its position, whatever order concurrent appends, pops and transactions land in', async () => {
    const inner = new MemoryStore();
    const store = withEncryption({ keys: { k1: key1 }, primary: 'k1' })(inner);
    await Promise.all(
      Array.from({ length: 12 }, (_, w) => store.addItems('s', [{ content: `w${w}-0` }, { content: `w${w}-1` }])),
    );
    await Promise.all([store.popItem('s'), store.popItem('s'), store.addItems('s', [{ content: 'late' }])]);
    const [newest] = await store.getItems('s', { limit: 1 });
    await store.applyHistoryTransaction('s', {
      operationId: 'op-1',
      transaction: { type: 'replace_suffix', expectedSuffix: [newest], replacement: [{ content: 'x' }, { content: 'y' }] },
    });
    const raw = await inner.getItems('s');
    expect(raw.map((stored) => envelope(stored).p)).toEqual(raw.map((_, i) => i));
    const items = await store.getItems('s');
    expect(items).toHaveLength(12 * 2 - 2 + 1 - 1 + 2);
    expect(await store.getItems('s', { limit: 5 })).toEqual(items.slice(-5));
    // A repeat of the applied transaction is recognised although it would now be sealed at other positions.
    await store.applyHistoryTransaction('s', {
      operationId: 'op-1',
      transaction: { type: 'replace_suffix', expectedSuffix: [newest], replacement: [{ content: 'x' }, { content: 'y' }] },
    });
    expect(await store.getItems('s')).toEqual(items);
  });

  it('an item moved within the session fails, also inside a limited read', async () => {
    const inner = new MemoryStore();
    const store = withEncryption({ keys: { k1: key1 }, primary: 'k1' })(inner);
    await store.addItems('s', [{ content: 'a' }, { content: 'b' }, { content: 'c' }]);
    const [a, b, c] = await inner.getItems('s');
    const rewrite = async (items: unknown[]) => {
      await inner.clearSession('s');
      await inner.addItems('s', items);
    };
    await rewrite([b, a, c]);
    await decryptionFails(() => store.getItems('s'));
    await rewrite([a, c, b]);
    await decryptionFails(() => store.getItems('s', { limit: 2 }));
    await rewrite([a, a, c]);
    await decryptionFails(() => store.getItems('s'));
    // A window that is not the whole history may start anywhere; the whole history must start at 0.
    await rewrite([b, c]);
    expect(await store.getItems('s', { limit: 2 })).toEqual([{ content: 'b' }, { content: 'c' }]);
    await decryptionFails(() => store.getItems('s'));
    await decryptionFails(() => store.getItems('s', { limit: 3 }));
  });

  it('uses a random nonce: the same item sealed twice at the same position under the same key differs', async () => {
    const inner = new MemoryStore();
    const store = withEncryption({ keys: { k1: key1 }, primary: 'k1' })(inner);
    const item = { role: 'user', content: 'same words' };
    await store.addItems('s', [item]);
    const [first] = (await inner.getItems('s')).map(envelope);
    expect(await store.popItem('s')).toEqual(item);
    await store.addItems('s', [item]);
    const [second] = (await inner.getItems('s')).map(envelope);
    expect(second!.p).toBe(first!.p);
    expect(second!.k).toBe(first!.k);
    expect(second!.n).not.toBe(first!.n);
    expect(second!.c).not.toBe(first!.c);
    // Also in other sessions with the same key.
    await store.addItems('u', [item, item]);
    await store.addItems('v', [item]);
    const forms = [...(await inner.getItems('u')), ...(await inner.getItems('v'))].map((e) => envelope(e).n);
    expect(new Set(forms).size).toBe(3);
    expect(await store.getItems('s')).toEqual([item]);
  });

  it('transactions send the stored forms they read (any key, or allowed plaintext), and repeats are no-ops', async () => {
    const inner = new MemoryStore();
    const store = withEncryption({ keys: { old: key2, k1: key1 }, primary: 'k1', allowPlaintext: true })(inner);
    await inner.addItems('s', [{ content: 'plain' }]);
    await withEncryption({ keys: { old: key2 }, primary: 'old', allowPlaintext: true })(inner).addItems('s', [{ content: 'old key' }]);
    await store.addItems('s', [{ content: 'a' }]);
    const args = {
      operationId: 'op-u',
      transaction: {
        type: 'replace_suffix' as const,
        expectedSuffix: [{ content: 'plain' }, { content: 'old key' }, { content: 'a' }],
        replacement: [{ content: 'summary' }],
      },
    };
    await store.applyHistoryTransaction('s', args);
    expect(await store.getItems('s')).toEqual([{ content: 'summary' }]);
    await store.addItems('s', [{ content: 'later' }]);
    await store.applyHistoryTransaction('s', args);
    await withEncryption({ keys: { k1: key1 }, primary: 'k1' })(inner).applyHistoryTransaction('s', args);
    expect(await store.getItems('s')).toEqual([{ content: 'summary' }, { content: 'later' }]);
    await expect(
      store.applyHistoryTransaction('s', { ...args, operationId: 'op-v' }),
    ).rejects.toMatchObject({ code: SessionErrorCode.Conflict });
    expect(await store.getItems('s')).toEqual([{ content: 'summary' }, { content: 'later' }]);
  });

  it('reencryptSession rewrites only the items not yet current, keeping the stored form of the others', async () => {
    const inner = new MemoryStore();
    await withEncryption({ keys: { old: key1 }, primary: 'old' })(inner).addItems('s', [{ content: 'one' }]);
    const rotated = withEncryption({ keys: { old: key1, new: key2 }, primary: 'new' })(inner);
    await rotated.addItems('s', [{ content: 'two' }]);
    const [, kept] = await inner.getItems('s');
    expect(await reencryptSession(rotated, 's')).toBe(1);
    const after = await inner.getItems('s');
    expect(after[1]).toEqual(kept);
    expect(after.map((e) => envelope(e).k)).toEqual(['new', 'new']);
    expect(await reencryptSession(rotated, 's')).toBe(0);
    expect(await inner.getItems('s')).toEqual(after);
  });

  it('composes: stacked under other decorators the backend still sees only ciphertext', async () => {
    const inner = new MemoryStore();
    const store = compose(inner, withEncryption({ keys: { k: key1 }, primary: 'k' }));
    await store.session('s').addItems([{ content: 'composed secret' }]);
    expect(JSON.stringify(await inner.getItems('s'))).not.toContain('composed');
  });
});

describe('deriveKey', () => {
  const fast = { opsLimit: 1, memLimit: 8192 };

  it('derives the same 32-byte key from the same passphrase and salt, and another from another salt', async () => {
    const first = await deriveKey('correct horse battery staple', undefined, fast);
    expect(first.key).toHaveLength(32);
    expect(first.salt).toHaveLength(16);
    const again = await deriveKey('correct horse battery staple', first.salt, fast);
    expect(Buffer.from(again.key).equals(Buffer.from(first.key))).toBe(true);
    const other = await deriveKey('correct horse battery staple', undefined, fast);
    expect(Buffer.from(other.key).equals(Buffer.from(first.key))).toBe(false);
    const wrong = await deriveKey('Correct horse battery staple', first.salt, fast);
    expect(Buffer.from(wrong.key).equals(Buffer.from(first.key))).toBe(false);
  });

  it('gives keys a store accepts and refuses bad salts', async () => {
    const { key } = await deriveKey('pass', new Uint8Array(16), fast);
    const store = withEncryption({ keys: { p: key }, primary: 'p' })(new MemoryStore());
    await store.addItems('s', [{ content: 'x' }]);
    expect(await store.getItems('s')).toEqual([{ content: 'x' }]);
    await expect(deriveKey('pass', new Uint8Array(8), fast)).rejects.toMatchObject({ code: SessionErrorCode.InvalidArgument });
    await expect(deriveKey('', undefined, fast)).rejects.toMatchObject({ code: SessionErrorCode.InvalidArgument });
  });
});

describe('passphrase key ring entries', () => {
  const fast = { opsLimit: 1, memLimit: 8192 };
  const passphrase = 'tr0ub4dor & 3 correct horses';

  it('store the salt and limits in each envelope: a store reopened with only the passphrase reads its history', async () => {
    const inner = new MemoryStore();
    const first = withEncryption({ keys: { p: { passphrase, ...fast } }, primary: 'p' })(inner);
    await first.addItems('s', [{ content: 'one' }, { content: 'two' }]);
    await first.addItems('t', [{ content: 'other session' }]);
    const raw = (await inner.getItems('s')).map(envelope);
    expect(raw.map((e) => Object.keys(e).sort())).toEqual([['$sk:enc', 'c', 'k', 'n', 'p', 's'], ['$sk:enc', 'c', 'k', 'n', 'p', 's']]);
    expect(raw[0]!.s).toMatch(/^a2id\.1\.8192\.[A-Za-z0-9+/]{22}==$/);
    expect(JSON.stringify(raw)).not.toContain(passphrase);

    // Another process: only the passphrase. It reads, keeps the session's salt for its appends, and pops.
    const reopened = withEncryption({ keys: { p: { passphrase, ...fast } }, primary: 'p' })(inner);
    expect(await reopened.getItems('s')).toEqual([{ content: 'one' }, { content: 'two' }]);
    await reopened.addItems('s', [{ content: 'three' }]);
    expect(new Set((await inner.getItems('s')).map((e) => envelope(e).s)).size).toBe(1);
    expect(await reopened.popItem('s')).toEqual({ content: 'three' });
    expect(await reopened.getItems('t')).toEqual([{ content: 'other session' }]);
    // A new session from the new store gets its own random salt; both stay readable.
    await reopened.addItems('u', [{ content: 'new' }]);
    expect(envelope((await inner.getItems('u'))[0]).s).not.toBe(raw[0]!.s);
    expect(await first.getItems('u')).toEqual([{ content: 'new' }]);

    // Transactions repeat as no-ops from another store with the same passphrase.
    const args = { operationId: 'op', transaction: { type: 'replace_suffix' as const, expectedSuffix: [{ content: 'two' }], replacement: [{ content: '2' }] } };
    await first.applyHistoryTransaction('s', args);
    await reopened.applyHistoryTransaction('s', args);
    expect(await reopened.getItems('s')).toEqual([{ content: 'one' }, { content: '2' }]);
  });

  it('a wrong passphrase fails with DECRYPTION_FAILED and no error carries the passphrase', async () => {
    const inner = new MemoryStore();
    await withEncryption({ keys: { p: { passphrase, ...fast } }, primary: 'p' })(inner).addItems('s', [{ content: 'secret' }]);
    const wrong = withEncryption({ keys: { p: { passphrase: 'Tr0ub4dor & 3 correct horses', ...fast } }, primary: 'p' })(inner);
    const errors = [await decryptionFails(() => wrong.getItems('s')), await decryptionFails(() => wrong.popItem('s'))];
    expect(await inner.getItems('s')).toHaveLength(1);
    // A raw key under the same id, a missing or planted salt header: refused too.
    const [stored] = (await inner.getItems('s')).map(envelope);
    errors.push(await decryptionFails(() => withEncryption({ keys: { p: key1 }, primary: 'p' })(inner).getItems('s')));
    const { s: _header, ...noSalt } = stored!;
    for (const planted of [noSalt, { ...stored, s: 'a2id.9.99999999999.AAAAAAAAAAAAAAAAAAAAAA==' }, { ...stored, s: 'nope' }]) {
      const t = new MemoryStore();
      await t.addItems('s', [planted]);
      errors.push(await decryptionFails(() => withEncryption({ keys: { p: { passphrase, ...fast } }, primary: 'p' })(t).getItems('s')));
    }
    try {
      withEncryption({ keys: { p: { passphrase, opsLimit: 0 } }, primary: 'p' })(inner);
    } catch (error) {
      expect(isSessionError(error, SessionErrorCode.InvalidArgument)).toBe(true);
      errors.push(error as Error);
    }
    expect(errors).toHaveLength(7);
    for (const error of errors) {
      const e = error as Error & { cause?: unknown };
      for (const text of [e.message, e.stack ?? '', JSON.stringify(e), inspect(e, { depth: 10 }), inspect(e.cause, { depth: 10 })]) {
        expect(text).not.toContain(passphrase);
      }
    }
    const inspected = inspect(wrong, { depth: 10, showHidden: true });
    expect(inspected).not.toContain(passphrase);
    expect(inspected).not.toContain(Buffer.from(passphrase).toString('hex'));
  });

  it('rotates from a passphrase to a raw key and back, and mixes both in one ring', async () => {
    const inner = new MemoryStore();
    await withEncryption({ keys: { p: { passphrase, ...fast } }, primary: 'p' })(inner).addItems('s', [{ content: 'by passphrase' }]);
    const rotated = withEncryption({ keys: { p: { passphrase, ...fast }, r: key1 }, primary: 'r' })(inner);
    await rotated.addItems('s', [{ content: 'by key' }]);
    expect((await inner.getItems('s')).map((e) => envelope(e).s === undefined)).toEqual([false, true]);
    expect(await reencryptSession(rotated, 's')).toBe(1);
    expect(await withEncryption({ keys: { r: key1 }, primary: 'r' })(inner).getItems('s')).toEqual([
      { content: 'by passphrase' },
      { content: 'by key' },
    ]);
  });
});
