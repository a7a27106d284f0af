// Per-feature mean and variance in one round over the shards: each shard sums its non-missing
// values and their squared deviations from its own mean (two passes over shard memory, no round
// trip between them); the client adds the shards' parts with Chan et al.'s correction for the
// distance between each shard's mean and the overall one. That distance is taken from a value of
// the shard and the mean's offset from it, so values far from zero (1e9 + small spread) keep
// their variance to ~1e-15, as two rounds over the data (the second centred on the global mean)
// would, with one round trip fewer.
import type { Shard } from '../core/matrix.js';
import type { Shards } from '../core/shards.js';

// A type, not an interface: kernel results travel as plain records.
export type ShardSpread = {
  /** Non-NaN values per feature. */
  count: number[];
  /** Their sum per feature. */
  sum: number[];
  /** Per feature, a value of the shard (its first non-NaN one; 0 when none) ... */
  shift: number[];
  /** ... and the mean's distance from it: mean = shift + offset, exactly enough when the values are far from zero. */
  offset: number[];
  /** Squared deviations from the shard's mean, summed per feature. */
  m2: number[];
};

/** The shard's part (kernel 'preprocess/spread'): NaN is left out, as scikit-learn's nan-aware scalers do. */
export function shardSpread(_params: unknown, shard: Shard): ShardSpread {
  const { rows, cols, data } = shard.x;
  const count = new Float64Array(cols);
  const sum = new Float64Array(cols);
  const shift = new Float64Array(cols);
  const shifted = new Float64Array(cols);
  for (let r = 0, base = 0; r < rows; r++, base += cols) {
    for (let c = 0; c < cols; c++) {
      const v = data[base + c]!;
      if (Number.isNaN(v)) continue;
      if (count[c] === 0) shift[c] = v;
      count[c]!++;
      sum[c]! += v;
      shifted[c]! += v - shift[c]!;
    }
  }
  const offset = shifted.map((s, c) => (count[c]! > 0 ? s / count[c]! : 0));
  const m2 = new Float64Array(cols);
  for (let r = 0, base = 0; r < rows; r++, base += cols) {
    for (let c = 0; c < cols; c++) {
      const v = data[base + c]!;
      if (Number.isNaN(v)) continue;
      const d = v - shift[c]! - offset[c]!;
      m2[c]! += d * d;
    }
  }
  return { count: Array.from(count), sum: Array.from(sum), shift: Array.from(shift), offset: Array.from(offset), m2: Array.from(m2) };
}

export interface FeatureSpread {
  /** Non-missing values per feature. */
  count: number[];
  /** The mean (sum / count; NaN for a feature with no values). */
  mean: number[];
  /** The population variance (squared deviations from the mean / count). */
  variance: number[];
}

/** The shards' parts combined, in shard order (the same bits whichever worker ran which). */
export function combineSpreads(parts: readonly ShardSpread[], cols: number): FeatureSpread {
  const count = new Array<number>(cols).fill(0);
  const sum = new Array<number>(cols).fill(0);
  for (const p of parts) {
    for (let c = 0; c < cols; c++) {
      count[c]! += p.count[c]!;
      sum[c]! += p.sum[c]!;
    }
  }
  const mean = sum.map((s, c) => s / count[c]!);
  const ssd = new Array<number>(cols).fill(0);
  for (const p of parts) {
    for (let c = 0; c < cols; c++) {
      const n = p.count[c]!;
      if (n === 0) continue;
      // The shard mean's distance from the overall one, without rounding the shard mean itself.
      const d = (p.shift[c]! - mean[c]!) + p.offset[c]!;
      ssd[c]! += p.m2[c]! + n * d * d;
    }
  }
  return { count, mean, variance: ssd.map((s, c) => s / count[c]!) };
}

/** Mean and variance per feature of these shards, in one round. */
export async function featureSpread(shards: Shards): Promise<FeatureSpread> {
  return combineSpreads(await shards.map<ShardSpread>('preprocess/spread', {}), shards.nFeatures);
}
