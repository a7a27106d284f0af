// The value codec without a static Apache Arrow import: plain JSON-able data travels as JSON,
// a top-level Uint8Array as raw bytes, a top-level Arrow table as an IPC stream, and anything
// JSON would change (Map, Set, typed arrays, Date, BigInt, nested tables...) as tagged JSON
// (value-tags.ts) marked by its prefix, so old plain-JSON values decode as before. Task threads use this module and load
// apache-arrow only when a task meets a table: a thread that loads neither Arrow nor the
// generated protocol is ready in a fraction of the time and memory. Clients use
// protocol/values.ts, which binds Arrow eagerly. Keep run-time imports here to errors.ts.
import type * as Arrow from 'apache-arrow';
import type { kubedask } from './generated/kubedask.js';
import { ValueEncodingError } from './errors.js';
import { adoptForeignTable, isForeignTable } from './arrow-adopt.js';
import { fromTagged, isPlainJson, isPlainObject, setOwn, toTagged, type TableCodec } from './value-tags.js';

/** apache-arrow, as the codec uses it (all of it: foreign tables are re-wrapped class by class). */
export type ArrowModule = typeof Arrow;

/** A table met where apache-arrow is not loaded yet (task threads load it and encode again). */
export class ArrowNotLoadedError extends ValueEncodingError {}

/** The proto's Encoding enum as plain numbers (a unit test checks they match the generated one). */
export const Encoding = {
  ENCODING_UNSPECIFIED: 0,
  ENCODING_JSON: 1,
  ENCODING_BYTES: 2,
  ENCODING_ARROW_IPC: 3,
} as const satisfies Record<keyof typeof kubedask.v1.Encoding, kubedask.v1.Encoding>;
export type Encoding = kubedask.v1.Encoding;

export interface EncodedValue {
  encoding: Encoding;
  data: Uint8Array;
}

/** Arrow's own brand (what Table.isTable checks): true of a table from any copy of apache-arrow. */
const ARROW_TABLE = Symbol.for('apache-arrow/Table');

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

export function isArrowTable(value: unknown): value is Arrow.Table {
  return value !== null && typeof value === 'object' && (value as Record<symbol, unknown>)[ARROW_TABLE] === true;
}

/** Tagged JSON starts with exactly these bytes; plain JSON never does (its objects lack "$kd_t"). */
const TAGGED_PREFIX = '{"$kd_t":"tagged","v":';
const TAGGED_PREFIX_BYTES = utf8.encode(TAGGED_PREFIX);
const NESTED_ARROW = '"$kd_t":"arrow"';

/**
 * `arrow` is needed only when `value` is or holds an Arrow table; `where` names the value in
 * errors ("argument 1 of f", "result of task x").
 */
export function encodeValue(value: unknown, arrow?: ArrowModule, where = 'value'): EncodedValue {
  if (isArrowTable(value)) {
    return { encoding: Encoding.ENCODING_ARROW_IPC, data: tableToBytes(value, where, arrow) };
  }
  if (value instanceof Uint8Array) {
    return { encoding: Encoding.ENCODING_BYTES, data: value };
  }
  if (value === undefined || isPlainJson(value)) {
    return { encoding: Encoding.ENCODING_JSON, data: utf8.encode(JSON.stringify(value === undefined ? null : value)) };
  }
  const tagged = toTagged(value, where, tableCodec(arrow));
  return { encoding: Encoding.ENCODING_JSON, data: utf8.encode(`${TAGGED_PREFIX}${JSON.stringify(tagged)}}`) };
}

/** `arrow` is needed only for Arrow tables (see needsArrow). */
export function decodeValue(encoded: EncodedValue, arrow?: ArrowModule): unknown {
  switch (encoded.encoding) {
    case Encoding.ENCODING_JSON: {
      const parsed = JSON.parse(fromUtf8.decode(encoded.data)) as unknown;
      return isTagged(encoded.data) ? fromTagged((parsed as { v: unknown }).v, tableCodec(arrow)) : parsed;
    }
    case Encoding.ENCODING_BYTES: {
      // A Uint8Array comes back as one, not as the Buffer the wire decoder may have made.
      const d = encoded.data;
      return Object.getPrototypeOf(d) === Uint8Array.prototype ? d : new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
    }
    case Encoding.ENCODING_ARROW_IPC:
      return requireArrow(arrow).tableFromIPC(encoded.data);
    default:
      throw new ValueEncodingError(`unknown value encoding ${String(encoded.encoding)}`);
  }
}

/** Whether decoding `encoded` needs apache-arrow (a table at the top or nested). */
export function needsArrow(encoded: EncodedValue): boolean {
  if (encoded.encoding === Encoding.ENCODING_ARROW_IPC) return true;
  return encoded.encoding === Encoding.ENCODING_JSON && isTagged(encoded.data) && Buffer.from(encoded.data.buffer, encoded.data.byteOffset, encoded.data.byteLength).includes(NESTED_ARROW);
}

function isTagged(data: Uint8Array): boolean {
  if (data.byteLength < TAGGED_PREFIX_BYTES.byteLength) return false;
  for (let i = 0; i < TAGGED_PREFIX_BYTES.byteLength; i += 1) if (data[i] !== TAGGED_PREFIX_BYTES[i]) return false;
  return true;
}

function tableCodec(arrow: ArrowModule | undefined): TableCodec {
  return {
    isTable: isArrowTable,
    toBytes: (table, where) => tableToBytes(table as Arrow.Table, where, arrow),
    fromBytes: (bytes) => requireArrow(arrow).tableFromIPC(bytes),
  };
}

function tableToBytes(table: Arrow.Table, where: string, arrow: ArrowModule | undefined): Uint8Array {
  const module = requireArrow(arrow);
  const own = isForeignTable(table, module) ? adoptForeignTable(table, module, where) : table;
  return module.tableToIPC(own, 'stream');
}

function requireArrow(arrow: ArrowModule | undefined): ArrowModule {
  // A caller's bug, not bad input: whoever may meet tables loads apache-arrow first.
  if (!arrow) throw new ArrowNotLoadedError('an Arrow table needs apache-arrow, which was not loaded');
  return arrow;
}

/** JSON placeholder for a key inside a literal argument (see proto Arg). */
export const KEY_PLACEHOLDER = '$kd_key';

export function keyPlaceholder(key: string): { [KEY_PLACEHOLDER]: string } {
  return { [KEY_PLACEHOLDER]: key };
}

/** Replaces {"$kd_key": k} placeholders in decoded arrays and plain objects with resolve(k). */
export function substituteKeys(value: unknown, resolve: (key: string) => unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => substituteKeys(v, resolve));
  if (value !== null && typeof value === 'object' && isPlainObject(value)) {
    const record = value as Record<string, unknown>;
    const key = record[KEY_PLACEHOLDER];
    if (typeof key === 'string' && Object.keys(record).length === 1) return resolve(key);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(record)) setOwn(out, k, substituteKeys(v, resolve));
    return out;
  }
  return value;
}
