// The shard kernel of SGDClassifier / SGDRegressor: one pass of plain SGD over a partition's
// rows in order, as scikit-learn's _plain_sgd with shuffle=False, starting from the weights it
// is given and returning the updated ones. The client runs it on the partitions one after
// another (a pass is sequential by nature), passing each one's result to the next.
import type { Shard } from '../core/matrix.js';

export type SgdLoss = 'log_loss' | 'hinge' | 'squared_error';
export type LearningRate = 'optimal' | 'constant' | 'invscaling';

export interface SgdParams {
  loss: SgdLoss;
  penalty: 'l2' | 'none';
  alpha: number;
  learningRate: LearningRate;
  eta0: number;
  powerT: number;
  fitIntercept: boolean;
  /** One weight row per binary problem (one-vs-rest: one per class; binary and regression: one). */
  coef: number[][];
  intercept: number[];
  /**
   * Classification: for each row of coef, the class index that is its positive class; a row of
   * y (a class index) is positive for that problem when equal. Unused for regression.
   */
  positive: number[];
  /** Map from the shard's y (an index into the batch's classes) to the estimator's class index. */
  labelMap?: number[];
  /** scikit-learn's t_: samples seen + 1, which drives the learning-rate schedule. */
  t: number;
}

export interface SgdState {
  coef: number[][];
  intercept: number[];
  t: number;
}

// scikit-learn clips the loss's derivative to this, against overflow.
const MAX_DLOSS = 1e12;

function gradient(loss: SgdLoss, y: number, p: number): number {
  if (loss === 'log_loss') return 1 / (1 + Math.exp(-p)) - y; // y in {0, 1}
  if (loss === 'hinge') return y * p <= 1 ? -y : 0; // y in {-1, +1}
  return p - y;
}

/** scikit-learn's 'optimal' schedule: eta = 1 / (alpha (t0 + t - 1)), t0 from a typical weight. */
function optimalInit(loss: SgdLoss, alpha: number): number {
  const typw = Math.sqrt(1 / Math.sqrt(alpha));
  const initialEta0 = typw / Math.max(1, gradient(loss, 1, -typw));
  return 1 / (initialEta0 * alpha);
}

export function sgdEpoch(params: SgdParams, shard: Shard): SgdState {
  const { x } = shard;
  const y = shard.y!;
  const p = x.cols;
  const t0 = params.learningRate === 'optimal' ? optimalInit(params.loss, params.alpha) : 0;
  const coef = params.coef.map((row) => Float64Array.from(row));
  const intercept = [...params.intercept];
  coef.forEach((w, k) => {
    let t = params.t;
    let b = intercept[k]!;
    for (let i = 0; i < x.rows; i++) {
      const label = params.labelMap ? params.labelMap[y[i]!]! : y[i]!;
      const target = params.loss === 'squared_error' ? label : label === params.positive[k] ? 1 : params.loss === 'hinge' ? -1 : 0;
      let z = b;
      for (let j = 0; j < p; j++) z += w[j]! * x.data[i * p + j]!;
      const eta = params.learningRate === 'optimal' ? 1 / (params.alpha * (t0 + t - 1)) : params.learningRate === 'invscaling' ? params.eta0 / t ** params.powerT : params.eta0;
      const update = -eta * Math.min(MAX_DLOSS, Math.max(-MAX_DLOSS, gradient(params.loss, target, z)));
      if (params.penalty === 'l2') {
        const decay = Math.max(0, 1 - eta * params.alpha);
        for (let j = 0; j < p; j++) w[j]! *= decay;
      }
      if (update !== 0) {
        for (let j = 0; j < p; j++) w[j]! += update * x.data[i * p + j]!;
        if (params.fitIntercept) b += update;
      }
      t += 1;
    }
    intercept[k] = b;
  });
  return { coef: coef.map((w) => Array.from(w)), intercept, t: params.t + x.rows };
}

/** What a held-out shard says of a model: sums the client turns into any supported score. */
export interface SgdValidationSums {
  [name: string]: number;
  n: number;
  /** Rows whose predicted class is the true one (classifiers). */
  correct: number;
  /** Sum of -log p(true class), probabilities clipped to [eps, 1 - eps] (log_loss classifiers). */
  logLoss: number;
  /** Sums of squared and absolute errors; y's mean and its sum of squared deviations from it (regressors: merged by Chan's formula, exact for a large mean). */
  sse: number;
  sae: number;
  meanY: number;
  m2: number;
}

export interface SgdValidateParams {
  loss: SgdLoss;
  coef: number[][];
  intercept: number[];
  /** Classifiers: the model's classes count (binary: one weight row, class 1 positive; more: one row per class). */
  nClasses?: number;
  /** Classifiers: the shard's y (an index into its own classes) mapped to the model's class index, -1 where the model lacks it. */
  labelMap?: number[];
  eps: number;
}

/**
 * A fitted linear model scored on one shard, as scikit-learn's SGD predicts: binary, class 1
 * where the score is > 0; one-vs-rest, the largest score; probabilities the sigmoid of the score
 * (one-vs-rest's normalised to sum 1).
 */
export function sgdValidate(params: SgdValidateParams, shard: Shard): SgdValidationSums {
  const { x } = shard;
  const y = shard.y!;
  const p = x.cols;
  const k = params.coef.length;
  const coef = params.coef.map((row) => Float64Array.from(row));
  const z = new Float64Array(k);
  const out: SgdValidationSums = { n: x.rows, correct: 0, logLoss: 0, sse: 0, sae: 0, meanY: 0, m2: 0 };
  const classify = params.nClasses !== undefined;
  const probabilities = classify && params.loss === 'log_loss';
  const clip = (q: number) => Math.min(1 - params.eps, Math.max(params.eps, q));
  for (let i = 0; i < x.rows; i++) {
    for (let c = 0; c < k; c++) {
      let s = params.intercept[c]!;
      const w = coef[c]!;
      for (let j = 0; j < p; j++) s += w[j]! * x.data[i * p + j]!;
      z[c] = s;
    }
    if (!classify) {
      const err = z[0]! - y[i]!;
      out.sse += err * err;
      out.sae += Math.abs(err);
      // Welford: the running mean and squared deviations, without the cancellation of sum(y^2) - n mean^2.
      const d = y[i]! - out.meanY;
      out.meanY += d / (i + 1);
      out.m2 += d * (y[i]! - out.meanY);
      continue;
    }
    const label = params.labelMap ? params.labelMap[y[i]!]! : y[i]!;
    let predicted = 0;
    if (k === 1) predicted = z[0]! > 0 ? 1 : 0;
    else for (let c = 1; c < k; c++) if (z[c]! > z[predicted]!) predicted = c;
    if (predicted === label) out.correct += 1;
    if (!probabilities) continue;
    if (label < 0) {
      out.logLoss += -Math.log(params.eps);
    } else if (k === 1) {
      const p1 = 1 / (1 + Math.exp(-z[0]!));
      out.logLoss -= Math.log(clip(label === 1 ? p1 : 1 - p1));
    } else {
      let total = 0;
      for (let c = 0; c < k; c++) total += 1 / (1 + Math.exp(-z[c]!));
      out.logLoss -= Math.log(clip(1 / (1 + Math.exp(-z[label]!)) / total));
    }
  }
  return out;
}

export const sgdKernels = {
  'sgd/epoch': sgdEpoch,
  'sgd/validate': sgdValidate,
};
