// A fitted ensemble scored on held-out shards where they are (the incremental searches' scoring):
// each shard's sums come back, the same sums as an SGD model's, and merge into accuracy, log
// loss, R2 or errors (sgd.ts scoreFromSums).
import type { Shard } from '../core/matrix.js';
import { rawScores, type Ensemble } from './ensemble.js';
import { sigmoid } from './losses.js';
import type { SgdValidationSums } from '../kernels/sgd.js';

export interface ScoreParams {
  ensemble: Ensemble;
  /** Classifiers: the shard's class index -> the model's (-1: a class the model has not seen). */
  labelMap?: number[];
}

const EPS = 1e-15;

export function scoreSums(p: ScoreParams, shard: Shard): SgdValidationSums {
  const { rows, cols, data } = shard.x;
  const columns = Array.from({ length: cols }, (_, f) => Float64Array.from({ length: rows }, (_, r) => data[r * cols + f]!));
  const raw = rawScores(p.ensemble, columns, rows);
  const y = shard.y!;
  const s: SgdValidationSums = { n: rows, correct: 0, logLoss: 0, sse: 0, sae: 0, meanY: 0, m2: 0 };
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
      s.m2 += delta * (y[i]! - s.meanY);
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
