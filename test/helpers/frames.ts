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
  // Vectorized: a JavaScript loop over millions of values would stall this process, which in
  // these tests also runs the scheduler.
  for (const c of actual.columns) {
    const [x, y] = [a.getColumn(c).alias('x'), e.getColumn(c).alias('y')];
    const both = pl.DataFrame([x, y]);
    const float = /Float/.test(String(x.dtype));
    const same = float
      ? pl.col('x').isNull().eq(pl.col('y').isNull())
        .and(pl.col('x').isNull().or(pl.col('x').sub(pl.col('y')).abs().ltEq(pl.col('y').abs().clip(1, Number.MAX_VALUE).mul(rtol)))
          .or(pl.col('x').isNan().and(pl.col('y').isNan())))
      : pl.col('x').isNull().and(pl.col('y').isNull()).or(pl.col('x').eq(pl.col('y')).fillNull(false));
    const bad = both.withRowIndex('row').filter(same.not()).head(1);
    if (bad.height > 0) {
      const { row, x: got, y: want } = bad.toRecords()[0] as { row: number; x: unknown; y: unknown };
      assert.fail(`column ${c} row ${row}: ${String(got)} != ${String(want)} (actual != expected)`);
    }
  }
}
