/**
 * Deep copies of items that were already decoded (plain objects, arrays,
 * strings, finite numbers, booleans, null, Uint8Array): what a decorator that
 * keeps items in memory hands out, so a caller mutating a result never
 * changes what is kept. About 4× cheaper than `JSON.parse` of the encoded
 * form, and no validation: the values were validated when they were stored.
 */

/** A deep copy of a decoded item; every object, array and Uint8Array is new. */
export function copyItem<T>(value: T): T {
  return copy(value) as T;
}

function copy(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    const length = value.length;
    const out = new Array<unknown>(length);
    for (let i = 0; i < length; i++) out[i] = copy(value[i]);
    return out;
  }
  if (value instanceof Uint8Array) return new Uint8Array(value);
  // A spread clones the own properties in one step (V8 copies the shape): 1.4–2.7× faster than adding them one
  // by one. An own "__proto__" stays an own data property, so assigning it below replaces the property, never
  // the prototype. Then only the object-valued properties are replaced by their copies.
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  const keys = Object.keys(out);
  for (let i = 0; i < keys.length; i++) {
    const child = out[keys[i]!];
    if (typeof child === 'object' && child !== null) out[keys[i]!] = copy(child);
  }
  return out;
}

const STRING_OVERHEAD = 16;
const OBJECT_OVERHEAD = 32;
const SLOT = 16;

/**
 * Approximate bytes a decoded item takes on the JS heap: 2 per string
 * character (UTF-16, an upper bound) plus a fixed overhead per string,
 * object, array element and property. Used for cache budgets; it only has to
 * grow with the real size, not match it.
 */
export function itemSize(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return STRING_OVERHEAD + value.length * 2;
    case 'object':
      break;
    default:
      return SLOT;
  }
  if (value === null) return SLOT;
  if (Array.isArray(value)) {
    let size = OBJECT_OVERHEAD;
    for (let i = 0; i < value.length; i++) size += SLOT + itemSize(value[i]);
    return size;
  }
  if (value instanceof Uint8Array) return OBJECT_OVERHEAD + value.byteLength;
  let size = OBJECT_OVERHEAD;
  for (const key of Object.keys(value)) size += SLOT + itemSize((value as Record<string, unknown>)[key]);
  return size;
}
