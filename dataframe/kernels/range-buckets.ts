// Range partitioning for sort: the output partition of each row is the number of boundary rows
// that sort strictly before it. Found with Polars' own sort rather than a copy of its order
// (nulls, NaN, strings, dates): the rows' sort columns and the boundaries sorted together, a
// row ahead of any boundary equal to it, so the running count of boundaries is each row's
// bucket and equal keys always share one.
import pl from 'nodejs-polars';
import { sortLazy } from './sort.js';

const ROW = '__kd_range_row';
const IS_BOUNDARY = '__kd_is_boundary';
const BUCKET = '__kd_range_bucket';

/** Each row's bucket (UInt32, in `df`'s row order); `boundaries` are in sort order. */
export async function rangeBuckets(df: pl.DataFrame, boundaries: pl.DataFrame, by: string[], descending: boolean[]): Promise<pl.Series> {
  const rows = df.lazy().select(...by).withRowIndex(ROW);
  const bounds = boundaries.lazy().select(pl.lit(null).cast(pl.UInt32).alias(ROW), ...by.map((c) => pl.col(c).cast(df.getColumn(c).dtype)));
  // Rows first: a stable sort keeps them ahead of equal boundaries. Mixed directions have no
  // stable sort in nodejs-polars, so a boundary flag breaks the ties there (slower: one more key).
  const both = pl.concat([rows, bounds], { how: 'vertical' as never }) as unknown as pl.LazyDataFrame;
  const uniform = descending.every((d) => d === descending[0]);
  const sorted = uniform
    ? both.sort(by, descending[0], false, true)
    : sortLazy(both.withColumns(pl.col(ROW).isNull().alias(IS_BOUNDARY)), [...by, IS_BOUNDARY], [...descending, false]);
  const counted = sorted
    .withColumns(pl.col(ROW).isNull().cast(pl.UInt32).cumSum().alias(BUCKET))
    .filter(pl.col(ROW).isNotNull())
    .sort(ROW)
    .select(BUCKET);
  return (await counted.collect()).getColumn(BUCKET);
}
