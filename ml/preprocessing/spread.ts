// Per-feature mean and variance in one round over the shards: each shard sums its non-missing
// values and their squared deviations from its own mean (two passes over shard memory, no round
// trip between them); the client adds the shards' parts with Chan et al.'s correction for the
// distance between each shard's mean and the overall one. As stable as two rounds over the data
// (the second centred on the global mean), and one round trip fewer.
import type { Shard } from '../core/matrix.js';
import type { Shards } from '../core/shards.js';

// A type, not an interface: kernel results travel as plain records.
export type ShardSpread = {
  /** Non-NaN values per feature. */
  count: number[];
  /** Their sum per feature. */
  sum: number[];
  /** Their squared deviations from this shard's mean (sum / count), summed per feature. */
  m2: number[];
};

/** The shard's part (kernel 'preprocess/spread'): NaN is left out, as scikit-learn's nan-aware scalers do. */
export function shardSpread(_params: unknown, shard: Shard): ShardSpread {
  const { rows, cols, data } = shard.x;
  const count = new Float64Array(cols);
  const sum = new Float64Array(cols);
  for (let r = 0, base = 0; r < rows; r++, base += cols) {
    for (let c = 0; c < cols; c++) {
      const v = data[base + c]!;
      if (Number.isNaN(v)) continue;
      count[c]!++;
      sum[c]! += v;
    }
  }
  const mean = sum.map((s, c) => (count[c]! > 0 ? s / count[c]! : 0));
  const m2 = new Float64Array(cols);
  for (let r = 0, base = 0; r < rows; r++, base += cols) {
    for (let c = 0; c < cols; c++) {
      const v = data[base + c]!;
      if (Number.isNaN(v)) continue;
      const d = v - mean[c]!;
      m2[c]! += d * d;
    }
  }
  return { count: Array.from(count), sum: Array.from(sum), m2: Array.from(m2) };
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
      const d = p.sum[c]! / n - mean[c]!;
      ssd[c]! += p.m2[c]! + n * d * d;
    }
  }
  return { count, mean, variance: ssd.map((s, c) => s / count[c]!) };
}

/** Mean and variance per feature of these shards, in one round. */
export async function featureSpread(shards: Shards): Promise<FeatureSpread> {
  return combineSpreads(await shards.map<ShardSpread>('preprocess/spread', {}), shards.nFeatures);
}
