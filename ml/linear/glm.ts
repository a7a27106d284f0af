// A GLM's objective over shards, as the solvers see it: the mean loss summed on the workers
// plus an L2 term on the coefficients (never the intercept, as scikit-learn).
import type { Shards } from '../core/shards.js';
import type { GlmFamily, GlmParams, GlmSums } from '../kernels/linear.js';
import { MlDataError } from '../errors.js';
import type { Objective } from './optimize.js';

export interface GlmShape {
  family: GlmFamily;
  /** Rows of w: one per class for multinomial, else 1. */
  k: number;
  p: number;
  fitIntercept: boolean;
}

export function stride(shape: GlmShape): number {
  return shape.p + (shape.fitIntercept ? 1 : 0);
}

/** Whether w[i] is a coefficient (penalised) rather than an intercept. */
export function isCoef(shape: GlmShape, i: number): boolean {
  return i % stride(shape) < shape.p;
}

/**
 * The objective mean(loss) + l2/2 ||coef||^2. The multinomial directions along
 * which the loss is flat (all classes' intercepts, and every feature's coefficients without a
 * penalty: `flatCoefs`) get a curvature term in the Hessian so Newton can solve; the gradient is orthogonal
 * to them, so the step is the same Newton step.
 */
export function glmObjective(estimator: string, shards: Shards, shape: GlmShape, l2: number, flatCoefs = l2 === 0): Objective {
  const n = shards.nRows;
  if (n === 0) throw new MlDataError(`${estimator}: X has no rows`);
  let checked = false;
  return async (w, hessian) => {
    const params: GlmParams = { family: shape.family, w: Array.from(w), k: shape.k, fitIntercept: shape.fitIntercept, hessian };
    const sums = await shards.sum<GlmSums>('linear/glm', params);
    if (!checked) {
      if (!Number.isFinite(sums.loss)) throw new MlDataError(`${estimator}: the features hold NaN or infinite values (missing values?); impute them first (ml.SimpleImputer)`);
      checked = true;
    }
    let f = sums.loss / n;
    const g = Float64Array.from(sums.grad, (v) => v / n);
    const d = w.length;
    for (let i = 0; i < d; i++) {
      if (!isCoef(shape, i)) continue;
      f += 0.5 * l2 * w[i]! ** 2;
      g[i]! += l2 * w[i]!;
    }
    if (!hessian) return { f, g };
    const h = Float64Array.from(sums.hess, (v) => v / n);
    for (let i = 0; i < d; i++) if (isCoef(shape, i)) h[i * d + i]! += l2;
    if (shape.family === 'multinomial') addFlatCurvature(h, shape, flatCoefs);
    return { f, g, h };
  };
}

function addFlatCurvature(h: Float64Array, shape: GlmShape, coefsToo: boolean): void {
  const d = shape.k * stride(shape);
  let scale = 0;
  for (let i = 0; i < d; i++) scale = Math.max(scale, h[i * d + i]!);
  const add = (scale || 1) / shape.k;
  for (let j = 0; j < stride(shape); j++) {
    if (j < shape.p && !coefsToo) continue;
    for (let a = 0; a < shape.k; a++) for (let b = 0; b < shape.k; b++) h[(a * stride(shape) + j) * d + b * stride(shape) + j]! += add;
  }
}

/** w as coef rows and intercepts. */
export function unpack(shape: GlmShape, w: ArrayLike<number>): { coef: number[][]; intercept: number[] } {
  const s = stride(shape);
  const coef: number[][] = [];
  const intercept: number[] = [];
  for (let c = 0; c < shape.k; c++) {
    coef.push(Array.from({ length: shape.p }, (_, j) => w[c * s + j]!));
    intercept.push(shape.fitIntercept ? w[c * s + shape.p]! : 0);
  }
  return { coef, intercept };
}

/**
 * The multinomial's unidentified parts shifted to sum to zero over the classes (the loss is
 * unchanged): the intercepts always, the coefficients when unpenalised (`centreCoef`).
 */
export function identifyMultinomial(coef: number[][], intercept: number[], centreCoef: boolean): void {
  const column = intercept.map((b) => [b]);
  centreOverClasses(column);
  column.forEach(([b], c) => { intercept[c] = b!; });
  if (centreCoef) centreOverClasses(coef);
}

/** Rows are classes: each column shifted to sum to zero over them. */
function centreOverClasses(values: number[][]): void {
  if (values.length < 2) return;
  for (let j = 0; j < values[0]!.length; j++) {
    const mean = values.reduce((s, row) => s + row[j]!, 0) / values.length;
    for (const row of values) row[j]! -= mean;
  }
}
