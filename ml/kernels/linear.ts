// Shard kernels of the linear models: per partition, the sums a solver needs (loss, gradient,
// Hessian, Gram matrix). Pure functions of (params, shard); the client adds them up.
import type { Shard } from '../core/matrix.js';
import { classifierScoreKernels } from './classifier-score.js';
import { clusterKernels } from './cluster.js';
import { sgdKernels } from './sgd.js';
import { singleScoreLoop } from './specialised.js';

export type GlmFamily = 'binomial' | 'multinomial' | 'poisson';

export interface GlmParams {
  family: GlmFamily;
  /** k rows of (coef..., intercept when fitIntercept): k = 1 except multinomial (one per class). */
  w: number[];
  k: number;
  fitIntercept: boolean;
  hessian: boolean;
}

export interface GlmSums {
  [name: string]: number | number[];
  /** The loss summed over rows: binomial/multinomial log-loss, Poisson half deviance less its y-only term. */
  loss: number;
  grad: number[];
  /** Row-major d x d (d = w.length), only when asked. */
  hess: number[];
}

/** Loss, gradient (and Hessian) of a GLM's unpenalised loss over one shard. */
export function glmSums(params: GlmParams, shard: Shard): GlmSums {
  if (params.k === 1 && !params.hessian) return singleScoreSums(params, shard);
  const { x } = shard;
  const y = shard.y!;
  const { family, w, k, fitIntercept, hessian } = params;
  const p = x.cols;
  const stride = p + (fitIntercept ? 1 : 0);
  const d = w.length;
  const grad = new Float64Array(d);
  const hess = hessian ? new Float64Array(d * d) : undefined;
  const z = new Float64Array(k);
  const r = new Float64Array(k); // dloss/dz per class
  let loss = 0;
  for (let i = 0; i < x.rows; i++) {
    const row = i * p;
    for (let c = 0; c < k; c++) {
      let s = fitIntercept ? w[c * stride + p]! : 0;
      for (let j = 0; j < p; j++) s += w[c * stride + j]! * x.data[row + j]!;
      z[c] = s;
    }
    const yi = y[i]!;
    if (family === 'binomial') {
      const zi = z[0]!;
      loss += (zi > 0 ? zi + Math.log1p(Math.exp(-zi)) : Math.log1p(Math.exp(zi))) - yi * zi;
      r[0] = 1 / (1 + Math.exp(-zi)) - yi;
    } else if (family === 'poisson') {
      const mu = Math.exp(z[0]!);
      loss += mu - yi * z[0]!;
      r[0] = mu - yi;
    } else {
      let m = -Infinity;
      for (let c = 0; c < k; c++) m = Math.max(m, z[c]!);
      let sum = 0;
      for (let c = 0; c < k; c++) sum += Math.exp(z[c]! - m);
      loss += m + Math.log(sum) - z[yi]!;
      for (let c = 0; c < k; c++) r[c] = Math.exp(z[c]! - m) / sum - (c === yi ? 1 : 0);
    }
    for (let c = 0; c < k; c++) {
      const rc = r[c]!;
      for (let j = 0; j < p; j++) grad[c * stride + j]! += rc * x.data[row + j]!;
      if (fitIntercept) grad[c * stride + p]! += rc;
    }
    if (hess) addHessianRow(hess, family, r, yi, x.data, row, p, k, stride, d);
  }
  return { loss, grad: Array.from(grad), hess: hess ? Array.from(hess) : [] };
}

/** The common case on its own (binomial or Poisson, no Hessian): the hot loop of L-BFGS, one exp per row. */
function singleScoreSums(params: GlmParams, shard: Shard): GlmSums {
  const { x } = shard;
  const y = shard.y!;
  const p = x.cols;
  const data = x.data;
  const w = Float64Array.from(params.w);
  const binomial = params.family === 'binomial';
  const unrolled = p > 0 ? singleScoreLoop(p, params.fitIntercept, binomial ? 'binomial' : 'poisson') : undefined;
  if (unrolled) return { ...unrolled(data, y, x.rows, w), hess: [] };
  const b = params.fitIntercept ? w[p]! : 0;
  const grad = new Float64Array(w.length);
  let loss = 0;
  let gradB = 0;
  for (let i = 0, row = 0; i < x.rows; i++, row += p) {
    let z = b;
    for (let j = 0; j < p; j++) z += w[j]! * data[row + j]!;
    const yi = y[i]!;
    let r: number;
    if (binomial) {
      // log(1 + e^z) and sigmoid(z) from one exp(-|z|), stable for either sign.
      const e = Math.exp(-Math.abs(z));
      loss += (z > 0 ? z : 0) + Math.log1p(e) - yi * z;
      r = (z >= 0 ? 1 / (1 + e) : e / (1 + e)) - yi;
    } else {
      const mu = Math.exp(z);
      loss += mu - yi * z;
      r = mu - yi;
    }
    for (let j = 0; j < p; j++) grad[j]! += r * data[row + j]!;
    gradB += r;
  }
  if (params.fitIntercept) grad[p] = gradB;
  return { loss, grad: Array.from(grad), hess: [] };
}

/**
 * Adds one row's x x^T weighted by the loss's second derivative in z: from r = dloss/dz, since
 * the mean is r + y (binomial, Poisson) or r + onehot(y) (multinomial's probabilities).
 */
function addHessianRow(hess: Float64Array, family: GlmFamily, r: Float64Array, yi: number, data: Float64Array, row: number, p: number, k: number, stride: number, d: number): void {
  for (let a = 0; a < k; a++) {
    const pa = r[a]! + (family === 'multinomial' ? (a === yi ? 1 : 0) : yi);
    for (let b = 0; b < k; b++) {
      let weight: number;
      if (family === 'binomial') weight = pa * (1 - pa);
      else if (family === 'poisson') weight = pa;
      else weight = pa * ((a === b ? 1 : 0) - (r[b]! + (b === yi ? 1 : 0)));
      if (weight === 0) continue;
      for (let i = 0; i < stride; i++) {
        const wi = weight * (i < p ? data[row + i]! : 1);
        const base = (a * stride + i) * d + b * stride;
        for (let j = 0; j < p; j++) hess[base + j]! += wi * data[row + j]!;
        if (stride > p) hess[base + p]! += wi;
      }
    }
  }
}

export interface MomentSums {
  [name: string]: number | number[];
  n: number;
  x: number[];
  y: number;
}

/** Row count and column sums (x and y): the shift that centres the Gram matrix. */
export function momentSums(_params: unknown, shard: Shard): MomentSums {
  const { x } = shard;
  const sums = new Float64Array(x.cols);
  let ys = 0;
  for (let i = 0; i < x.rows; i++) {
    for (let j = 0; j < x.cols; j++) sums[j]! += x.data[i * x.cols + j]!;
    ys += shard.y ? shard.y[i]! : 0;
  }
  return { n: x.rows, x: Array.from(sums), y: ys };
}

export interface GramParams {
  /** Subtracted from each column (the means, or zeros without an intercept). */
  xShift: number[];
  yShift: number;
}

export interface GramSums {
  [name: string]: number[];
  /** (X - shift)^T (X - shift), row-major p x p. */
  xtx: number[];
  /** (X - shift)^T (y - yShift). */
  xty: number[];
}

/** The normal equations' sums over one shard, of data shifted to its means (so they stay accurate). */
export function gramSums(params: GramParams, shard: Shard): GramSums {
  const { x } = shard;
  const y = shard.y!;
  const p = x.cols;
  const xtx = new Float64Array(p * p);
  const xty = new Float64Array(p);
  const centred = new Float64Array(p);
  for (let i = 0; i < x.rows; i++) {
    for (let j = 0; j < p; j++) centred[j] = x.data[i * p + j]! - params.xShift[j]!;
    const yi = y[i]! - params.yShift;
    for (let a = 0; a < p; a++) {
      const ca = centred[a]!;
      xty[a]! += ca * yi;
      for (let b = a; b < p; b++) xtx[a * p + b]! += ca * centred[b]!;
    }
  }
  for (let a = 0; a < p; a++) for (let b = 0; b < a; b++) xtx[a * p + b] = xtx[b * p + a]!;
  return { xtx: Array.from(xtx), xty: Array.from(xty) };
}

/** The smallest target value of one shard (Infinity when empty): Poisson needs y >= 0. */
export function targetMin(_params: unknown, shard: Shard): number {
  let m = Infinity;
  for (const v of shard.y ?? []) m = v < m || Number.isNaN(v) ? v : m;
  return m;
}

/** The ml-models part's kernels (linear, cluster, sgd), listed in the registry by one spread. */
export const linearKernels = {
  ...clusterKernels,
  ...sgdKernels,
  ...classifierScoreKernels,
  'linear/glm': glmSums,
  'linear/y-min': targetMin,
  'linear/moments': momentSums,
  'linear/gram': gramSums,
};
