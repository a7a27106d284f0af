// Comparing a distributed result with single-process Polars: same columns and dtypes, same
// rows once both are sorted (row order across partitions is not defined unless sorted), floats
// within a relative tolerance (partial sums add in another order).
import assert from 'node:assert/strict';
import pl from 'nodejs-polars';

export interface FrameCompareOptions {
  /** Columns to sort both by first (default: all, in order); [] keeps the order as it is. */
  sortBy?: string[];
  /** Relative tolerance for float columns (default 1e-9). */
  rtol?: number;
}

export function assertFramesEqual(actual: pl.DataFrame, expected: pl.DataFrame, options: FrameCompareOptions = {}): void {
  assert.deepEqual(actual.columns, expected.columns, 'columns');
  const dtypes = (df: pl.DataFrame) => df.columns.map((c) => String(df.getColumn(c).dtype));
  assert.deepEqual(dtypes(actual), dtypes(expected), 'dtypes');
  assert.equal(actual.height, expected.height, 'rows');
  const by = options.sortBy ?? actual.columns;
  const a = by.length ? actual.sort(by) : actual;
  const e = by.length ? expected.sort(by) : expected;
  const rtol = options.rtol ?? 1e-9;
  for (const c of actual.columns) {
    const av = a.getColumn(c).toArray() as unknown[];
    const ev = e.getColumn(c).toArray() as unknown[];
    for (let i = 0; i < av.length; i++) {
      const [x, y] = [av[i], ev[i]];
      if (typeof x === 'number' && typeof y === 'number' && !Number.isInteger(y)) {
        const close = Math.abs(x - y) <= rtol * Math.max(1, Math.abs(y)) || (Number.isNaN(x) && Number.isNaN(y));
        assert.ok(close, `column ${c} row ${i}: ${x} != ${y}`);
      } else {
        assert.deepEqual(x, y, `column ${c} row ${i}`);
      }
    }
  }
}
