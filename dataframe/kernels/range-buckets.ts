// Range partitioning for sort: the output partition of each row is the number of boundary rows
// that sort strictly before it. Found with Polars' own sort rather than a copy of its order
// (nulls, NaN, strings, dates): the rows' sort columns and the boundaries sorted together, a
// row before any boundary equal to it, so the running count of boundaries is each row's bucket
// and equal keys always share one.
import pl from 'nodejs-polars';
import { sortLazy } from './sort.js';

const ROW = '__kd_range_row';
const MARK = '__kd_is_boundary';
const BUCKET = '__kd_range_bucket';

/** Each row's bucket (UInt32, in `df`'s row order); `boundaries` are in sort order. */
export async function rangeBuckets(df: pl.DataFrame, boundaries: pl.DataFrame, by: string[], descending: boolean[]): Promise<pl.Series> {
  // The marker sorts in the keys' direction when they share one (a single Polars sort), and
  // puts a row ahead of the boundaries with its keys either way.
  const markDescending = descending.every((d) => d);
  const [rowMark, boundaryMark] = markDescending ? [1, 0] : [0, 1];
  const rows = df.lazy().select(...by).withRowIndex(ROW).withColumns(pl.lit(rowMark).cast(pl.UInt8).alias(MARK));
  const bounds = boundaries.lazy().select(
    pl.lit(null).cast(pl.UInt32).alias(ROW),
    ...by.map((c) => pl.col(c).cast(df.getColumn(c).dtype)),
    pl.lit(boundaryMark).cast(pl.UInt8).alias(MARK),
  );
  const both = pl.concat([rows, bounds], { how: 'vertical' as never }) as unknown as pl.LazyDataFrame;
  const counted = sortLazy(both, [...by, MARK], [...descending, markDescending])
    .withColumns(pl.col(MARK).eq(boundaryMark).cast(pl.UInt32).cumSum().alias(BUCKET))
    .filter(pl.col(ROW).isNotNull())
    .sort(ROW)
    .select(BUCKET);
  return (await counted.collect()).getColumn(BUCKET);
}
