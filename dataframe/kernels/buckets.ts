// A shuffle's split output: one partition's rows cut into buckets, one per output partition.
// Kept native (a frame per bucket); it leaves the process (spilled, or copied to a peer) as a
// parted value, one Arrow IPC stream per bucket, so one bucket can be read without the others.
import pl from 'nodejs-polars';
import type { NativeValue, StoredValue } from '../../worker/runtime/data-store.js';
import { Encoding } from '../../protocol/value-codec.js';
import { encodeParted, partedCount, partsOf } from '../../protocol/parted.js';
import { KernelInputError } from './errors.js';
import { frameBytes } from './frames.js';

export class BucketSet {
  /**
   * `frame`'s rows grouped by bucket: bucket j is rows offsets[j] .. offsets[j + 1] - 1 (one frame
   * and slices of it: a split into hundreds of buckets makes no per-bucket objects until asked).
   */
  constructor(readonly frame: pl.DataFrame, readonly offsets: readonly number[]) {}

  get count(): number {
    return this.offsets.length - 1;
  }

  bucket(j: number): pl.DataFrame {
    const start = this.offsets[j];
    if (start === undefined || j >= this.count) throw new KernelInputError(`no bucket ${j} of ${this.count}`);
    return this.frame.slice(start, this.offsets[j + 1]! - start);
  }

  frames(): pl.DataFrame[] {
    return Array.from({ length: this.count }, (_, j) => this.bucket(j));
  }

  /** Buckets given as frames (a spilled split read back), as one frame. */
  static fromFrames(frames: pl.DataFrame[]): BucketSet {
    const offsets = [0];
    for (const f of frames) offsets.push(offsets.at(-1)! + f.height);
    return new BucketSet(frames.length === 1 ? frames[0]! : pl.concat(frames, { how: 'vertical', rechunk: false } as never), offsets);
  }

  /** `df`'s rows put in bucket order by a counting sort (stable: rows keep their order within a bucket). */
  static async byNumber(df: pl.DataFrame, buckets: Uint32Array, count: number): Promise<BucketSet> {
    const offsets = new Array<number>(count + 1).fill(0);
    for (const b of buckets) offsets[b + 1]!++;
    for (let j = 0; j < count; j++) offsets[j + 1]! += offsets[j]!;
    const next = offsets.slice(0, count);
    const order = new Uint32Array(buckets.length);
    for (let i = 0; i < buckets.length; i++) order[next[buckets[i]!]!++] = i;
    const sorted = df.height === 0 ? df : await df.withColumns(pl.Series(ORDER, order as never, pl.UInt32)).lazy()
      .select(pl.all().exclude(ORDER).gather(pl.col(ORDER)))
      .collect();
    return new BucketSet(sorted, offsets);
  }
}

const ORDER = '__kd_bucket_order';

export function nativeBuckets(set: BucketSet): NativeValue {
  return {
    native: set,
    encoding: Encoding.ENCODING_ARROW_IPC,
    nbytes: frameBytes(set.frame),
    encode: () => encodeParted(set.frames().map((b) => b.writeIPCStream({ compression: 'lz4' }))),
  };
}

/** A split's output as buckets: the native set, or its parted bytes read back. */
export function toBuckets(value: StoredValue, count: number, what: string): BucketSet {
  if ('native' in value && value.native instanceof BucketSet) return value.native;
  const data = 'data' in value ? value.data : undefined;
  if (!data || partedCount(data) !== count) throw new KernelInputError(`${what} is not a split into ${count} buckets`);
  return BucketSet.fromFrames(partsOf(data).map((p) => pl.readIPCStream(Buffer.from(p.buffer, p.byteOffset, p.byteLength))));
}
