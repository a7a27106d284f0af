// Shard kernels of KMeans: per partition, Lloyd's sums and counts per center, the k-means||
// cost and oversampling, and a uniform sample by random keys. Random draws come from a stream
// seeded by the fit's seed, the round and the shard's own data, so they repeat run after run
// whichever worker holds the shard.
import type { Matrix, Shard } from '../core/matrix.js';
import { mulberry32 } from '../cluster/random.js';
import { nearestLoop } from './specialised.js';

export interface CentersParams {
  /** k centers of the shard's column count, row-major. */
  centers: number[];
}

/** Where nearest() leaves the squared distance it found: no allocation per row in the passes over a shard. */
const NEAREST = new Float64Array(1);

/** The index of the center nearest to row i (the first on ties, as sklearn); its squared distance in NEAREST[0]. */
function nearest(x: Matrix, i: number, centers: Float64Array): number {
  const p = x.cols;
  const data = x.data;
  const row = i * p;
  const k = centers.length / p;
  let best = 0;
  let bestD = Infinity;
  for (let c = 0, at = 0; c < k; c++, at += p) {
    let d = 0;
    for (let j = 0; j < p; j++) {
      const diff = data[row + j]! - centers[at + j]!;
      d += diff * diff;
    }
    if (d < bestD) { bestD = d; best = c; }
  }
  NEAREST[0] = bestD;
  return best;
}

export interface LloydSums {
  [name: string]: number | number[];
  /** Per center, the sum of its rows (k x p, row-major). */
  sums: number[];
  counts: number[];
  /** Squared distances to the nearest center, summed. */
  inertia: number;
}

/** One Lloyd step's partial sums: each row goes to its nearest center (the first on ties, as sklearn). */
export function lloydSums(params: CentersParams, shard: Shard): LloydSums {
  const { x } = shard;
  const p = x.cols;
  const data = x.data;
  const centers = Float64Array.from(params.centers);
  const k = centers.length / p;
  const unrolled = nearestLoop(p, k, 'lloyd');
  if (unrolled) return unrolled(x, centers);
  // Shapes too wide to unroll (the hot path is the generated loop).
  const sums = new Float64Array(k * p);
  const counts = new Float64Array(k);
  let inertia = 0;
  for (let i = 0, row = 0; i < x.rows; i++, row += p) {
    const best = nearest(x, i, centers);
    counts[best]! += 1;
    inertia += NEAREST[0]!;
    for (let j = 0; j < p; j++) sums[best * p + j]! += data[row + j]!;
  }
  return { sums: Array.from(sums), counts: Array.from(counts), inertia };
}

export interface SampleParams extends CentersParams {
  /** Expected number of rows drawn over all shards (k-means||'s oversampling factor l). */
  oversampling: number;
  /** The current centers' total cost over all shards. */
  cost: number;
  seed: number;
  round: number;
}

/** k-means|| (Bahmani et al. 2012): each row drawn with probability min(1, l d^2(x, C) / cost). */
export function oversample(params: SampleParams, shard: Shard): number[][] {
  const { x } = shard;
  const random = shardRandom(params.seed, params.round, x);
  const centers = Float64Array.from(params.centers);
  const row = (i: number): number[] => Array.from(x.data.subarray(i * x.cols, (i + 1) * x.cols));
  const unrolled = nearestLoop(x.cols, centers.length / x.cols, 'sample');
  if (unrolled) return unrolled(x, centers, random, params.oversampling, params.cost).map(row);
  const out: number[][] = [];
  for (let i = 0; i < x.rows; i++) {
    nearest(x, i, centers);
    if (random() < (params.oversampling * NEAREST[0]!) / params.cost) out.push(row(i));
  }
  return out;
}

export interface KeyedRows {
  keys: number[];
  rows: number[][];
}

/**
 * The `count` rows with the smallest uniform random keys: over all shards, the rows with the
 * smallest keys overall are a uniform sample without replacement.
 */
export function smallestKeys(params: { count: number; seed: number; round: number }, shard: Shard): KeyedRows {
  const { x } = shard;
  const random = shardRandom(params.seed, params.round, x);
  // The best `count` so far, kept sorted: count is small (k rows at most), the shard large.
  const keyed: Array<readonly [number, number]> = [];
  for (let i = 0; i < x.rows; i++) {
    const key = random();
    if (keyed.length === params.count && key >= keyed[keyed.length - 1]![0]) continue;
    let at = keyed.length;
    while (at > 0 && keyed[at - 1]![0] > key) at--;
    keyed.splice(at, 0, [key, i]);
    if (keyed.length > params.count) keyed.pop();
  }
  return { keys: keyed.map(([key]) => key), rows: keyed.map(([, i]) => Array.from(x.data.subarray(i * x.cols, (i + 1) * x.cols))) };
}

/** How many rows are nearest to each center (k-means||'s candidate weights), and their cost. */
export function nearestCounts(params: CentersParams, shard: Shard): { [name: string]: number | number[]; counts: number[]; cost: number } {
  const { x } = shard;
  const centers = Float64Array.from(params.centers);
  const unrolled = nearestLoop(x.cols, centers.length / x.cols, 'counts');
  if (unrolled) return unrolled(x, centers);
  const counts = new Float64Array(centers.length / x.cols);
  let cost = 0;
  for (let i = 0; i < x.rows; i++) {
    counts[nearest(x, i, centers)]! += 1;
    cost += NEAREST[0]!;
  }
  return { counts: Array.from(counts), cost };
}

/** mulberry32, seeded from the fit's seed, the round and a fingerprint of the shard's data. */
export function shardRandom(seed: number, round: number, x: Matrix): () => number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(round + 1, 0xc2b2ae35) ^ x.rows;
  const bits = new Uint32Array(x.data.buffer, x.data.byteOffset, x.data.length * 2);
  const step = Math.max(1, Math.floor(bits.length / 64));
  for (let i = 0; i < bits.length; i += step) h = Math.imul(h ^ bits[i]!, 0x01000193) >>> 0;
  return mulberry32(h);
}

export const clusterKernels = {
  'cluster/lloyd': lloydSums,
  'cluster/oversample': oversample,
  'cluster/smallest-keys': smallestKeys,
  'cluster/nearest-counts': nearestCounts,
};
