// A shuffle, as Dask's peer-to-peer one: df/split cuts a partition's rows into buckets by the
// hash of key columns (or by ranges, for sort) and keeps them where it ran; df/barrier (a
// barrier task: it reads no data) records where each split is once all are done; df/take,
// output partition j, reads bucket j of every split through those receipts (only that bucket
// travels, cut by the holder with df/bucket), concatenates them and runs the fused ops that
// follow. The scheduler sees P + Q edges, not P x Q.
import pl from 'nodejs-polars';
import type { Kernel, KernelContext } from '../../worker/runtime/builtins.js';
import type { StoredValue } from '../../worker/runtime/data-store.js';
import type { SplitParams, TakeParams } from '../plan/tasks.js';
import { decodeValue, encodeValue } from '../../protocol/value-codec.js';
import type { EncodedValue } from '../../protocol/values.js';
import { BUCKET_COLUMN, BucketSet, cutBuckets, nativeBuckets, toBuckets } from './buckets.js';
import { nativeFrame, toFrame } from './frames.js';
import { KernelInputError } from './errors.js';
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

/** The splits' receipts: each split's key and its holders, in split order. */
type Receipts = Array<[string, string[]]>;

export const barrier: Kernel = async (_params, _inputs, context) => {
  if (!context.inputsAt) throw new KernelInputError(`${context.key}: df/barrier must run as a barrier task`);
  return encodeValue(context.inputsAt satisfies Receipts);
};

/** Bucket `index` of `count` of a split, for a peer's take (the holder cuts; only it travels). */
export const bucket: Kernel = async (params, inputs, context) => {
  const { index, count } = params as { index: number; count: number };
  const frame = toBuckets(inputs[0]!, count, `split ${context.key}`).buckets[index];
  if (!frame) throw new KernelInputError(`${context.key}: no bucket ${index} of ${count}`);
  return nativeFrame(frame);
};

export const take: Kernel = async (params, inputs, context) => {
  const p = params as TakeParams;
  const whole = await gatherBucket(inputs[0]!, p.bucket, p.partitions, context);
  if (p.ops.length === 0) return nativeFrame(whole);
  return nativeFrame(await applyOps(whole.lazy(), p.ops).collect());
};

/** Bucket `bucket` of every split the barrier's receipts name, in split order, concatenated. */
export async function gatherBucket(receipts: StoredValue, bucket: number, partitions: number, context: KernelContext): Promise<pl.DataFrame> {
  const holders = decodeValue(receipts as EncodedValue) as Receipts;
  const parts = await context.readParts(holders, { index: bucket, count: partitions, cutter: 'df/bucket' });
  const frames = parts.map((p, i) => 'whole' in p
    ? toBuckets(p.whole, partitions, `split ${i} of ${context.key}`).buckets[bucket]!
    : toFrame(p.part, `bucket ${bucket} of split ${i} of ${context.key}`));
  return frames.length === 1 ? frames[0]! : pl.concat(frames, { how: 'vertical', rechunk: false } as never);
}

function dtypeOf(name: string): pl.DataType {
  const d = simpleDtype(name);
  if (!d) throw new Error(`internal: cannot cast shuffle keys to ${name}`);
  return d;
}
