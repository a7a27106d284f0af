// What the estimators of the ml-models part share: parameter checks, the fitted-state guard,
// the feature-column check of predict, and linear scores as Polars expressions.
import pl from 'nodejs-polars';
import type { DataFrame } from '../../dataframe/frame.js';
import { MlParamError, MlDataError, NotFittedError } from '../errors.js';
import { accuracyScore, r2Score } from '../metrics/index.js';
import type { FitOptions, Target } from '../core/estimator.js';

export function positive(estimator: string, name: string, value: number): number {
  if (!(typeof value === 'number' && Number.isFinite(value) && value > 0)) throw new MlParamError(`${estimator}: ${name} must be a finite number > 0, got ${String(value)}`);
  return value;
}

export function nonNegative(estimator: string, name: string, value: number): number {
  if (!(typeof value === 'number' && Number.isFinite(value) && value >= 0)) throw new MlParamError(`${estimator}: ${name} must be a finite number >= 0, got ${String(value)}`);
  return value;
}

export function positiveInteger(estimator: string, name: string, value: number): number {
  if (!(Number.isInteger(value) && value > 0)) throw new MlParamError(`${estimator}: ${name} must be an integer > 0, got ${String(value)}`);
  return value;
}

export function oneOf<T extends string>(estimator: string, name: string, value: T, allowed: readonly T[]): T {
  if (!allowed.includes(value)) throw new MlParamError(`${estimator}: ${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(value)}`);
  return value;
}

/** Refuses parameter names the estimator does not have (a typo would otherwise be ignored). */
export function knownParams(estimator: string, given: object, defaults: object): void {
  for (const name of Object.keys(given)) {
    if (!Object.hasOwn(defaults, name)) throw new MlParamError(`${estimator}: unknown parameter ${name} (it takes ${Object.keys(defaults).join(', ')})`);
  }
}

export function fitted<T>(estimator: string, value: T | undefined, what = 'predict'): T {
  if (value === undefined) throw new NotFittedError(estimator, what);
  return value;
}

/** The fitted feature columns, checked against X's: a missing one is named before anything runs. */
export function requireFeatures(estimator: string, X: DataFrame, features: string[]): void {
  const have = new Set(X.columns);
  const missing = features.filter((f) => !have.has(f));
  if (missing.length > 0) throw new MlDataError(`${estimator}: X lacks the column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} it was fitted on (fitted on ${features.join(', ')})`);
}

/**
 * intercept + sum_j coef[j] * features[j], as Float64. Zero coefficients are kept: an
 * expression of literals alone would select one row, not one per input row.
 */
export function linearExpr(features: string[], coef: number[], intercept: number): pl.Expr {
  return features.reduce<pl.Expr>((acc, f, j) => acc.add(pl.col(f).cast(pl.Float64).mul(pl.lit(coef[j]!))), pl.lit(intercept));
}

/** `value` on every row of the input (a bare literal would select a single row). */
export function constantExpr(feature: string, value: number): pl.Expr {
  return pl.col(feature).isNull().cast(pl.Float64).mul(0).add(pl.lit(value));
}

/** The index of the largest of exprs (the first on ties, as numpy's argmax), mapped to labels. */
export function argmaxExpr(exprs: pl.Expr[], labels: number[]): pl.Expr {
  const last = exprs.length - 1;
  if (last === 0) throw new Error('internal: argmax of one score');
  const best = (i: number): pl.Expr => exprs.slice(i + 1).map((e) => exprs[i]!.gtEq(e)).reduce((a, b) => a.and(b));
  let chain = pl.when(best(0)).then(pl.lit(labels[0]!));
  for (let i = 1; i < last; i++) chain = chain.when(best(i)).then(pl.lit(labels[i]!)) as never;
  return chain.otherwise(pl.lit(labels[last]!)).cast(pl.Float64);
}

/**
 * The predicted label from a linear classifier's scores: one score (binary), classes[1] where
 * it is > 0, as scikit-learn; several, the class of the largest.
 */
export function labelExpr(scores: pl.Expr[], classes: number[]): pl.Expr {
  if (scores.length === 1) return pl.when(scores[0]!.gt(0)).then(pl.lit(classes[1]!)).otherwise(pl.lit(classes[0]!)).cast(pl.Float64);
  return argmaxExpr(scores, classes);
}

/** Softmax of the scores, stable (the row's largest subtracted first). */
export function softmaxExprs(scores: pl.Expr[]): pl.Expr[] {
  const top = pl.maxHorizontal(scores);
  const exps = scores.map((z) => z.sub(top).exp());
  const total = pl.sumHorizontal(exps);
  return exps.map((e) => e.div(total));
}

export function sigmoidExpr(z: pl.Expr): pl.Expr {
  return pl.lit(1).div(pl.lit(1).add(z.mul(-1).exp()));
}

/**
 * score(X, y): accuracy (classifiers) or R2 (regressors) of `prediction` over X's partitions, by
 * ml.metrics, so it matches scikit-learn's (a constant y included). y: a column of X, or a
 * one-column DataFrame of X's partitions.
 */
export async function scoreOn(estimator: string, X: DataFrame, y: Target, prediction: pl.Expr, kind: 'accuracy' | 'r2', options?: FitOptions): Promise<number> {
  return scorePredicted(estimator, X, y, X.select(prediction.alias('prediction')), kind, options);
}

/** Accuracy or R2 of predictions made from X (a one-column frame) against y. */
export async function scorePredicted(estimator: string, X: DataFrame, y: Target, yPred: DataFrame, kind: 'accuracy' | 'r2', options?: FitOptions): Promise<number> {
  let yTrue: DataFrame;
  if (typeof y === 'string') {
    if (!X.columns.includes(y)) throw new MlDataError(`${estimator}: score: X has no column ${y}`);
    yTrue = X.select(y);
  } else {
    if (y?.columns?.length !== 1) throw new MlDataError(`${estimator}: score: y must be a column name of X or a one-column DataFrame`);
    yTrue = y;
  }
  const run: FitOptions = options?.client ? { client: options.client } : {};
  return kind === 'accuracy' ? accuracyScore(yTrue, yPred, run) : r2Score(yTrue, yPred, run);
}
