import { describe, expect, it } from 'vitest';
import { SessionError, SessionErrorCode } from '@sessionkit/core';
import { canonicalize, decodeItem, encodeItem, encodeItems, MAX_ITEM_DEPTH } from '@sessionkit/core/adapter';

const roundTrip = (value: unknown) => decodeItem(encodeItem(value));

function nested(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i++) value = { child: value };
  return value;
}

describe('codec: values that round-trip exactly', () => {
  it.each([
    ['null', null],
    ['booleans and strings', { a: true, b: false, s: 'x', empty: '' }],
    ['unicode, astral and lone surrogates', { s: 'héllo 👋 日本 עברית \u0000 \ud800 \udfff' }],
    ['number edges', [Number.MAX_SAFE_INTEGER, Number.MIN_VALUE, -Number.MAX_VALUE, 0.1, 1e21, -1e-7, 0]],
    ['arrays and nesting', { a: [1, [2, [3, { b: [] }]], {}] }],
    ['__proto__ as a key', JSON.parse('{"__proto__": {"polluted": true}, "x": 1}')],
    ['tag-shaped keys', { '$sk:bytes': 'AAEC', nested: { '$sk:obj': { '$sk:bytes': 1 } } }],
    ['Uint8Array', { data: new Uint8Array([0, 1, 2, 254, 255]), empty: new Uint8Array(0) }],
    ['null-prototype objects', Object.assign(Object.create(null), { a: 1 })],
  ])('%s', (_name, value) => {
    const result = roundTrip(value);
    expect(result).toEqual(value);
    if (value && typeof value === 'object' && Object.hasOwn(value, '__proto__')) {
      expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    }
  });

  it(`accepts nesting up to ${MAX_ITEM_DEPTH} levels`, () => {
    expect(roundTrip(nested(MAX_ITEM_DEPTH))).toEqual(nested(MAX_ITEM_DEPTH));
  });

  it('reads a Buffer back as a plain Uint8Array with the same bytes', () => {
    const result = roundTrip({ b: Buffer.from('hi') }) as { b: Uint8Array };
    expect(Object.getPrototypeOf(result.b)).toBe(Uint8Array.prototype);
    expect([...result.b]).toEqual([104, 105]);
  });

  it('drops object properties whose value is undefined, as JSON does', () => {
    expect(roundTrip({ a: 1, b: undefined })).toEqual({ a: 1 });
    expect(Object.keys(roundTrip({ a: 1, b: undefined }) as object)).toEqual(['a']);
  });

  it('never emits a raw newline (adapters may store newline-delimited items)', () => {
    expect(encodeItem({ s: 'a\nb\r\nc\u2028' })).not.toMatch(/[\n\r]/);
  });

  it('allows shared (non-cyclic) references', () => {
    const shared = { x: 1 };
    expect(roundTrip({ a: shared, b: shared })).toEqual({ a: { x: 1 }, b: { x: 1 } });
  });
});

describe('codec: values that are refused with INVALID_ITEM', () => {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  const sparse = [1, , 3]; // eslint-disable-line no-sparse-arrays
  class Custom {
    x = 1;
  }
  it.each([
    ['undefined item', undefined],
    ['function', { f: () => 1 }],
    ['symbol value', { s: Symbol('x') }],
    ['symbol key', { [Symbol('k')]: 1 }],
    ['BigInt', { n: 10n }],
    ['NaN', { n: NaN }],
    ['Infinity', [Infinity]],
    ['negative zero', { z: -0 }],
    ['cycle', cyclic],
    ['sparse array', sparse],
    ['undefined in array', [1, undefined]],
    ['Date', { d: new Date() }],
    ['Map', new Map()],
    ['class instance', new Custom()],
    ['other typed arrays', { t: new Uint16Array(2) }],
    ['one level too deep', nested(MAX_ITEM_DEPTH + 1)],
    ['one level too deep, as arrays', Array.from({ length: MAX_ITEM_DEPTH }).reduce<unknown>((inner) => [inner], [])],
  ])('%s', (_name, value) => {
    let error: unknown;
    try {
      encodeItem(value);
    } catch (e) {
      error = e;
    }
    expect(SessionError.is(error, SessionErrorCode.InvalidItem)).toBe(true);
  });

  it('names the failing index of a batch but never its contents', () => {
    const secret = 'sk-very-secret-value';
    try {
      encodeItems([{ ok: secret }, { bad: () => secret, [secret]: 1 }]);
      expect.unreachable();
    } catch (error) {
      expect((error as SessionError).code).toBe(SessionErrorCode.InvalidItem);
      expect((error as SessionError).message).toContain('items[1]');
      expect((error as SessionError).message).not.toContain(secret);
      expect((error as SessionError).message).not.toContain('bad');
    }
  });

  it('refuses a non-array batch with INVALID_ARGUMENT', () => {
    expect(() => encodeItems('nope' as unknown as unknown[])).toThrow(
      expect.objectContaining({ code: SessionErrorCode.InvalidArgument }),
    );
  });
});

describe('codec: decoding', () => {
  it('reports invalid JSON as CORRUPT_DATA with the parse error as cause', () => {
    try {
      decodeItem('{not json');
      expect.unreachable();
    } catch (error) {
      expect(SessionError.is(error, SessionErrorCode.CorruptData)).toBe(true);
      expect((error as SessionError).cause).toBeInstanceOf(SyntaxError);
    }
  });

  it('canonicalize ignores key order but not values', () => {
    expect(canonicalize('{"a":1,"b":{"d":2,"c":3}}')).toBe(canonicalize('{"b":{"c":3,"d":2},"a":1}'));
    expect(canonicalize('{"a":1}')).not.toBe(canonicalize('{"a":2}'));
    expect(canonicalize('[1,2]')).not.toBe(canonicalize('[2,1]'));
  });
});

describe('codec: stores what it validated, one read of each property', () => {
  it('refuses an item whose getter throws with INVALID_ITEM, the getter’s error as cause', () => {
    const boom = new Error('getter failed');
    const item = {
      role: 'user',
      get content(): string {
        throw boom;
      },
    };
    for (const encode of [() => encodeItem(item), () => encodeItems([{ ok: 1 }, item])]) {
      let caught: unknown;
      try {
        encode();
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(SessionError);
      expect((caught as SessionError).code).toBe(SessionErrorCode.InvalidItem);
      expect((caught as SessionError).cause).toBe(boom);
    }
  });

  it('refuses a revoked Proxy with INVALID_ITEM, the TypeError as cause', () => {
    const { proxy, revoke } = Proxy.revocable({ role: 'user', content: 'hi' }, {});
    revoke();
    let caught: unknown;
    try {
      encodeItem({ nested: proxy });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(SessionError);
    expect((caught as SessionError).code).toBe(SessionErrorCode.InvalidItem);
    expect((caught as SessionError).cause).toBeInstanceOf(TypeError);
  });

  it('ignores a non-enumerable toJSON: the stored item is the data that was validated', () => {
    const item = { role: 'user', content: 'hi' };
    Object.defineProperty(item, 'toJSON', { value: () => ({ role: 'system', content: 'replaced' }), enumerable: false });
    const nestedArray = [1, 2];
    Object.defineProperty(nestedArray, 'toJSON', { value: () => 'replaced', enumerable: false });
    expect(roundTrip(item)).toEqual({ role: 'user', content: 'hi' });
    expect(roundTrip({ list: nestedArray })).toEqual({ list: [1, 2] });
  });

  it('reads each property once: a getter answering differently later cannot change what is stored', () => {
    let reads = 0;
    const item = {
      role: 'user',
      get content(): unknown {
        reads += 1;
        // First read a valid string; any later read a value the codec refuses.
        return reads === 1 ? 'first' : () => 'second';
      },
    };
    expect(roundTrip(item)).toEqual({ role: 'user', content: 'first' });
    expect(reads).toBe(1);
  });
});

describe('codec: encodeItems hands back the batch as decoding gives it', () => {
  const values: [string, unknown][] = [
    ['plain', { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] }],
    ['number edges', [Number.MAX_SAFE_INTEGER, Number.MIN_VALUE, 0.1, 1e21, -1e-7, 0]],
    ['lone surrogates', { s: '\ud800 \udfff \u0000' }],
    ['integer-like keys out of order', { b: 1, 2: 'two', a: 2, 1: 'one' }],
    ['__proto__ as a key', JSON.parse('{"__proto__": {"polluted": true}, "x": 1}')],
    ['tag-shaped keys', { '$sk:bytes': 'AAEC', nested: { '$sk:obj': { '$sk:bytes': 1 } } }],
    ['Uint8Array', { data: new Uint8Array([0, 1, 2, 254, 255]) }],
    ['undefined properties', { a: 1, b: undefined }],
  ];

  it.each(values)('%s: equal to decoding the text, key order and prototypes included', (_name, value) => {
    const decoded: unknown[] = [];
    const encoded = encodeItems([value, { after: true }], decoded);
    const parsed = encoded.map(decodeItem);
    expect(decoded).toEqual(parsed);
    expect(decoded.map((item) => JSON.stringify(item))).toEqual(parsed.map((item) => JSON.stringify(item)));
    expect(decoded.map((item) => (item && typeof item === 'object' ? Object.getPrototypeOf(item) : null))).toEqual(
      parsed.map((item) => (item && typeof item === 'object' ? Object.getPrototypeOf(item) : null)),
    );
    expect(Object.hasOwn(decoded[0] as object, '__proto__')).toBe(Object.hasOwn(parsed[0] as object, '__proto__'));
  });

  it('a getter that encodes another item meanwhile does not change what this one hands back', () => {
    const item = {
      data: new Uint8Array([1, 2]),
      get later() {
        encodeItem({ plain: true });
        return 'x';
      },
    };
    const decoded: { data: unknown }[] = [];
    const encoded = encodeItems([item], decoded);
    expect(decoded[0]!.data).toBeInstanceOf(Uint8Array);
    expect(decoded).toEqual(encoded.map(decodeItem));
  });

  it('hands back fresh values: changing them changes neither the caller’s items nor the texts', () => {
    const item = { content: [{ text: 'original' }] };
    const decoded: { content: { text: string }[] }[] = [];
    const encoded = encodeItems([item], decoded);
    expect(decoded[0]).not.toBe(item);
    expect(decoded[0]!.content).not.toBe(item.content);
    decoded[0]!.content[0]!.text = 'changed';
    expect(item.content[0]!.text).toBe('original');
    expect(decodeItem(encoded[0]!)).toEqual({ content: [{ text: 'original' }] });
  });
});
