// A fitted ensemble scored on held-out shards where they are (the incremental searches' scoring):
// each shard's sums come back and merge into accuracy, log loss, R2 or errors.
import type { Shard } from '../core/matrix.js';
import { rawScores, type Ensemble } from './ensemble.js';
import { sigmoid } from './losses.js';

export interface ScoreParams {
  ensemble: Ensemble;
  /** Classifiers: the shard's class index -> the model's (-1: a class the model has not seen). */
  labelMap?: number[];
}

export interface ScoreSums {
  n: number;
  correct: number;
  logLoss: number;
  /** Regression: errors, and y's mean and centred sum of squares (merged by Chan's formula). */
  sse: number;
  sae: number;
  meanY: number;
  m2Y: number;
}

const EPS = 1e-15;

export function scoreSums(p: ScoreParams, shard: Shard): ScoreSums {
  const { rows, cols, data } = shard.x;
  const columns = Array.from({ length: cols }, (_, f) => Float64Array.from({ length: rows }, (_, r) => data[r * cols + f]!));
  const raw = rawScores(p.ensemble, columns, rows);
  const y = shard.y!;
  const s: ScoreSums = { n: rows, correct: 0, logLoss: 0, sse: 0, sae: 0, meanY: 0, m2Y: 0 };
  const k = p.ensemble.baseline.length;
  for (let i = 0; i < rows; i++) {
    if (p.labelMap) {
      const label = p.labelMap[y[i]!]!;
      const proba = probabilities(p.ensemble.loss, raw, k, rows, i);
      let best = 0;
      for (let c = 1; c < proba.length; c++) if (proba[c]! > proba[best]!) best = c;
      if (best === label) s.correct++;
      s.logLoss -= Math.log(Math.min(1 - EPS, Math.max(EPS, label >= 0 ? proba[label]! : 0)));
    } else {
      const d = raw[i]! - y[i]!;
      s.sse += d * d;
      s.sae += Math.abs(d);
      const delta = y[i]! - s.meanY;
      s.meanY += delta / (i + 1);
      s.m2Y += delta * (y[i]! - s.meanY);
    }
  }
  return s;
}

/** Row i's class probabilities from its raw scores. */
export function probabilities(loss: Ensemble['loss'], raw: Float64Array, k: number, rows: number, i: number): number[] {
  if (loss === 'binary') {
    const p = sigmoid(raw[i]!);
    return [1 - p, p];
  }
  let max = -Infinity;
  for (let c = 0; c < k; c++) max = Math.max(max, raw[c * rows + i]!);
  const e = Array.from({ length: k }, (_, c) => Math.exp(raw[c * rows + i]! - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

export function mergeScoreSums(parts: readonly ScoreSums[]): ScoreSums {
  return parts.reduce((a, b) => {
    const n = a.n + b.n;
    const delta = b.meanY - a.meanY;
    return {
      n, correct: a.correct + b.correct, logLoss: a.logLoss + b.logLoss, sse: a.sse + b.sse, sae: a.sae + b.sae,
      meanY: n > 0 ? a.meanY + (delta * b.n) / n : 0, m2Y: a.m2Y + b.m2Y + (n > 0 ? (delta * delta * a.n * b.n) / n : 0),
    };
  });
}
