// Scoring a fitted linear classifier where its held-out shards are: per shard, the right answers,
// the summed log loss, and (for ROC AUC) the distinct probabilities of the positive class with
// their positive and negative counts. The same arithmetic, in the same order, as the model's
// Polars expressions (linearExpr, sigmoidExpr, softmaxExprs, labelExpr), so a score from here
// equals one from predict/predictProba and ml.metrics.
import type { Shard } from '../core/matrix.js';
import { countsOf, type ScoreCounts } from '../metrics/kernels.js';

export interface ClassifierScoreParams {
  /** One row (binary: the score of classes[1]) or one per class (multinomial: softmax). */
  coef: number[][];
  intercept: number[];
  /** The shard's y (an index into its own classes) mapped to the model's class index; -1 where the model lacks it. */
  labelMap: number[];
  /** Probabilities are clipped to [eps, 1 - eps] for the log loss. */
  eps: number;
  /** Binary only: also the score counts of p(classes[1]) that ROC AUC reads. */
  counts?: boolean;
}

export interface ClassifierScoreSums {
  n: number;
  correct: number;
  logLoss: number;
  counts?: ScoreCounts;
}

export function classifierScore(params: ClassifierScoreParams, shard: Shard): ClassifierScoreSums {
  const { rows, cols: p, data } = shard.x;
  const y = shard.y!;
  const k = params.coef.length;
  const coef = params.coef.map((row) => Float64Array.from(row));
  const z = new Float64Array(k);
  const clip = (q: number) => Math.min(1 - params.eps, Math.max(params.eps, q));
  const out: ClassifierScoreSums = { n: rows, correct: 0, logLoss: 0 };
  const p1 = params.counts ? new Float64Array(rows) : undefined;
  for (let i = 0, row = 0; i < rows; i++, row += p) {
    for (let c = 0; c < k; c++) {
      const w = coef[c]!;
      let s = params.intercept[c]!;
      for (let j = 0; j < p; j++) s += data[row + j]! * w[j]!;
      z[c] = s;
    }
    const label = params.labelMap[y[i]!]!;
    if (k === 1) {
      if ((z[0]! > 0 ? 1 : 0) === label) out.correct++;
      const q1 = 1 / (1 + Math.exp(-z[0]!));
      if (p1) p1[i] = q1;
      out.logLoss -= Math.log(label < 0 ? params.eps : clip(label === 1 ? q1 : 1 / (1 + Math.exp(z[0]!))));
      continue;
    }
    let top = 0;
    for (let c = 1; c < k; c++) if (z[c]! > z[top]!) top = c;
    if (top === label) out.correct++;
    let total = 0;
    for (let c = 0; c < k; c++) total += Math.exp(z[c]! - z[top]!);
    out.logLoss -= Math.log(label < 0 ? params.eps : clip(Math.exp(z[label]! - z[top]!) / total));
  }
  if (p1) out.counts = countsOf(rows, (r) => p1[r]!, (r) => params.labelMap[y[r]!] === 1);
  return out;
}

export const classifierScoreKernels = {
  'linear/classifier-score': classifierScore,
};
