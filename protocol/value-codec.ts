// The value codec without a static Apache Arrow import: JSON-able data travels as JSON,
// Uint8Array as raw bytes, Arrow tables as an IPC stream. Task threads use this module and load
// apache-arrow only when a task meets a table: a thread that loads neither Arrow nor the
// generated protocol is ready in a fraction of the time and memory. Clients use
// protocol/values.ts, which binds Arrow eagerly. Keep run-time imports here to errors.ts.
import type * as Arrow from 'apache-arrow';
import type { kubedask } from './generated/kubedask.js';
import { ValueEncodingError } from './errors.js';

/** The part of apache-arrow the codec uses. */
export type ArrowModule = Pick<typeof Arrow, 'tableFromIPC' | 'tableToIPC'>;

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

/** `arrow` is needed only when `value` is an Arrow table. */
export function encodeValue(value: unknown, arrow?: ArrowModule): EncodedValue {
  if (isArrowTable(value)) {
    return { encoding: Encoding.ENCODING_ARROW_IPC, data: requireArrow(arrow).tableToIPC(value, 'stream') };
  }
  if (value instanceof Uint8Array) {
    return { encoding: Encoding.ENCODING_BYTES, data: value };
  }
  let text: string | undefined;
  try {
    text = JSON.stringify(value === undefined ? null : value);
  } catch (err) {
    throw new ValueEncodingError(`value cannot be sent: ${(err as Error).message}`, { cause: err });
  }
  if (text === undefined) {
    throw new ValueEncodingError(`value of type ${typeof value} cannot be sent: use JSON-able data, a Uint8Array or an Arrow table`);
  }
  return { encoding: Encoding.ENCODING_JSON, data: utf8.encode(text) };
}

/** `arrow` is needed only for ENCODING_ARROW_IPC. */
export function decodeValue(encoded: EncodedValue, arrow?: ArrowModule): unknown {
  switch (encoded.encoding) {
    case Encoding.ENCODING_JSON:
      return JSON.parse(fromUtf8.decode(encoded.data));
    case Encoding.ENCODING_BYTES:
      return encoded.data;
    case Encoding.ENCODING_ARROW_IPC:
      return requireArrow(arrow).tableFromIPC(encoded.data);
    default:
      throw new ValueEncodingError(`unknown value encoding ${String(encoded.encoding)}`);
  }
}

function requireArrow(arrow: ArrowModule | undefined): ArrowModule {
  // A caller's bug, not bad input: whoever may meet tables loads apache-arrow first.
  if (!arrow) throw new ValueEncodingError('an Arrow table needs apache-arrow, which was not loaded');
  return arrow;
}

/** JSON placeholder for a key inside a literal argument (see proto Arg). */
export const KEY_PLACEHOLDER = '$kd_key';

export function keyPlaceholder(key: string): { [KEY_PLACEHOLDER]: string } {
  return { [KEY_PLACEHOLDER]: key };
}

/** Replaces {"$kd_key": k} placeholders in decoded JSON with resolve(k). */
export function substituteKeys(value: unknown, resolve: (key: string) => unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => substituteKeys(v, resolve));
  if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array) && !isArrowTable(value)) {
    const record = value as Record<string, unknown>;
    const key = record[KEY_PLACEHOLDER];
    if (typeof key === 'string' && Object.keys(record).length === 1) return resolve(key);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(record)) out[k] = substituteKeys(v, resolve);
    return out;
  }
  return value;
}
