/**
 * popItem in one statement (`popOne`) deletes the newest item only when
 * PostgreSQL's JSON parser accepts it and it holds none of core's tag keys. That keeps
 * the contract's rule (a pop never deletes an item the codec cannot decode)
 * only if PostgreSQL accepts nothing `JSON.parse` refuses, and if core still
 * writes a tag key into every item whose decoding does more than `JSON.parse`. Both are checked
 * here, with the items that take the two-step path and racing pops.
 */
import { SessionErrorCode } from '@sessionkit/core';
import { decodeItem, encodeItem } from '@sessionkit/core/adapter';
import { describe, expect, it } from 'vitest';
import { TAG_KEYS } from '../src/statements.js';
import { jsonMutations, jsonParseAccepts } from '@sessionkit/test-servers';
import { injectCorruptRow } from './harness.js';
import { testResources } from './resources.js';
import { postgresTarget, skipLine, uniqueSchema } from './server.js';

const target = await postgresTarget();
if ('skip' in target) {
  console.warn(skipLine('postgres pop tests', target.skip));
  describe.skip('PostgresStore popItem', () => it('needs PostgreSQL', () => {}));
} else {
  const url = target.url;
  const opened = testResources(target);
  const open = (schema: string, max = 4) => opened.store(schema, { max });

  const jsAccepts = jsonParseAccepts;

  /** Texts at the edges of JSON syntax, and single-character mutations of real encoded items. */
  function candidates(): string[] {
    const edges = [
      '"\\ud800"', '"\\udc00x"', '"\\u0000"', '1e400', '-0', '01', '-01', '1.', '.5', '+1', '2.e3', '1e', '0x10',
      'NaN', 'Infinity', '-Infinity', 'tru', 'nul', '[tRue]', "'a'", '"\t"', '"\u007f"', '"\u2028"', ' [1] ',
      '[1]\u00a0', '\ufeff[1]', '[1]\f', '[1]\v', '\u000b1', '[1,]', '{"a":1,}', '{a:1}', '"\\x"', '"\\U0041"',
      '"\\u12"', '"\\u12G4"', '1 2', '', ' ', '"abc', '{"a":1}{"b":2}', '[1]]', '{"a"}', '{"a":}', '{:1}', '[,1]',
      '"\\/"', '{"a" :1 }', '\r\n[1]\r\n', '[1e-5, 1E+5, -0.0e0]', '{"__proto__": 1}', '{"a":1,"a":2}',
    ];
    const seeds = [
      encodeItem({ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'héllo "quoted" \\ \n\t 🎉' }] }),
      encodeItem({ n: [0, -1.5, 1e21, 123456789012345680000, 5e-324, true, false, null], s: '\u0001\u001f\u2028' }),
      encodeItem({ type: 'function_call', arguments: '{"x":[1,2,{"y":null}]}', callId: 'c_1', nested: { a: { b: [[], {}] } } }),
    ];
    const alphabet = ['{', '}', '[', ']', '"', ',', ':', '\\', ' ', '0', '1', '9', 'e', 'E', '+', '-', '.', 't', 'n',
      'u', 'f', 'a', 'l', 'r', 's', '/', '\t', '\n', '\r', '\u000b', '\f', '\u00a0', '\ufeff', '\u2028', '\u0001', 'x', 'é', '🎉', 'd8', 'DC00'];
    return [...edges, ...seeds, ...jsonMutations({ bases: seeds, alphabet, count: 6000, seed: 0x5e55 })];
  }

  describe('PostgresStore popItem', () => {
    it('PostgreSQL accepts as json nothing JSON.parse refuses (so popOne never deletes what the codec cannot decode)', async () => {
      const client = await opened.client();
      // The same cast popOne uses, one text at a time: a refused text fails only its own call.
      await client.query(`CREATE FUNCTION pg_temp.accepts(t text) RETURNS boolean LANGUAGE plpgsql AS $$
        BEGIN PERFORM json_typeof(t::json); RETURN true; EXCEPTION WHEN others THEN RETURN false; END $$`);
      const texts = candidates();
      const { rows } = await client.query<{ ok: boolean }>('SELECT pg_temp.accepts(t) AS ok FROM unnest($1::text[]) WITH ORDINALITY AS u(t, i) ORDER BY i', [texts]);
      expect(rows).toHaveLength(texts.length);
      const accepted = texts.filter((_, i) => rows[i]!.ok);
      const wrongly = accepted.filter((text) => !jsAccepts(text));
      expect(wrongly, 'PostgreSQL accepted texts JSON.parse refuses').toEqual([]);
      // The corpus exercises both sides, so the check above could fail.
      expect(accepted.length).toBeGreaterThan(500);
      expect(texts.length - accepted.length).toBeGreaterThan(500);
    }, 60_000);

    it("core writes one of popOne's tag keys into every item whose decoding does more than JSON.parse", () => {
      const holdsTagKey = (text: string) => TAG_KEYS.some((key) => text.includes(key));
      const bytes = encodeItem({ image: new Uint8Array([1, 2, 3]) });
      const tagKey = encodeItem({ '$sk:bytes': 'not bytes', '$sk:obj': 1 });
      for (const encoded of [bytes, tagKey]) {
        expect(holdsTagKey(encoded)).toBe(true);
        expect(decodeItem(encoded)).not.toEqual(JSON.parse(encoded));
      }
      // No tag key: decoding is JSON.parse alone, also for other `$sk:` names (encryption's envelopes).
      for (const encoded of [encodeItem({ text: 'no tags', n: [1, 2] }), '{"$sk:enc":"AAAA","v":1}', '["$sk:", "$sk:byte"]']) {
        expect(holdsTagKey(encoded)).toBe(false);
        expect(decodeItem(encoded)).toEqual(JSON.parse(encoded));
      }
    });

    it('a tagged item that cannot be decoded stays in place; tagged items pop in order by the two-step path', async () => {
      const schema = uniqueSchema('poptag');
      const store = open(schema);
      await store.addItems('s', [{ n: 1 }, { bytes: new Uint8Array([7, 8]) }, { n: 3 }]);
      // Valid JSON for PostgreSQL and for JSON.parse, but decodeItem's walk over a tagged value this deep
      // throws: popOne must not be the one to delete it.
      const deep = `${'['.repeat(5_000)}"$sk:bytes"${']'.repeat(5_000)}`;
      expect(() => decodeItem(deep)).toThrow();
      await injectCorruptRow(url, schema, 's', deep);
      await expect(store.popItem('s')).rejects.toThrow();
      await expect(store.popItem('s')).rejects.toThrow();
      expect((await store.getSessionInfo('s'))?.itemCount).toBe(4);
      // Clearing recovers; tagged and plain items then pop newest first.
      await store.clearSession('s');
      await store.addItems('s', [{ n: 1 }, { bytes: new Uint8Array([7, 8]) }, { n: 3 }]);
      expect(await store.popItem('s')).toEqual({ n: 3 });
      expect(await store.popItem('s')).toEqual({ bytes: new Uint8Array([7, 8]) });
      expect(await store.popItem('s')).toEqual({ n: 1 });
      expect(await store.popItem('s')).toBeUndefined();
    }, 30_000);

    it('an item PostgreSQL refuses and JSON.parse accepts is popped (JS judges), one neither accepts is CORRUPT_DATA and stays', async () => {
      const schema = uniqueSchema('poprefused');
      const store = open(schema);
      await store.addItems('s', [{ n: 1 }]);
      // Nesting deeper than PostgreSQL's stack limit: popOne fails (54001) and changes nothing.
      const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
      expect(jsAccepts(deep)).toBe(true);
      await injectCorruptRow(url, schema, 's', deep);
      const popped = await store.popItem('s');
      expect(Array.isArray(popped)).toBe(true);
      expect(await store.getItems('s')).toEqual([{ n: 1 }]);
      await injectCorruptRow(url, schema, 's', '{"a": NaN}');
      await expect(store.popItem('s')).rejects.toMatchObject({ code: SessionErrorCode.CorruptData });
      expect((await store.getSessionInfo('s'))?.itemCount).toBe(2);
    }, 30_000);

    it('16 concurrent pops over four stores on a mixed plain and tagged history: each item once, the rest stays in order', async () => {
      const schema = uniqueSchema('poprace');
      const handles = Array.from({ length: 4 }, () => open(schema, 4));
      const items = Array.from({ length: 12 }, (_, n) => (n % 3 === 0 ? { n, bytes: new Uint8Array([n]) } : { n }));
      await handles[0]!.addItems('hot', items);
      for (let round = 0; round < 3; round++) {
        const popped = (await Promise.all(Array.from({ length: 16 }, (_, i) => handles[i % 4]!.popItem('hot')))).filter(
          (item) => item !== undefined,
        );
        const remaining = await handles[0]!.getItems('hot');
        const ns = popped.map((item) => item.n as number);
        expect(new Set(ns).size).toBe(ns.length);
        expect(ns.length).toBe(items.length);
        expect([...ns].sort((a, b) => a - b)).toEqual(items.map((item) => item.n));
        expect(popped.find((item) => item.n === 3)).toEqual(items[3]);
        expect(remaining).toEqual([]);
        await handles[0]!.addItems('hot', items);
      }
      // Eight pops against an append racing them: what remains is a prefix of what was there.
      const [pops] = await Promise.all([
        Promise.all(Array.from({ length: 8 }, (_, i) => handles[i % 4]!.popItem('hot'))),
        handles[1]!.addItems('hot', [{ n: 100 }, { n: 101 }]),
      ]);
      const remaining = await handles[0]!.getItems('hot');
      expect(remaining.length + pops.filter((p) => p !== undefined).length).toBe(items.length + 2);
    }, 60_000);
  });
}
