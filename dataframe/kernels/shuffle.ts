// The two halves of a shuffle. df/split: a partition's rows cut into buckets by the hash of
// key columns (or by ranges, for sort). df/take: output partition j, bucket j of every split
// concatenated, then the fused ops that follow.
import pl from 'nodejs-polars';
import type { Kernel } from '../../worker/runtime/builtins.js';
import type { StoredValue } from '../../worker/runtime/data-store.js';
import type { SplitParams, TakeParams } from '../plan/tasks.js';
import { BUCKET_COLUMN, BucketSet, cutBuckets, nativeBuckets, toBuckets } from './buckets.js';
import { nativeFrame, toFrame } from './frames.js';
import { applyOps, simpleDtype } from './ops.js';
import { runStage } from './stage.js';
import { rangeBuckets } from './range-buckets.js';

/** Fixed seeds: every worker must put a row in the same bucket. */
const SEEDS = [0x6b75, 0x6265, 0x6461, 0x736b] as const;

export const split: Kernel = async (params, inputs, context) => {
  const p = params as SplitParams;
  const ranged = p.how.kind === 'range';
  const df = await runStage(p.stage, ranged ? inputs.slice(0, -1) : inputs, context.key);
  let bucket: pl.Series;
  if (p.how.kind === 'hash') {
    const keys = df.select(...p.how.by.map((c) => {
      const cast = p.how.kind === 'hash' ? p.how.cast?.[c] : undefined;
      return cast ? pl.col(c).cast(dtypeOf(cast)) : pl.col(c);
    }));
    bucket = keys.hashRows(...SEEDS).alias(BUCKET_COLUMN);
    bucket = pl.DataFrame([bucket]).select(pl.col(BUCKET_COLUMN).modulo(pl.lit(p.partitions).cast(pl.UInt64)).cast(pl.UInt32)).getColumn(BUCKET_COLUMN);
  } else {
    // Cut already, each bucket in sort order (sorted runs make the take's sort cheaper).
    const boundaries = toFrame(inputs.at(-1)!, `boundaries of ${context.key}`);
    return nativeBuckets(new BucketSet(await rangeBuckets(df, boundaries, p.how.by, p.how.descending, p.partitions)));
  }
  return nativeBuckets(cutBuckets(df.withColumns(bucket), p.partitions));
};

export const take: Kernel = async (params, inputs, context) => {
  const p = params as TakeParams;
  const whole = gatherBucket(inputs, p.bucket, p.partitions, context.key);
  if (p.ops.length === 0) return nativeFrame(whole);
  return nativeFrame(await applyOps(whole.lazy(), p.ops).collect());
};

/** Bucket `bucket` of every split in `inputs`, concatenated. */
export function gatherBucket(inputs: StoredValue[], bucket: number, partitions: number, key: string): pl.DataFrame {
  const frames = inputs.map((v, i) => toBuckets(v, partitions, `split ${i} of ${key}`).buckets[bucket]!);
  return frames.length === 1 ? frames[0]! : pl.concat(frames, { how: 'vertical', rechunk: false } as never);
}

function dtypeOf(name: string): pl.DataType {
  const d = simpleDtype(name);
  if (!d) throw new Error(`internal: cannot cast shuffle keys to ${name}`);
  return d;
}
