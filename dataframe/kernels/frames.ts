// Polars frames as the worker's data store holds them: native, sized, and encoded as
// compressed Arrow IPC only when they leave the process (a peer fetch, a spill, a gather).
import pl from 'nodejs-polars';
import type { NativeValue, StoredValue } from '../../worker/runtime/data-store.js';
import { Encoding } from '../../protocol/value-codec.js';
import { KernelInputError } from './errors.js';

/**
 * What a frame costs in memory, roughly: fixed widths by dtype, strings by their characters,
 * lists by their values (nested ones at their innermost width). From the
 * dtypes, not the columns: each Series wrapper nodejs-polars makes costs hundreds of KB of
 * short-lived heap, and every partition a kernel makes is sized here.
 */
export function frameBytes(df: pl.DataFrame): number {
  let bytes = 0;
  const rows = df.height;
  const names = df.columns;
  df.dtypes.forEach((t, i) => {
    const dtype = String(t);
    const width = FIXED_WIDTH.find(([re]) => re.test(dtype))?.[1];
    if (/^DataType\((List|Array)/.test(dtype)) {
      // Offsets, then the values at their width (an embedding of 96 floats is 384 bytes a row).
      const values = Number(df.getColumn(names[i]!).lst.lengths().sum() ?? 0);
      bytes += 8 * rows + values * (width ?? 16);
    } else if (/^DataType\(Struct/.test(dtype)) bytes += 16 * rows; // a guess; spilling still works from it
    else if (width !== undefined) bytes += width * rows;
    else if (/String|Utf8|Binary/.test(dtype)) bytes += 8 * rows + Number(df.getColumn(names[i]!).str.lengths().sum() ?? 0);
    else bytes += 16 * rows;
    bytes += Math.ceil(rows / 8); // validity
  });
  return bytes;
}

const FIXED_WIDTH: Array<[RegExp, number]> = [
  [/\b(Int8|UInt8|Bool)/, 1], [/\b(Int16|UInt16)/, 2], [/\b(Int32|UInt32|Float32|Date)\b/, 4],
  [/\b(Int64|UInt64|Float64|Datetime|Duration|Time)/, 8], [/Decimal/, 16], [/Categorical|Enum/, 4], [/Null/, 0],
];

export function nativeFrame(df: pl.DataFrame): NativeValue {
  return {
    native: df,
    encoding: Encoding.ENCODING_ARROW_IPC,
    nbytes: frameBytes(df),
    encode: () => df.writeIPCStream({ compression: 'lz4' }),
  };
}

/** A kernel's input as a frame: the native one, or its Arrow IPC bytes read back. */
export function toFrame(value: StoredValue, what: string): pl.DataFrame {
  if ('native' in value) {
    if (value.native instanceof Object && typeof (value.native as pl.DataFrame).lazy === 'function') return value.native as pl.DataFrame;
    throw new KernelInputError(`${what} is not a DataFrame partition`);
  }
  // Bytes are a frame this client scattered (its IPC stream, see dataframe/execute.ts).
  if (value.encoding !== Encoding.ENCODING_ARROW_IPC && value.encoding !== Encoding.ENCODING_BYTES) throw new KernelInputError(`${what} is not a DataFrame partition (encoding ${value.encoding})`);
  return pl.readIPCStream(Buffer.from(value.data.buffer, value.data.byteOffset, value.data.byteLength));
}
