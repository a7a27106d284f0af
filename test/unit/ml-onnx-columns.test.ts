// Columns to tensors and back (ml/onnx/columns.ts): a feed packed from columns of any numeric
// type holds exactly what Polars' cast gives, row-major, nulls NaN; integer inputs refuse
// nulls; outputs become Series of their type; large arrays come from and go back to the pool.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pl from 'nodejs-polars';
import { giveBack, takeArray } from '../../ml/onnx/buffer-pool.js';
import { feedData, fetchRequest, outputColumns } from '../../ml/onnx/columns.js';
import { OnnxModelError } from '../../ml/errors.js';
import type { Feed } from '../../ml/onnx/predict-params.js';

// Values chosen to round differently as float32: large odd integers, 2^24 + 1, fractions.
const frame = pl.DataFrame({
  i8: pl.Series('i8', [-128, 5, null, 127], pl.Int8),
  i32: pl.Series('i32', [16_777_217, -2_147_483_648, 2_147_483_647, 3], pl.Int32),
  u32: pl.Series('u32', [4_294_967_295, 16_777_219, 0, 7], pl.UInt32),
  i64: pl.Series('i64', BigInt64Array.from([9_007_199_254_740_993n, -5n, 16_777_217n, 0n]), pl.Int64),
  f64: pl.Series('f64', [0.1, 1e300, -3.4028235677973366e38, NaN], pl.Float64),
  f32: pl.Series('f32', [0.1, -0, Infinity, 2.5], pl.Float32),
  b: pl.Series('b', [true, false, null, true], pl.Bool),
});
const columns = frame.columns;

function feed(elemType: Feed['elemType'], cols = columns): Feed {
  return { name: 'x', columns: cols, elemType, dims: [cols.length], fixedBatch: null, vector: false };
}

/** What Polars makes of the columns: each cast (nulls NaN), read row by row. */
function polarsRowMajor(dtype: pl.DataType, cols = columns): number[] {
  const cast = frame.select(...cols.map((c) => pl.col(c).cast(dtype).fillNull(pl.lit(NaN).cast(dtype))));
  const values = cols.map((c) => Array.from(cast.getColumn(c).toTypedArray() as Float64Array));
  return Array.from({ length: frame.height * cols.length }, (_, i) => values[i % cols.length]![Math.floor(i / cols.length)]!);
}

describe('onnx columns', () => {
  it('packs a float32 feed from columns of every numeric type as Polars casts them', () => {
    const data = feedData(frame, feed('float32'));
    assert.ok(data instanceof Float32Array);
    assert.deepEqual(Array.from(data), polarsRowMajor(pl.Float32));
  });

  it('packs a float64 feed the same way', () => {
    const data = feedData(frame, feed('float64'));
    assert.ok(data instanceof Float64Array);
    assert.deepEqual(Array.from(data), polarsRowMajor(pl.Float64));
  });

  it('packs one column as it is, and refuses nulls for an integer input', () => {
    assert.deepEqual(Array.from(feedData(frame, feed('int32', ['i32'])) as Int32Array), [16_777_217, -2_147_483_648, 2_147_483_647, 3]);
    assert.throws(() => feedData(frame, feed('int64', ['i64', 'i8'])), (err: Error) => err instanceof OnnxModelError && /column "i8" has nulls, which the model's int64 input "x" cannot take/.test(err.message));
  });

  it('makes Series of each output type from the filled columns', () => {
    const rows = 3;
    const proba = fetchRequest({ name: 'proba', columns: ['proba_0', 'proba_1'], elemType: 'float32' }, rows);
    (proba.columns![0] as Float32Array).set([0.25, 0.5, 1]);
    (proba.columns![1] as Float32Array).set([0.75, 0.5, 0]);
    const flag = fetchRequest({ name: 'flag', columns: ['flag'], elemType: 'bool' }, rows);
    (flag.columns![0] as Uint8Array).set([1, 0, 1]);
    const label = fetchRequest({ name: 'label', columns: ['label'], elemType: 'int64' }, rows);
    (label.columns![0] as BigInt64Array).set([2n, -1n, 9_007_199_254_740_993n]);
    assert.equal(fetchRequest({ name: 't', columns: ['t'], elemType: 'string' }, rows).columns, null);
    const series = [
      ...outputColumns({ name: 'proba', columns: ['proba_0', 'proba_1'], elemType: 'float32' }, proba.columns!),
      ...outputColumns({ name: 'flag', columns: ['flag'], elemType: 'bool' }, flag.columns!),
      ...outputColumns({ name: 'label', columns: ['label'], elemType: 'int64' }, label.columns!),
      ...outputColumns({ name: 't', columns: ['t'], elemType: 'string' }, [['a', 'b', 'c']]),
    ];
    assert.deepEqual(series.map((s) => [s.name, String(s.dtype)]), [
      ['proba_0', 'DataType(Float32)'], ['proba_1', 'DataType(Float32)'], ['flag', 'DataType(Bool)'], ['label', 'DataType(Int64)'], ['t', 'DataType(String)'],
    ]);
    // Int64 read as text: toArray() would round it to a double.
    assert.deepEqual(series.map((s) => (s.name === 'label' ? s.cast(pl.String) : s).toArray()), [[0.25, 0.5, 1], [0.75, 0.5, 0], [true, false, true], ['2', '-1', '9007199254740993'], ['a', 'b', 'c']]);
  });

  it('reuses the buffer of a large array given back, for an array of any type that fits', () => {
    const big = takeArray<Float32Array>(Float32Array, 100_000);
    giveBack([big]);
    const again = takeArray<Float64Array>(Float64Array, 50_000);
    assert.equal(again.buffer, big.buffer);
    assert.equal(again.length, 50_000);
    // Too large for it: a new one. Small arrays are not pooled.
    assert.notEqual(takeArray<Float32Array>(Float32Array, 200_000).buffer, big.buffer);
    const small = takeArray<Float32Array>(Float32Array, 10);
    giveBack([small]);
    assert.notEqual(takeArray<Float32Array>(Float32Array, 10).buffer, small.buffer);
  });
});
