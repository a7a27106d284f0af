// Between a partition's columns and the typed arrays an ONNX Runtime thread reads and fills,
// with as few passes over the data as may be: a feed is one row-major array [rows, width] on a
// pooled buffer, made in one interleaving pass from each column's values (converted on the
// way where JavaScript's conversion is the one Polars' cast would make); an output's columns
// become Series straight from their arrays.
import pl from 'nodejs-polars';
import { OnnxModelError } from '../errors.js';
import { takeArray } from './buffer-pool.js';
import type { FetchRequest, NumericData, TensorData } from './ort-messages.js';
import type { Feed, Fetch } from './predict-params.js';

const POLARS = { float32: pl.Float32, float64: pl.Float64, int64: pl.Int64, int32: pl.Int32, bool: pl.Bool, string: pl.String } as const;
const ARRAYS = { float32: Float32Array, float64: Float64Array, int64: BigInt64Array, int32: Int32Array, bool: Uint8Array } as const;

/**
 * Column types whose values a float tensor takes as they are, converted in JavaScript: each is
 * exact as a double, so storing it in a Float32Array rounds once, as Polars' cast does.
 * Others (64-bit integers, booleans, columns with nulls) are cast by Polars first.
 */
const FLOAT_AS_IS = new Set(['Float32', 'Float64', 'Int8', 'Int16', 'Int32', 'UInt8', 'UInt16', 'UInt32']);

/** The empty columns of an output, for an empty partition. */
export function emptyColumns(f: Fetch): pl.Series[] {
  return f.columns.map((c) => pl.Series(c, [], POLARS[f.elemType]));
}

/** The feed's columns as one row-major array [rows, columns] on a pooled buffer (nulls: NaN for floats). */
export function feedData(frame: pl.DataFrame, f: Feed): NumericData {
  const float = f.elemType === 'float32' || f.elemType === 'float64';
  if (f.vector) return vectorData(frame, f, float);
  const sources = f.columns.map((c) => {
    // A Series wrapper a column (~0.5 ms of short-lived heap each). Reading the native column
    // instead (frame._df.column) saved that but doubled the time in GC: without the wrappers'
    // young garbage no scavenge frees the columns' copied-out ArrayBuffers, and only full
    // collections, on external memory, do.
    const s = frame.getColumn(c);
    const nulls = s.nullCount() > 0;
    if (float && !nulls && FLOAT_AS_IS.has(s.dtype.variant)) return s.toTypedArray() as NumericData;
    return castValues(frame, c, f, float && nulls);
  });
  const out = takeArray<NumericData>(ARRAYS[f.elemType], frame.height * sources.length);
  interleave(sources, out, frame.height);
  return out;
}

/** A column cast to the feed's type by Polars (nulls: NaN where fillNaN, else an error). */
function castValues(frame: pl.DataFrame, c: string, f: Feed, fillNaN: boolean): NumericData {
  const dtype = POLARS[f.elemType];
  const e = pl.col(c).cast(dtype);
  const s = frame.select(fillNaN ? e.fillNull(pl.lit(NaN).cast(dtype)) : e).getColumn(c);
  if (s.nullCount() > 0) throw new OnnxModelError(`predictOnnx: column "${c}" has nulls, which the model's ${f.elemType} input "${f.name}" cannot take`);
  return s.toTypedArray() as NumericData;
}

/**
 * out[r * w + j] = sources[j][r], a column at a time: a plain strided loop V8 compiles tightly
 * (blocking rows for the cache measured 1.7x slower: the loop bounds kept it from doing so).
 */
function interleave(sources: NumericData[], out: NumericData, rows: number): void {
  const w = sources.length;
  if (w === 1) {
    (out as Float32Array).set(sources[0] as Float32Array);
    return;
  }
  const o = out as Float32Array;
  for (let j = 0; j < w; j++) {
    const col = sources[j] as Float32Array;
    for (let r = 0, i = j; r < rows; r++, i += w) o[i] = col[r]!;
  }
}

/** A list column whose every row holds the tensor's values for that row, flattened row-major. */
function vectorData(frame: pl.DataFrame, f: Feed, float: boolean): NumericData {
  const c = f.columns[0]!;
  const dtype = POLARS[f.elemType];
  const width = f.dims.reduce((a, b) => a * b, 1);
  const lengths = frame.select(pl.col(c).lst.lengths().alias('n')).getColumn('n');
  const bad = (lengths.toArray() as Array<number | null>).findIndex((n) => n !== width);
  if (bad >= 0) throw new OnnxModelError(`predictOnnx: model input "${f.name}" takes ${width} values per row, and row ${bad} of a partition has ${String(lengths.get(bad) ?? 'a null list')} in column "${c}"`);
  const e = pl.col(c).explode().cast(dtype);
  const values = frame.select(float ? e.fillNull(pl.lit(NaN).cast(dtype)) : e).getColumn(c);
  if (!float && values.nullCount() > 0) throw new OnnxModelError(`predictOnnx: column "${c}" has nulls, which the model's ${f.elemType} input "${f.name}" cannot take`);
  const out = takeArray<NumericData>(ARRAYS[f.elemType], values.length);
  out.set(values.toTypedArray() as never);
  return out;
}

/** What the thread is to fill for an output: its columns on pooled buffers (strings: made there). */
export function fetchRequest(f: Fetch, rows: number): FetchRequest {
  const width = f.columns.length;
  const type = f.elemType;
  return { name: f.name, type, width, columns: type === 'string' ? null : f.columns.map(() => takeArray(ARRAYS[type], rows)) };
}

/** An output's columns as Series (copied into Polars: the arrays are free to reuse after). */
export function outputColumns(f: Fetch, columns: TensorData[]): pl.Series[] {
  return f.columns.map((name, j) => {
    const data = columns[j]!;
    if (f.elemType === 'string') return pl.Series(name, data as string[], pl.String);
    // A bool tensor's values are 0/1 bytes: a UInt8 column, cast (no value goes through JavaScript).
    if (f.elemType === 'bool') return pl.Series(name, data as Uint8Array).cast(pl.Bool);
    return pl.Series(name, data as Float32Array);
  });
}
