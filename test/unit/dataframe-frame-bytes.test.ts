import { test } from 'node:test';
import assert from 'node:assert/strict';
import pl from 'nodejs-polars';
import { frameBytes } from '../../dataframe/kernels/frames.js';

test('frameBytes: fixed widths by dtype, strings by their characters, lists by their values, plus validity', () => {
  const df = pl.DataFrame({
    f64: [1.5, 2.5, 3.5], i32: pl.Series('i32', [1, 2, 3], pl.Int32), flag: [true, false, true],
    name: ['a', 'bcd', 'éé'], list: [[1], [2, 3], []],
  });
  const validity = Math.ceil(3 / 8);
  const strings = 8 * 3 + (1 + 3 + 2); // offsets, and lengths in characters as Polars' str.lengths gives them
  const list = 8 * 3 + 3 * 8; // offsets, and three Float64 values
  assert.equal(frameBytes(df), (8 * 3 + validity) + (4 * 3 + validity) + (1 * 3 + validity) + (strings + validity) + (list + validity));
  const embeddings = pl.DataFrame({ v: [Array.from({ length: 96 }, (_, i) => i), Array.from({ length: 96 }, (_, i) => -i)] }).select(pl.col('v').cast(pl.List(pl.Float32)));
  assert.equal(frameBytes(embeddings), 8 * 2 + 2 * 96 * 4 + 1);
  assert.equal(frameBytes(df.head(0)), 0);
});
