// Shard kernels of the scalers and the imputer: per-feature statistics that ignore NaN (as
// scikit-learn's nan-aware scalers do), summed over shards on the client.
import type { Shard } from '../core/matrix.js';
import { shardSpread } from './spread.js';

// A type, not an interface: Shards.sum needs its implicit index signature.
export type Moments = {
  /** Non-NaN values per feature. */
  count: number[];
  /** Sum per feature. */
  sum: number[];
};

/** Counts and sums per feature. */
export function moments(_params: unknown, shard: Shard): Moments {
  const { rows, cols, data } = shard.x;
  const count = new Array<number>(cols).fill(0);
  const sum = new Array<number>(cols).fill(0);
  for (let r = 0, base = 0; r < rows; r++, base += cols) {
    for (let c = 0; c < cols; c++) {
      const v = data[base + c]!;
      if (Number.isNaN(v)) continue;
      count[c]!++;
      sum[c]! += v;
    }
  }
  return { count, sum };
}

/** Smallest and largest non-NaN value per feature (NaN where a feature has none); combined by mergeRanges. */
export function range(_params: unknown, shard: Shard): { min: number[]; max: number[] } {
  const { rows, cols, data } = shard.x;
  const min = new Array<number>(cols).fill(Infinity);
  const max = new Array<number>(cols).fill(-Infinity);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = data[r * cols + c]!;
      if (v < min[c]!) min[c] = v; // NaN compares false: skipped
      if (v > max[c]!) max[c] = v;
    }
  }
  return { min, max };
}

export function mergeRanges(parts: ReadonlyArray<{ min: number[]; max: number[] }>): { min: number[]; max: number[] } {
  const min = parts[0]!.min.map((_, c) => Math.min(...parts.map((p) => p.min[c]!)));
  const max = parts[0]!.max.map((_, c) => Math.max(...parts.map((p) => p.max[c]!)));
  return { min, max };
}

export const preprocessKernels = {
  'preprocess/moments': moments,
  'preprocess/spread': shardSpread,
  'preprocess/range': range,
};
