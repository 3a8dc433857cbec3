import { describe, expect, it } from 'vitest';
// The pure seal/open, from source: what they leave behind in libsodium's memory is not visible through a store.
import { openItems, parseEnvelope, sealItems, type OpenRequest } from '../src/envelope.js';
import { deriveRing, sodium } from '../src/key-ring.js';
import { encodeItem } from '../src/codec.js';

const K = Uint8Array.from({ length: 32 }, (_, i) => 255 - i);

async function sealingKey() {
  const ring = await deriveRing(new Map([['k', Uint8Array.from(K)]]));
  return { id: 'k', key: ring.get('k')! };
}

interface SodiumModule {
  readonly HEAPU8: Uint8Array;
  _malloc(size: number): number;
  _free(pointer: number): void;
}
const wasm = () => (sodium() as unknown as { libsodium: SodiumModule }).libsodium;

/** libsodium's whole memory as it is now. */
function sodiumMemory(): Buffer {
  return Buffer.from(wasm().HEAPU8.buffer);
}

function open(sessionId: string, texts: readonly string[], key: OpenRequest['key']): unknown[] {
  const requests = texts.map((text) => ({ envelope: parseEnvelope(JSON.parse(text) as Record<string, unknown>), key }));
  return openItems(sessionId, requests).map((opened) => (typeof opened === 'string' ? JSON.parse(opened) : opened));
}

describe('sealItems and openItems', () => {
  it('draw a fresh nonce for every item, across batches and past the pool drawn ahead (1,024 nonces)', async () => {
    const sealing = await sealingKey();
    const item = encodeItem({ role: 'user', content: 'the same words every time' });
    const nonces = new Set<string>();
    let sealed = 0;
    for (let batch = 0; batch < 700; batch++) {
      const { envelopes } = sealItems('s', [item, item, item], sealed, sealing);
      for (const envelope of envelopes) {
        expect(Buffer.from(envelope.n, 'base64').byteLength).toBe(24);
        nonces.add(envelope.n);
      }
      sealed += envelopes.length;
    }
    expect(sealed).toBe(2100);
    expect(nonces.size).toBe(2100);
  });

  it('leave no plaintext and no key in libsodium’s memory once they return', async () => {
    const sealing = await sealingKey();
    const marker = 'plaintext-marker-7f3a9c';
    const items = [{ content: `${marker} one` }, { content: `${marker} two`.repeat(50) }];
    const { texts } = sealItems('s', items.map(encodeItem), 0, sealing);
    expect(sodiumMemory().includes(marker)).toBe(false);
    expect(sodiumMemory().includes(Buffer.from(sealing.key.encryption))).toBe(false);
    expect(open('s', texts, sealing.key)).toEqual(items);
    expect(sodiumMemory().includes(marker)).toBe(false);
    expect(sodiumMemory().includes(Buffer.from(sealing.key.encryption))).toBe(false);
  });

  it('seal and open an item larger than any before it, and small ones again after it', async () => {
    const sealing = await sealingKey();
    const small = { content: 'small' };
    const large = { content: 'é'.repeat(200_000), more: 'x'.repeat(100_000) };
    const first = sealItems('s', [encodeItem(small)], 0, sealing).texts;
    // Memory someone else allocated after the scratch: a seal needing more room must not write into it.
    const canary = wasm()._malloc(4096);
    sodiumMemory().fill(0xa5, canary, canary + 4096);
    const big = sealItems('s', [encodeItem(large)], 1, sealing).texts;
    expect(sodiumMemory().subarray(canary, canary + 4096).every((byte) => byte === 0xa5)).toBe(true);
    wasm()._free(canary);
    const after = sealItems('s', [encodeItem(small), encodeItem(small)], 2, sealing).texts;
    expect(open('s', [...first, ...big, ...after], sealing.key)).toEqual([small, large, small, small]);
    expect(sodiumMemory().includes('éééé')).toBe(false);
  });
});
