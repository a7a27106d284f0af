// Shard kernels of ml.metrics. A metric's shard holds the predictions as x (one column, or one
// per class for probabilities) and the true values as y; each kernel returns a small summary
// that adds up (or, for ROC AUC, merges) over shards.
import type { Shard } from '../core/matrix.js';

/** How often each (true, predicted) pair occurs, keyed `${true} ${predicted}`. */
export function pairCounts(_params: unknown, shard: Shard): Record<string, number> {
  const { rows, cols, data } = shard.x;
  const y = shard.y!;
  // Counted by number (a key string a row cost ~10x more); the few distinct pairs named at the end.
  const byTrue = new Map<number, Map<number, number>>();
  for (let r = 0; r < rows; r++) {
    let byPred = byTrue.get(y[r]!);
    if (!byPred) byTrue.set(y[r]!, (byPred = new Map()));
    const p = data[r * cols]!;
    byPred.set(p, (byPred.get(p) ?? 0) + 1);
  }
  const counts: Record<string, number> = {};
  for (const [t, byPred] of byTrue) for (const [p, n] of byPred) counts[`${t} ${p}`] = (counts[`${t} ${p}`] ?? 0) + n;
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
  return countsOf(rows, (r) => {
    const s = data[r * cols + params.column]!;
    if (Number.isNaN(s)) throw new Error(`yPred holds NaN (row ${r} of a partition); ROC AUC needs a score for every row`);
    return s;
  }, (r) => y[r] === params.posLabel);
}

/**
 * The distinct scores of rows 0 .. rows-1, ascending, with their positive and negative counts.
 * The positives' and the negatives' scores are kept apart, each sorted by the typed array's own
 * numeric sort (a comparator sort of row indices was ~10x slower), then merged.
 */
export function countsOf(rows: number, score: (row: number) => number, positive: (row: number) => boolean): ScoreCounts {
  let nPos = 0;
  for (let r = 0; r < rows; r++) if (positive(r)) nPos++;
  const posScores = new Float64Array(nPos), negScores = new Float64Array(rows - nPos);
  for (let r = 0, p = 0, q = 0; r < rows; r++) {
    if (positive(r)) posScores[p++] = score(r);
    else negScores[q++] = score(r);
  }
  posScores.sort();
  negScores.sort();
  return mergeCounts([
    { scores: posScores, pos: new Float64Array(nPos).fill(1), neg: new Float64Array(nPos) },
    { scores: negScores, pos: new Float64Array(rows - nPos), neg: new Float64Array(rows - nPos).fill(1) },
  ]);
}

type Counts = { scores: ArrayLike<number>; pos: ArrayLike<number>; neg: ArrayLike<number> };

/**
 * Score counts merged: each part's scores ascending (repeats allowed), the result's distinct and
 * ascending with their positives and negatives added up. Parts are merged two at a time, in
 * rounds: O(n log parts).
 */
export function mergeCounts(parts: readonly Counts[]): ScoreCounts {
  // One part or none still goes through mergeTwo: a part's repeated scores are folded too.
  if (parts.length <= 1) return mergeTwo(parts[0] ?? NO_COUNTS, NO_COUNTS);
  let round: readonly Counts[] = parts;
  while (round.length > 1) {
    const next: Counts[] = [];
    for (let i = 0; i < round.length; i += 2) next.push(i + 1 < round.length ? mergeTwo(round[i]!, round[i + 1]!) : round[i]!);
    round = next;
  }
  return round[0] as ScoreCounts;
}

const NO_COUNTS: Counts = { scores: [], pos: [], neg: [] };

function mergeTwo(a: Counts, b: Counts): ScoreCounts {
  const total = a.scores.length + b.scores.length;
  const scores = new Float64Array(total), pos = new Float64Array(total), neg = new Float64Array(total);
  let n = 0;
  for (let i = 0, j = 0; i < a.scores.length || j < b.scores.length;) {
    const fromA = j >= b.scores.length || (i < a.scores.length && a.scores[i]! <= b.scores[j]!);
    const part = fromA ? a : b;
    const k = fromA ? i++ : j++;
    const s = part.scores[k]!;
    if (n === 0 || scores[n - 1] !== s) scores[n++] = s;
    pos[n - 1]! += part.pos[k]!;
    neg[n - 1]! += part.neg[k]!;
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
