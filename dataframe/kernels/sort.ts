// Sorting on the cluster: Polars' order (nulls first, whatever the direction) with a flag per
// column, and the two small kernels that pick a range shuffle's boundaries. df/sample: sort
// columns of evenly spaced rows of one partition, each standing for its share of the rows.
// df/boundaries: all samples in sort order, cut into `partitions` ranges of equal weight.
import pl from 'nodejs-polars';
import type { Kernel } from '../../worker/runtime/builtins.js';
import type { BoundariesParams, SampleParams } from '../plan/sort.js';
import { nativeFrame, toFrame } from './frames.js';

/** A sample row's weight: how many rows of its partition it stands for. */
export const WEIGHT_COLUMN = '__kd_weight';
const ROW_COLUMN = '__kd_row';

/** `lf` sorted by `by`, a descending flag per column, nulls first (Polars' default). */
export function sortLazy(lf: pl.LazyDataFrame, by: string[], descending: boolean[]): pl.LazyDataFrame {
  const first = descending[0] ?? false;
  if (descending.every((d) => d === first)) return by.length === 1 ? lf.sort(by[0]!, first) : lf.sort(by, first);
  // nodejs-polars' LazyFrame.sort takes one flag for all columns; sort_by on a row index takes
  // one per column, and one gather moves the rows (sort_by on every column would sort each).
  return lf.withRowIndex(ROW_COLUMN)
    .select(pl.all().exclude(ROW_COLUMN).gather(pl.col(ROW_COLUMN).sortBy(by, descending)));
}

export const sample: Kernel = async (params, inputs, context) => {
  const p = params as SampleParams;
  const df = toFrame(inputs[0]!, `input of ${context.key}`);
  // Every step-th row: deterministic, and spread over the whole partition.
  const step = Math.max(1, Math.ceil(df.height / p.rows));
  const picked = df.lazy().select(...p.by.map((c) => pl.col(c).gatherEvery(step)));
  const count = Math.ceil(df.height / step);
  return nativeFrame(await picked.withColumns(pl.lit(count ? df.height / count : 0).cast(pl.Float64).alias(WEIGHT_COLUMN)).collect());
};

export const boundaries: Kernel = async (params, inputs, context) => {
  const p = params as BoundariesParams;
  const samples = inputs.map((v, i) => toFrame(v, `sample ${i} of ${context.key}`).lazy());
  const all = samples.length === 1 ? samples[0]! : pl.concat(samples, { how: 'vertical' as never }) as unknown as pl.LazyDataFrame;
  const sorted = await sortLazy(all, p.by, p.descending).collect();
  return nativeFrame(pickBoundaries(sorted, p.partitions).select(...p.by));
};

/**
 * The rows of `sorted` (samples in sort order, weighted) that cut it into `partitions` ranges of
 * equal weight: boundary k is the first row whose cumulative weight reaches k/partitions of the
 * total. Fewer samples than partitions repeat rows (those ranges stay empty).
 */
export function pickBoundaries(sorted: pl.DataFrame, partitions: number): pl.DataFrame {
  const weights = sorted.getColumn(WEIGHT_COLUMN).toArray() as number[];
  const total = weights.reduce((s, w) => s + w, 0);
  if (sorted.height === 0 || total <= 0 || partitions < 2) return sorted.head(0);
  const picks: number[] = [];
  let row = 0;
  let cumulative = weights[0]!;
  for (let k = 1; k < partitions; k++) {
    const target = (k * total) / partitions;
    while (cumulative < target && row < sorted.height - 1) cumulative += weights[++row]!;
    picks.push(row);
  }
  return pl.concat(picks.map((i) => sorted.slice(i, 1)), { how: 'vertical', rechunk: true } as never);
}
