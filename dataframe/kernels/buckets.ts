// A shuffle's split output: one partition's rows cut into buckets, one per output partition.
// Kept native (a frame per bucket); it leaves the process (spilled, or copied to a peer) as a
// parted value, one Arrow IPC stream per bucket, so one bucket can be read without the others.
import pl from 'nodejs-polars';
import type { NativeValue, StoredValue } from '../../worker/runtime/data-store.js';
import { Encoding } from '../../protocol/value-codec.js';
import { encodeParted, partedCount, partsOf } from '../../protocol/parted.js';
import { KernelInputError } from './errors.js';
import { frameBytes } from './frames.js';

export const BUCKET_COLUMN = '__kd_bucket';

export class BucketSet {
  /** buckets[j] holds the rows for output partition j (empty frames for none). */
  constructor(readonly buckets: pl.DataFrame[]) {}
}

export function nativeBuckets(set: BucketSet): NativeValue {
  return {
    native: set,
    encoding: Encoding.ENCODING_ARROW_IPC,
    nbytes: set.buckets.reduce((n, b) => n + frameBytes(b), 0),
    encode: () => encodeParted(set.buckets.map((b) => b.writeIPCStream({ compression: 'lz4' }))),
  };
}

/** Cuts a frame by its bucket column into `count` buckets (dropping the column). */
export function cutBuckets(tagged: pl.DataFrame, count: number): BucketSet {
  const empty = tagged.drop(BUCKET_COLUMN).head(0);
  const buckets = Array.from({ length: count }, () => empty);
  if (tagged.height > 0) {
    for (const part of tagged.partitionBy(BUCKET_COLUMN, false, true)) {
      const j = Number(part.getColumn(BUCKET_COLUMN).get(0));
      buckets[j] = part.drop(BUCKET_COLUMN);
    }
  }
  return new BucketSet(buckets);
}

/** A split's output as buckets: the native set, or its parted bytes read back. */
export function toBuckets(value: StoredValue, count: number, what: string): BucketSet {
  if ('native' in value && value.native instanceof BucketSet) return value.native;
  const data = 'data' in value ? value.data : undefined;
  if (!data || partedCount(data) !== count) throw new KernelInputError(`${what} is not a split into ${count} buckets`);
  return new BucketSet(partsOf(data).map((p) => pl.readIPCStream(Buffer.from(p.buffer, p.byteOffset, p.byteLength))));
}
