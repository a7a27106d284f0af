// The metrics from the summaries the shard kernels add up: pure arithmetic, scikit-learn's
// definitions (zero division gives `zeroDivision`, 0 by default, as scikit-learn's "warn").
import { MlDataError, MlParamError } from '../errors.js';
import { mergeCounts } from './kernels.js';

export type Average = 'binary' | 'micro' | 'macro' | 'weighted';

export interface ClassificationOptions {
  /** Default 'binary': the scores of posLabel only. */
  average?: Average;
  /** Default 1. */
  posLabel?: number;
  /** What a 0/0 gives (default 0). */
  zeroDivision?: number;
  /** The labels, in order (confusionMatrix; the averages' label set); default: the sorted union of true and predicted. */
  labels?: number[];
}

/** Pair counts parsed: the labels (sorted union) and counts[true][predicted] over them. */
export function confusionFromPairs(pairs: Record<string, number>, labels?: number[]): { labels: number[]; matrix: number[][] } {
  const entries = Object.entries(pairs).map(([k, n]) => {
    const [t, p] = k.split(' ').map(Number);
    return { t: t!, p: p!, n };
  });
  const all = labels ?? [...new Set(entries.flatMap((e) => [e.t, e.p]))].sort((a, b) => a - b);
  const at = new Map(all.map((l, i) => [l, i]));
  const matrix = all.map(() => all.map(() => 0));
  for (const { t, p, n } of entries) {
    const [i, j] = [at.get(t), at.get(p)];
    if (i !== undefined && j !== undefined) matrix[i]![j]! += n;
  }
  return { labels: all, matrix };
}

export function accuracyFromPairs(pairs: Record<string, number>): number {
  let right = 0, all = 0;
  for (const [k, n] of Object.entries(pairs)) {
    const [t, p] = k.split(' ');
    if (t === p) right += n;
    all += n;
  }
  return right / all;
}

/** Precision, recall or F1 as scikit-learn's precision_recall_fscore_support with `average`. */
export function prfFromPairs(pairs: Record<string, number>, metric: 'precision' | 'recall' | 'f1', options: ClassificationOptions, caller: string): number {
  const average = options.average ?? 'binary';
  const zero = options.zeroDivision ?? 0;
  if (!['binary', 'micro', 'macro', 'weighted'].includes(average)) throw new MlParamError(`${caller}: average must be binary, micro, macro or weighted, got ${String(average)}`);
  const { labels, matrix } = confusionFromPairs(pairs, options.labels);
  const tp = labels.map((_, i) => matrix[i]![i]!);
  const predicted = labels.map((_, j) => matrix.reduce((s, row) => s + row[j]!, 0));
  const support = matrix.map((row) => row.reduce((a, b) => a + b, 0));
  const score = (tpSum: number, predSum: number, trueSum: number): number => {
    const precision = predSum === 0 ? zero : tpSum / predSum;
    const recall = trueSum === 0 ? zero : tpSum / trueSum;
    if (metric === 'precision') return precision;
    if (metric === 'recall') return recall;
    // scikit-learn: F = 2 tp / (2 tp + fp + fn), zeroDivision when that is 0/0.
    const denom = predSum + trueSum;
    return denom === 0 ? zero : (2 * tpSum) / denom;
  };
  if (average === 'binary') {
    const pos = options.posLabel ?? 1;
    if (labels.length > 2) throw new MlDataError(`${caller}: the labels are ${labels.join(', ')} (more than two), but average is 'binary'; choose average 'micro', 'macro' or 'weighted'`);
    const i = labels.indexOf(pos);
    if (i < 0) {
      if (labels.length < 2) return score(0, 0, 0); // posLabel never true nor predicted
      throw new MlDataError(`${caller}: posLabel ${pos} is not a label (the labels are ${labels.join(', ')}); give posLabel`);
    }
    return score(tp[i]!, predicted[i]!, support[i]!);
  }
  if (average === 'micro') return score(sum(tp), sum(predicted), sum(support));
  const per = labels.map((_, i) => score(tp[i]!, predicted[i]!, support[i]!));
  if (average === 'macro') return sum(per) / per.length;
  const total = sum(support);
  return total === 0 ? zero : per.reduce((s, v, i) => s + v * support[i]!, 0) / total;
}

/** Exact ROC AUC from per-shard sorted score counts: P(score of a positive > a negative's) + half the ties, as the trapezoids of scikit-learn's curve. */
export function aucFromScoreCounts(parts: ReadonlyArray<{ scores: ArrayLike<number>; pos: ArrayLike<number>; neg: ArrayLike<number> }>, caller: string): number {
  // Each shard's scores are ascending: merged, not put in a Map and sorted again.
  const { pos, neg } = mergeCounts(parts);
  let negBelow = 0, area = 0, P = 0, N = 0;
  for (let i = 0; i < pos.length; i++) {
    area += pos[i]! * (negBelow + neg[i]! / 2);
    negBelow += neg[i]!;
    P += pos[i]!;
    N += neg[i]!;
  }
  if (P === 0 || N === 0) throw new MlDataError(`${caller}: only one class is present in yTrue; ROC AUC is not defined then`);
  return area / (P * N);
}

/**
 * logLoss's clipping eps: the machine epsilon of the predictions' dtype, as scikit-learn's
 * (eps="auto"): Float32's when every column is Float32, else Float64's (other dtypes become it).
 */
export function probabilityEps(dtypes: readonly string[]): number {
  return dtypes.length > 0 && dtypes.every((d) => d === 'Float32') ? 2 ** -23 : Number.EPSILON;
}

/** R2 as scikit-learn's (force_finite): a constant yTrue gives 1 when predicted exactly, else 0. */
export function r2From(se: number, ss: number): number {
  if (ss === 0) return se === 0 ? 1 : 0;
  return 1 - se / ss;
}

function sum(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}
