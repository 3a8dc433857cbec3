import { SessionError, SessionErrorCode } from './errors.js';

/**
 * The item codec shared by every adapter: an item becomes one JSON string that
 * decodes to an equal value, or it is refused before anything is written.
 *
 * Accepted: null, booleans, strings, finite numbers (not -0), arrays, plain
 * objects (prototype Object.prototype or null) and Uint8Array (Buffer reads
 * back as a plain Uint8Array). Object properties whose value is `undefined`
 * are dropped, as JSON does. Everything else is refused with INVALID_ITEM:
 * functions, symbols, BigInt, NaN/Infinity, -0, cycles, sparse arrays,
 * `undefined` inside arrays, symbol keys, class instances (Date, Map, ...),
 * and nesting deeper than {@link MAX_ITEM_DEPTH}.
 */

/** One encoded item as adapters store it. Never contains a raw newline. */
export type EncodedItem = string;

/** Maximum nesting depth of an item. Deeper values are refused, not truncated. */
export const MAX_ITEM_DEPTH = 512;

// Tags for values JSON cannot carry. A user object that happens to use a tag
// key is wrapped in OBJ_TAG, so decoding is unambiguous.
const BYTES_TAG = '$sk:bytes';
const OBJ_TAG = '$sk:obj';
// What a text holding a tag must contain. It starts with '$', which JSON text rarely holds, not with the
// quote before it: a substring search skips ahead to its first character, and items are full of quotes
// (measured on 300-byte items: 6× faster, from ~16% of a full read's decoding to ~3%).
const TAG_MARKER = '$sk:';
const BYTES_REST = `${BYTES_TAG.slice(TAG_MARKER.length)}"`;
const OBJ_REST = `${OBJ_TAG.slice(TAG_MARKER.length)}"`;

function invalid(what: string, depth: number): SessionError {
  // Names the problem and its depth only: keys and values are item content
  // and stay out of errors.
  return new SessionError(SessionErrorCode.InvalidItem, `item is not storable: ${what} at depth ${depth}`);
}

/** An object literal or `Object.create(null)`: what an item's object, or an options bag, must be. */
export function isPlainObject(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

// Validation reads each property once and builds a plain copy of what it
// read; the copy is what gets serialized. So what is stored is exactly what
// was checked, whatever a getter or Proxy would answer on a second read, and
// no `toJSON` (enumerable or not) is ever consulted: the copy has none.
// `ancestors[0..depth)` are the objects above this one: a cycle is a value
// among them. Scanning them beats a Set, which hashes every object visited.
/** One copy's state: `tagged` is set when the copy holds a tag (then it is not what decoding its text gives). */
interface CopyState {
  tagged: boolean;
}

function copy(value: unknown, depth: number, ancestors: object[], state: CopyState): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw invalid('non-finite number', depth);
      if (Object.is(value, -0)) throw invalid('negative zero', depth);
      return value;
    case 'object':
      break;
    default:
      throw invalid(`unsupported type ${typeof value}`, depth);
  }
  if (value === null) return null;
  // The item itself is depth 0: objects and arrays at depths 0 to MAX_ITEM_DEPTH - 1 are MAX_ITEM_DEPTH levels.
  if (depth >= MAX_ITEM_DEPTH) throw invalid(`nesting deeper than ${MAX_ITEM_DEPTH}`, depth);
  if (value instanceof Uint8Array) {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Uint8Array.prototype && proto !== Buffer.prototype) {
      throw invalid('unsupported Uint8Array subclass', depth);
    }
    state.tagged = true;
    return { [BYTES_TAG]: toBase64(value) };
  }
  for (let i = 0; i < depth; i++) if (ancestors[i] === value) throw invalid('circular reference', depth);
  ancestors[depth] = value;
  let out: unknown;
  if (Array.isArray(value)) {
    if (Object.getPrototypeOf(value) !== Array.prototype) throw invalid('array subclass', depth);
    const length = value.length;
    const array = new Array<unknown>(length);
    for (let i = 0; i < length; i++) {
      if (!(i in value)) throw invalid('sparse array', depth);
      const element: unknown = value[i];
      if (element === undefined) throw invalid('undefined in array', depth);
      array[i] = copy(element, depth + 1, ancestors, state);
    }
    out = array;
  } else {
    if (!isPlainObject(value)) throw invalid('class instance', depth);
    if (Object.getOwnPropertySymbols(value).some((s) => Object.prototype.propertyIsEnumerable.call(value, s))) {
      throw invalid('symbol key', depth);
    }
    const record: Record<string, unknown> = {};
    let tagged = false;
    for (const key of Object.keys(value)) {
      const child = (value as Record<string, unknown>)[key];
      if (child === undefined) continue;
      if (key === BYTES_TAG || key === OBJ_TAG) tagged = true;
      setOwn(record, key, copy(child, depth + 1, ancestors, state));
    }
    // A user object using a tag key is wrapped, so decoding is unambiguous.
    if (tagged) state.tagged = true;
    out = tagged ? { [OBJ_TAG]: record } : record;
  }
  return out;
}

// `out[key] = v` with key "__proto__" would set the prototype instead of a property.
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/**
 * Validates and encodes one item. Throws INVALID_ITEM (nothing written) if it
 * cannot round-trip, including when reading it throws (a getter, a revoked
 * Proxy): that error is the `cause`.
 */
export function encodeItem(item: unknown): EncodedItem {
  return JSON.stringify(validatedCopy(item));
}

/** The plain copy that encodeItem serialises (see {@link copy}); `state.tagged` tells whether it holds a tag. */
function validatedCopy(item: unknown, state: CopyState = { tagged: false }): unknown {
  if (item === undefined) throw invalid('undefined', 0);
  try {
    return copy(item, 0, [], state);
  } catch (error) {
    if (SessionError.is(error)) throw error;
    throw new SessionError(SessionErrorCode.InvalidItem, 'item is not storable: reading it threw', { cause: error });
  }
}

/**
 * Validates and encodes a whole batch before any of it is written. The error
 * names the failing item's index. With `decoded`, also fills it with each
 * item as decoding its text gives it, without parsing: the validated copy
 * itself when it holds no tag (a fresh plain value nothing else references),
 * else the text decoded.
 */
export function encodeItems(items: readonly unknown[], decoded?: unknown[]): EncodedItem[] {
  if (!Array.isArray(items)) {
    throw new SessionError(SessionErrorCode.InvalidArgument, 'items must be an array');
  }
  const out = new Array<EncodedItem>(items.length);
  for (let i = 0; i < items.length; i++) {
    try {
      const state: CopyState = { tagged: false };
      const value = validatedCopy(items[i], state);
      const text = JSON.stringify(value);
      out[i] = text;
      if (decoded !== undefined) decoded[i] = state.tagged ? decodeItem(text) : value;
    } catch (error) {
      if (SessionError.is(error)) {
        throw new SessionError(error.code, `items[${i}]: ${error.message}`, { cause: error.cause });
      }
      throw error;
    }
  }
  return out;
}

function revive(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(revive);
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length === 1) {
    if (keys[0] === BYTES_TAG && typeof record[BYTES_TAG] === 'string') {
      return new Uint8Array(Buffer.from(record[BYTES_TAG], 'base64'));
    }
    if (keys[0] === OBJ_TAG && typeof record[OBJ_TAG] === 'object' && record[OBJ_TAG] !== null) {
      const inner = record[OBJ_TAG] as Record<string, unknown>;
      for (const key of Object.keys(inner)) inner[key] = revive(inner[key]);
      return inner;
    }
  }
  for (const key of keys) record[key] = revive(record[key]);
  return record;
}

/** Decodes one stored item. Throws CORRUPT_DATA (with the parse error as cause) if it is not valid. */
export function decodeItem(encoded: EncodedItem): unknown {
  if (typeof encoded !== 'string') {
    throw new SessionError(SessionErrorCode.CorruptData, 'stored item is not a string');
  }
  let value: unknown;
  try {
    value = JSON.parse(encoded);
  } catch (cause) {
    throw new SessionError(SessionErrorCode.CorruptData, 'stored item is not valid JSON', { cause });
  }
  // Tags are rare; skip the extra walk unless the text can contain one.
  return mayHoldTag(encoded) ? revive(value) : value;
}

/**
 * Whether the text holds a tag key (`"$sk:bytes"` or `"$sk:obj"`). Other
 * `$sk:` names pass without a walk: withEncryption's envelopes carry
 * `"$sk:enc"`, and every stored item under encryption is one.
 */
function mayHoldTag(encoded: string): boolean {
  for (let at = encoded.indexOf(TAG_MARKER); at >= 0; at = encoded.indexOf(TAG_MARKER, at + TAG_MARKER.length)) {
    const rest = at + TAG_MARKER.length;
    if (encoded.startsWith(BYTES_REST, rest) || encoded.startsWith(OBJ_REST, rest)) return true;
  }
  return false;
}

/** Decodes a list of stored items; any corrupt one fails the whole read. */
export function decodeItems<T = unknown>(encoded: readonly EncodedItem[]): T[] {
  const out = new Array<T>(encoded.length);
  for (let i = 0; i < encoded.length; i++) out[i] = decodeItem(encoded[i]!) as T;
  return out;
}

function canonical(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(canonical);
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) setOwn(out, key, canonical((value as Record<string, unknown>)[key]));
  return out;
}

/**
 * A key-order-independent form of an encoded item: two items are equal in the
 * contract's sense exactly when their canonical forms are equal strings. Used
 * to compare transaction suffixes and transaction bodies.
 */
export function canonicalize(encoded: EncodedItem): string {
  return JSON.stringify(canonical(JSON.parse(encoded)));
}
