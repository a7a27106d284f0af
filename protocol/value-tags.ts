// The tagged JSON form of values that plain JSON would silently change (Map, Set, typed arrays,
// ArrayBuffer, DataView, Date, BigInt, undefined, NaN/±Infinity, nested bytes and Arrow tables).
// Each such value becomes {"$kd_t": kind, "v": payload}; a plain object that itself has a "$kd_t"
// key is wrapped as kind "object" so no user data is misread as a tag. Anything else that is not
// a plain object or array (a class instance, a function, a symbol, a cycle) is refused, naming
// where it was: nothing travels as something it was not.
import { ValueEncodingError } from './errors.js';

export const TAG = '$kd_t';

/** Serializes and parses an Arrow table (the codec binds the module). */
export interface TableCodec {
  isTable(value: unknown): boolean;
  toBytes(table: unknown, where: string): Uint8Array;
  fromBytes(bytes: Uint8Array): unknown;
}

const MAX_PLAIN_DEPTH = 1000;

/** True when JSON carries `value` unchanged, so the fast untagged form can be used. */
export function isPlainJson(value: unknown, depth = 0): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0); // JSON writes -0 as 0
    case 'object': {
      if (value === null) return true;
      if (depth > MAX_PLAIN_DEPTH) return false; // deep or cyclic: the tagged walk says which
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i += 1) if (!isPlainJson(value[i], depth + 1)) return false;
        return true;
      }
      if (!isPlainObject(value)) return false;
      for (const k in value) {
        if (k === TAG || !isPlainJson((value as Record<string, unknown>)[k], depth + 1)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

export function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as object | null;
  return proto === Object.prototype || proto === null;
}

const TYPED_ARRAYS: Record<string, new (buffer: ArrayBuffer, offset: number, length: number) => ArrayBufferView> = {
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array,
};

/** `value` as JSON-able data with tags; throws ValueEncodingError naming `path` for what cannot travel. */
export function toTagged(value: unknown, path: string, tables: TableCodec, ancestors: object[] = []): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (Object.is(value, -0)) return { [TAG]: 'number', v: '-0' };
      return Number.isFinite(value) ? value : { [TAG]: 'number', v: String(value) };
    case 'undefined':
      return { [TAG]: 'undefined' };
    case 'bigint':
      return { [TAG]: 'bigint', v: value.toString() };
    case 'object':
      if (value === null) return null;
      break;
    default:
      throw refuse(path, typeof value);
  }
  if (ancestors.includes(value)) throw new ValueEncodingError(`${path} refers back to an enclosing value (a cycle) and cannot be sent`);
  ancestors.push(value);
  try {
    return taggedObject(value, path, tables, ancestors);
  } finally {
    ancestors.pop();
  }
}

function taggedObject(value: object, path: string, tables: TableCodec, ancestors: object[]): unknown {
  const inner = (v: unknown, p: string): unknown => toTagged(v, p, tables, ancestors);
  if (Array.isArray(value)) return Array.from(value, (v, i) => inner(v, `${path}[${i}]`));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) setOwn(out, k, inner(v, `${path}.${k}`));
    return Object.hasOwn(out, TAG) ? { [TAG]: 'object', v: out } : out;
  }
  if (tables.isTable(value)) return { [TAG]: 'arrow', v: base64(tables.toBytes(value, path)) };
  const kind = Object.prototype.toString.call(value).slice(8, -1);
  if (ArrayBuffer.isView(value)) {
    if (kind !== 'DataView' && !(kind in TYPED_ARRAYS)) throw refuse(path, kind);
    return { [TAG]: kind, v: base64(new Uint8Array(value.buffer, value.byteOffset, value.byteLength)) };
  }
  if (value instanceof ArrayBuffer) return { [TAG]: 'ArrayBuffer', v: base64(new Uint8Array(value)) };
  if (value instanceof Date) return { [TAG]: 'Date', v: Number.isNaN(value.getTime()) ? null : value.getTime() };
  if (value instanceof Map) return { [TAG]: 'Map', v: Array.from(value, ([k, v], i) => [inner(k, `${path}<Map key ${i}>`), inner(v, `${path}<Map value ${i}>`)]) };
  if (value instanceof Set) return { [TAG]: 'Set', v: Array.from(value, (v, i) => inner(v, `${path}<Set item ${i}>`)) };
  throw refuse(path, (value.constructor as { name?: string } | undefined)?.name || kind);
}

function refuse(path: string, type: string): ValueEncodingError {
  return new ValueEncodingError(
    `${path} is a ${type}, which cannot be sent to or from workers: send JSON-able data, Map, Set, Date, BigInt, typed arrays, ArrayBuffer, DataView or Arrow tables (pass futures at the top level or inside plain objects and arrays)`,
  );
}

/** Inverse of toTagged on parsed JSON (which it may reuse in place). */
export function fromTagged(value: unknown, tables: TableCodec): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += 1) value[i] = fromTagged(value[i], tables);
    return value;
  }
  const record = value as Record<string, unknown>;
  if (typeof record[TAG] === 'string') return untag(record[TAG], record.v, tables);
  for (const k of Object.keys(record)) setOwn(record, k, fromTagged(record[k], tables));
  return record;
}

function untag(kind: string, v: unknown, tables: TableCodec): unknown {
  const back = (x: unknown): unknown => fromTagged(x, tables);
  switch (kind) {
    case 'undefined': return undefined;
    case 'number': return Number(v);
    case 'bigint': return BigInt(v as string);
    case 'Date': return new Date(v === null ? Number.NaN : (v as number));
    case 'Map': return new Map((v as [unknown, unknown][]).map(([k, x]) => [back(k), back(x)]));
    case 'Set': return new Set((v as unknown[]).map(back));
    case 'object': {
      const out = v as Record<string, unknown>;
      for (const k of Object.keys(out)) setOwn(out, k, back(out[k]));
      return out;
    }
    case 'arrow': return tables.fromBytes(fromBase64(v as string));
    case 'ArrayBuffer': return fromBase64(v as string).buffer;
    case 'DataView': return new DataView(fromBase64(v as string).buffer);
    default: {
      const Typed = TYPED_ARRAYS[kind];
      if (!Typed) throw new ValueEncodingError(`unknown tagged value kind ${JSON.stringify(kind)}`);
      const bytes = fromBase64(v as string);
      const width = (Typed as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
      return new Typed(bytes.buffer, 0, bytes.byteLength / width);
    }
  }
}

/** record[key] = v as an own data property, even for '__proto__' (plain assignment would set the prototype). */
export function setOwn(record: Record<string, unknown>, key: string, v: unknown): void {
  if (record[key] === v) return;
  Object.defineProperty(record, key, { value: v, writable: true, enumerable: true, configurable: true });
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** A fresh, aligned buffer of its own (typed arrays need their offset aligned to the element). */
function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const decoded = Buffer.from(text, 'base64');
  const own = new Uint8Array(decoded.byteLength);
  own.set(decoded);
  return own;
}
