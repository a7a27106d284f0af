// Range partitioning for sort: a row goes to bucket j when j boundary rows sort strictly before
// it. Found with Polars' own sort rather than a copy of its order (nulls, NaN, strings, dates):
// the rows' sort columns and the boundaries sorted together, a row ahead of any boundary equal
// to it, so the running count of boundaries is each row's bucket and equal keys always share
// one. That sort also orders the rows: the buckets come out as slices of the sorted partition.
import pl from 'nodejs-polars';
import { BucketSet } from './buckets.js';
import { KernelInputError } from './errors.js';
import { sortLazy } from './sort.js';

const ROW = '__kd_range_row';
const IS_BOUNDARY = '__kd_is_boundary';
const BUCKET = '__kd_range_bucket';

/** `df`'s rows in `partitions` buckets, each in sort order; `boundaries` are in sort order. */
export async function rangeBuckets(df: pl.DataFrame, boundaries: pl.DataFrame, by: string[], descending: boolean[], partitions: number): Promise<BucketSet> {
  // More would make buckets no output partition takes: their rows would be lost.
  if (boundaries.height >= partitions) throw new KernelInputError(`${boundaries.height} range boundaries for ${partitions} partitions`);
  const rows = df.lazy().select(...by).withRowIndex(ROW);
  const bounds = boundaries.lazy().select(pl.lit(null).cast(pl.UInt32).alias(ROW), ...by.map((c) => pl.col(c).cast(df.getColumn(c).dtype)));
  // Rows first: a stable sort keeps them ahead of equal boundaries. Mixed directions have no
  // stable sort in nodejs-polars, so a boundary flag breaks the ties there (one more key).
  const both = pl.concat([rows, bounds], { how: 'vertical' as never }) as unknown as pl.LazyDataFrame;
  const uniform = descending.every((d) => d === descending[0]);
  const sorted = uniform
    ? both.sort(by, descending[0], false, true)
    : sortLazy(both.withColumns(pl.col(ROW).isNull().alias(IS_BOUNDARY)), [...by, IS_BOUNDARY], [...descending, false]);
  const order = await sorted
    .select(ROW, pl.col(ROW).isNull().cast(pl.UInt32).cumSum().alias(BUCKET))
    .filter(pl.col(ROW).isNotNull())
    .collect();
  // One gather of every column into sort order; bucket numbers only grow along it.
  const inOrder = await df.withColumns(order.getColumn(ROW)).lazy()
    .select(pl.all().exclude(ROW).gather(pl.col(ROW)))
    .collect();
  const counts = new Array<number>(partitions).fill(0);
  const sizes = await order.lazy().groupBy(BUCKET).agg(pl.len().alias('rows')).collect();
  const [ids, lens] = [sizes.getColumn(BUCKET).toArray(), sizes.getColumn('rows').toArray()] as [number[], number[]];
  ids.forEach((bucket, i) => { counts[bucket] = Number(lens[i]); });
  const offsets = [0];
  for (const n of counts) offsets.push(offsets.at(-1)! + n);
  return new BucketSet(inOrder, offsets);
}
