// Value codec: how task arguments and results become bytes and back. JSON-able data travels
// as JSON, Uint8Array as raw bytes, Apache Arrow tables as an IPC stream. Worker processes
// store only these encoded bytes; decoding happens in task threads and in clients.
import { Table, tableFromIPC, tableToIPC } from 'apache-arrow';
import { kubedask } from './generated/kubedask.js';
import { ValueEncodingError } from './errors.js';

export const Encoding = kubedask.v1.Encoding;
export type Encoding = kubedask.v1.Encoding;

export interface EncodedValue {
  encoding: Encoding;
  data: Uint8Array;
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

export function isArrowTable(value: unknown): value is Table {
  return value instanceof Table;
}

export function encodeValue(value: unknown): EncodedValue {
  if (isArrowTable(value)) {
    return { encoding: Encoding.ENCODING_ARROW_IPC, data: tableToIPC(value, 'stream') };
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

export function decodeValue(encoded: EncodedValue): unknown {
  switch (encoded.encoding) {
    case Encoding.ENCODING_JSON:
      return JSON.parse(fromUtf8.decode(encoded.data));
    case Encoding.ENCODING_BYTES:
      return encoded.data;
    case Encoding.ENCODING_ARROW_IPC:
      return tableFromIPC(encoded.data);
    default:
      throw new ValueEncodingError(`unknown value encoding ${String(encoded.encoding)}`);
  }
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
