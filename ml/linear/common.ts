// What the estimators of the ml-models part share: parameter checks, the fitted-state guard,
// the feature-column check of predict, and linear scores as Polars expressions.
import pl from 'nodejs-polars';
import type { DataFrame } from '../../dataframe/frame.js';
import { MlParamError, MlDataError, NotFittedError } from '../errors.js';
import type { RunOptions } from '../../dataframe/execute.js';
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
 * score(X, y) when y is a column of X: one aggregation over the partitions. A y given as its own
 * DataFrame is ml.metrics' work (accuracyScore / r2Score take two lazy frames).
 */
export async function scoreOnColumn(estimator: string, X: DataFrame, y: Target, prediction: pl.Expr, kind: 'accuracy' | 'r2', options?: FitOptions): Promise<number> {
  if (typeof y !== 'string') throw new MlParamError(`${estimator}: score takes y as the name of a column of X; for a separate y frame use ml.metrics.${kind === 'accuracy' ? 'accuracyScore' : 'r2Score'}(y, model.predict(X))`);
  if (!X.columns.includes(y)) throw new MlDataError(`${estimator}: score: X has no column ${y}`);
  const truth = pl.col(y).cast(pl.Float64);
  const run: RunOptions = options?.client ? { client: options.client } : {};
  if (kind === 'accuracy') {
    const out = await X.select(prediction.eq(truth).cast(pl.Float64).mean().alias('accuracy')).compute(run);
    return Number(out.getColumn('accuracy').get(0));
  }
  const out = await X.select(
    truth.sub(prediction).pow(2).sum().alias('ssRes'), truth.sum().alias('sy'), truth.pow(2).sum().alias('syy'), truth.count().alias('n'),
  ).compute(run);
  const get = (c: string): number => Number(out.getColumn(c).get(0));
  const ssTot = get('syy') - get('sy') ** 2 / get('n');
  return 1 - get('ssRes') / ssTot;
}
