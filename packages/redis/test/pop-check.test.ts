/**
 * The check popItem's script runs before it removes an item (JSON_CHECK in
 * scripts.ts), run on a real server against JSON.parse: it must never vouch
 * for text JSON.parse refuses (a pop would then delete corrupt data), and it
 * should vouch for everything the codec writes (otherwise pops take the slow
 * path of two round trips).
 */
import { encodeItem } from '@sessionkit/core/adapter';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JSON_CHECK } from '../src/scripts.js';
import { jsonMutations, jsonParseAccepts } from '@sessionkit/test-servers';
import { skipLine, standaloneAvailable, standaloneTarget, type StandaloneTarget } from './setup.js';

if (!standaloneAvailable) console.warn(skipLine('redis pop-check tests'));

const CHECK_ALL = `${JSON_CHECK}
local out = {}
for k = 1, #ARGV do out[k] = parses(ARGV[k]) and 1 or 0 end
return out`;

const parses = jsonParseAccepts;

// Values the codec writes: escapes, non-ASCII, numbers in every form JSON.stringify prints, tags.
const encoded = [
  { type: 'message', role: 'user', content: 'hi' },
  { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Line one.\nHe said "hi" \\ \t\u0001 /', annotations: [] }] },
  { type: 'function_call', name: 'f', arguments: '{"city":"Paris","n":[1,2]}', callId: 'c1', status: 'completed' },
  { n: [0, -7, 123456789012, 0.5, -0.25, 1e21, 1.5e-7, -1e-300, Number.MAX_VALUE] },
  { flags: [true, false, null], empty: {}, none: [], nested: [[[{ a: [{}] }]]] },
  { text: 'é ü 中文 🎉 \u2028 \u007f', key: { '': '', '__proto__ ': 1 } },
  { bytes: new Uint8Array([0, 1, 2, 255]), '$sk:obj': 'user key' },
  'a bare string',
  42,
  null,
].map((value) => encodeItem(value));

describe.skipIf(!standaloneAvailable)('the pop script’s JSON check', () => {
  let target: StandaloneTarget;
  let redis: Redis;
  const check = async (texts: string[]) => (await redis.eval(CHECK_ALL, 0, ...texts)) as number[];

  beforeAll(async () => {
    target = await standaloneTarget();
    redis = new Redis(target.url);
  });
  afterAll(async () => {
    redis?.disconnect();
    await target?.stop();
  });

  it('vouches for everything the codec writes', async () => {
    expect(await check(encoded)).toEqual(encoded.map(() => 1));
  });

  it('refuses what cjson accepts and JSON.parse does not', async () => {
    const lax = [
      '0x1F', '[01]', '[-01]', '1.', '[1.e5]', '[-.5]', '[0.]', '+1', '[NaN]', '[nan]', '-inf', '{"a":Infinity}',
      '"a\u0001b"', '"tab\there"', '{"a":1}\u0000x', '{"a":01,"a":"x"}', '[1,]', '{"a": ', 'truex', '[tru]',
      '"\\x"', '"\\u12"', '[1\\"5]', '',
    ];
    for (const text of lax) expect(parses(text), text).toBe(false);
    expect(await check(lax)).toEqual(lax.map(() => 0));
  });

  it('leaves to the client what JSON.parse takes but the check cannot prove (whitespace, lone surrogate escapes, depth)', async () => {
    const unsure = ['[1,\n2]', '{"a":\t1}', '"\\ud800"', `${'['.repeat(1100)}${']'.repeat(1100)}`];
    for (const text of unsure) expect(parses(text)).toBe(true);
    expect(await check(unsure)).toEqual(unsure.map(() => 0));
  });

  it('never vouches for a corrupted text: 30,000 random edits of valid ones', async () => {
    const alphabet = [
      '\\', '"', '0', '1', '9', '-', '+', '.', 'e', 'E', 'x', ' ', '\t', '\n', '\r', '{', '}', '[', ']', ',', ':',
      'u', 'a', 'f', 'n', 't', 'r', 'l', 's', 'I', 'N', '/', 'b', '\u0000', '\u0001', '\u001f', '\u007f', 'é', '$',
    ];
    const bases = [...encoded, '{"a":[1,-2.5e+3,true,null,"x\\"y"],"b":{}}', '[0,-0.5,"\\u00e9\\n"]'];
    const texts = jsonMutations({ bases, alphabet, count: 30_000, seed: 14 });
    const unsound: string[] = [];
    let vouched = 0;
    for (let k = 0; k < texts.length; k += 1000) {
      const chunk = texts.slice(k, k + 1000);
      const verdicts = await check(chunk);
      chunk.forEach((text, j) => {
        if (verdicts[j] !== 1) return;
        vouched++;
        if (!parses(text)) unsound.push(text);
      });
    }
    expect(unsound).toEqual([]);
    // The edits must also reach the path that vouches, or the test proves nothing.
    expect(vouched).toBeGreaterThan(3000);
  });
});
