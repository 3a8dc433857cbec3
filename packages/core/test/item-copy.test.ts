import { describe, expect, it } from 'vitest';
import { decodeItem, encodeItem } from '@sessionkit/core/adapter';
import { copyItem } from '../src/item-copy.js';

/** Every object, array and Uint8Array reachable from `value`, in walk order. */
function containers(value: unknown, out: object[] = []): object[] {
  if (typeof value !== 'object' || value === null) return out;
  out.push(value);
  if (value instanceof Uint8Array) return out;
  for (const child of Object.values(value)) containers(child, out);
  return out;
}

// What withCache and withEncryption's memory hand out on a hit: a caller mutating it must never reach what they keep.
describe('copyItem', () => {
  const items: [string, unknown][] = [
    ['a runner message', decodeItem(encodeItem({ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] }))],
    ['nesting, nulls and numbers', { a: [1, [2, [3, { b: [] }]], {}], n: null, z: 0, f: 1.5, t: true, s: '' }],
    ['Uint8Array', { data: new Uint8Array([0, 1, 254]), nested: [new Uint8Array(0)] }],
    ['__proto__ as a key', JSON.parse('{"__proto__": {"inner": [1]}, "x": {"y": 1}}')],
    ['a primitive', 'text'],
  ];

  it.each(items)('%s: an equal value sharing no object, array or byte array', (_name, value) => {
    const copy = copyItem(value);
    expect(copy).toEqual(value);
    const originals = new Set(containers(value));
    for (const object of containers(copy)) expect(originals.has(object)).toBe(false);
  });

  it('keeps an own "__proto__" key an own property (never the prototype) and copies what it holds', () => {
    const value = JSON.parse('{"__proto__": {"polluted": true}, "x": 1}') as Record<string, unknown>;
    const copy = copyItem(value);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.hasOwn(copy, '__proto__')).toBe(true);
    expect(Object.keys(copy)).toEqual(['__proto__', 'x']);
    const inner = Object.getOwnPropertyDescriptor(copy, '__proto__')!.value as Record<string, unknown>;
    expect(inner).toEqual({ polluted: true });
    expect(inner).not.toBe(Object.getOwnPropertyDescriptor(value, '__proto__')!.value);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('a mutation of the copy, at any depth, leaves the original as it was', () => {
    const value = { content: [{ type: 'output_text', text: 'a', annotations: [{ n: 1 }] }], bytes: new Uint8Array([1, 2]) };
    const before = structuredClone(value);
    const copy = copyItem(value);
    copy.content[0]!.text = 'changed';
    copy.content[0]!.annotations[0]!.n = 2;
    copy.content.push({ type: 'x', text: 'y', annotations: [] });
    copy.bytes[0] = 9;
    expect(value).toEqual(before);
  });
});
