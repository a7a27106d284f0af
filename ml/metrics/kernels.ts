// Shard kernels of ml.metrics. A metric's shard holds the predictions as x (one column, or one
// per class for probabilities) and the true values as y; each kernel returns a small summary
// that adds up (or, for ROC AUC, merges) over shards.
import type { Shard } from '../core/matrix.js';

/** How often each (true, predicted) pair occurs, keyed `${true} ${predicted}`. */
export function pairCounts(_params: unknown, shard: Shard): Record<string, number> {
  const { rows, cols, data } = shard.x;
  const y = shard.y!;
  const counts: Record<string, number> = {};
  for (let r = 0; r < rows; r++) {
    const key = `${y[r]} ${data[r * cols]}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** How often each true label occurs. */
export function labelCounts(_params: unknown, shard: Shard): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const v of shard.y!) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}

/** Rows, squared and absolute errors and the sum of y; given `mean`, the sum of (y - mean)^2 as `ss`. */
export function regressionSums(params: { mean?: number }, shard: Shard): Record<string, number> {
  const { rows, cols, data } = shard.x;
  const y = shard.y!;
  if (params.mean !== undefined) {
    let ss = 0;
    for (let r = 0; r < rows; r++) ss += (y[r]! - params.mean) ** 2;
    return { ss };
  }
  let se = 0, ae = 0, sy = 0;
  for (let r = 0; r < rows; r++) {
    const d = y[r]! - data[r * cols]!;
    se += d * d;
    ae += Math.abs(d);
    sy += y[r]!;
  }
  return { n: rows, se, ae, sy };
}

/** The distinct scores of column `column`, ascending, with how many positive (y == posLabel) and negative rows have each (typed arrays: they can be long). */
export function scoreCounts(params: { column: number; posLabel: number }, shard: Shard): ScoreCounts {
  const { rows, cols, data } = shard.x;
  const y = shard.y!;
  const score = new Float64Array(rows);
  for (let r = 0; r < rows; r++) score[r] = data[r * cols + params.column]!;
  const order = Uint32Array.from({ length: rows }, (_, r) => r).sort((a, b) => score[a]! - score[b]!);
  const scores = new Float64Array(rows), pos = new Float64Array(rows), neg = new Float64Array(rows);
  let n = 0;
  for (const r of order) {
    if (n === 0 || scores[n - 1] !== score[r]) scores[n++] = score[r]!;
    if (y[r] === params.posLabel) pos[n - 1]!++;
    else neg[n - 1]!++;
  }
  return { scores: scores.slice(0, n), pos: pos.slice(0, n), neg: neg.slice(0, n) };
}

export interface ScoreCounts {
  scores: Float64Array;
  pos: Float64Array;
  neg: Float64Array;
}

/**
 * Summed -log p(true class), p clipped to [eps, 1 - eps] as scikit-learn clips. One column: the
 * probability of classes[1] (binary); k columns: one per class, in the order of `classes`.
 */
export function logLossSum(params: { classes: number[]; eps: number }, shard: Shard): Record<string, number> {
  const { rows, cols, data } = shard.x;
  const y = shard.y!;
  const index = new Map(params.classes.map((c, i) => [c, i]));
  const clip = (p: number) => Math.min(Math.max(p, params.eps), 1 - params.eps);
  let loss = 0;
  for (let r = 0; r < rows; r++) {
    const k = index.get(y[r]!);
    if (k === undefined) throw new Error(`label ${y[r]} of row ${r} is not among the classes ${params.classes.join(', ')}`);
    const p = cols === 1 ? (k === 1 ? data[r]! : 1 - data[r]!) : data[r * cols + k]!;
    loss -= Math.log(clip(p));
  }
  return { n: rows, loss };
}

/** NaN among the predictions (a null score): the metric is undefined, the caller says so. */
export function nanCount(_params: unknown, shard: Shard): number {
  let n = 0;
  for (const v of shard.x.data) if (Number.isNaN(v)) n++;
  return n;
}

export const metricKernels = {
  'metrics/pairs': pairCounts,
  'metrics/labels': labelCounts,
  'metrics/regression': regressionSums,
  'metrics/scores': scoreCounts,
  'metrics/log-loss': logLossSum,
  'metrics/nan': nanCount,
};
