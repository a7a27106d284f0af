// Worker side of toShards: a partition (a native Polars frame, and y's when y is a DataFrame of
// its own) made into a shard: the features as a row-major Float64 matrix, nulls NaN, in one
// SharedArrayBuffer (shared-shard.ts), kept native in the worker's data store.
import pl from 'nodejs-polars';
import type { StoredValue } from '../../worker/runtime/data-store.js';
import { toFrame } from '../../dataframe/kernels/frames.js';
import { dtypeName } from '../../dataframe/schema.js';
import { MlDataError } from '../errors.js';
import { allocShard } from './shared-shard.js';
import type { Shard } from './matrix.js';

export interface BuildShardParams {
  /** Which partition this is (0-based), for messages. */
  partition: number;
  features: string[];
  /** The target column: of the X partition, or of the second input when `separateY`. */
  target?: string;
  separateY?: boolean;
}

export function buildShard(p: BuildShardParams, inputs: StoredValue[], key: string): Shard {
  const x = toFrame(inputs[0]!, `partition ${p.partition} of X (${key})`);
  const yFrame = p.separateY ? toFrame(inputs[1]!, `partition ${p.partition} of y (${key})`) : x;
  if (p.separateY && yFrame.height !== x.height) {
    throw new MlDataError(`y has ${yFrame.height} rows in partition ${p.partition} where X has ${x.height}: give y from the same parent as X, selected or derived row by row`);
  }
  const shard = allocShard(x.height, p.features.length, p.target !== undefined);
  const { rows, cols, data } = shard.x;
  p.features.forEach((name, c) => {
    const values = floats(x, name);
    for (let r = 0; r < rows; r++) data[r * cols + c] = values[r]!;
  });
  if (p.target !== undefined) shard.y!.set(targetValues(yFrame, p));
  return shard;
}

/** The shard again, its y labels replaced by their indices into `classes` (sorted). */
export function indexLabels(shard: Shard, classes: number[], partition: number): Shard {
  const { rows, cols, data } = shard.x;
  const out = allocShard(rows, cols, true);
  out.x.data.set(data);
  const index = new Map(classes.map((c, i) => [c, i]));
  const y = shard.y;
  if (!y) throw new MlDataError(`partition ${partition} has no y to take classes from`);
  for (let r = 0; r < rows; r++) {
    const i = index.get(y[r]!);
    if (i === undefined) throw new MlDataError(`y has label ${y[r]} in partition ${partition}, row ${r}, not among the classes ${classes.join(', ')}`);
    out.y![r] = i;
  }
  return out;
}

/** A column as Float64, nulls NaN. */
export function floats(df: pl.DataFrame, name: string): Float64Array {
  const series = df.getColumn(name);
  // Without nulls, straight from the Series: an expression per column costs more than the copy.
  if (series.nullCount() === 0) return (dtypeName(series.dtype) === 'Float64' ? series : series.cast(pl.Float64)).toTypedArray() as Float64Array;
  return df.select(pl.col(name).cast(pl.Float64).fillNull(NaN)).getColumn(name).toTypedArray() as Float64Array;
}

function targetValues(df: pl.DataFrame, p: BuildShardParams): Float64Array {
  const name = p.target!;
  const values = floats(df, name);
  for (let r = 0; r < values.length; r++) {
    if (Number.isNaN(values[r])) throw new MlDataError(`y ("${name}") has a null or NaN in partition ${p.partition}, row ${r}: drop or fill those rows before fitting`);
  }
  return values;
}
