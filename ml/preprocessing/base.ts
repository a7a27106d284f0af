// What the preprocessing estimators share: parameters checked by name, and the fitted form every
// transform takes, Polars expressions over the input columns (so a ColumnTransformer can put
// several side by side in one select, and the result fuses into each partition's plan).
import type pl from 'nodejs-polars';
import type { DataFrame } from '../../dataframe/frame.js';
import { MlDataError, MlParamError, NotFittedError } from '../errors.js';

/** A transformer whose fitted transform is one expression per output column, over its input columns by name. */
export interface ExprTransformer {
  /** The columns fit saw, in order. */
  readonly featureNamesIn: string[] | undefined;
  /** The transform's output columns, each aliased to its name. */
  outputExprs(): pl.Expr[];
}

export function isExprTransformer(x: unknown): x is ExprTransformer {
  return typeof x === 'object' && x !== null && typeof (x as ExprTransformer).outputExprs === 'function';
}

/** `given` over `defaults`, refusing names `defaults` lacks (a typo would otherwise be ignored). */
export function withDefaults<P extends object>(estimator: string, defaults: P, given: Partial<P> | Record<string, unknown>): P {
  const unknown = Object.keys(given).filter((k) => !Object.hasOwn(defaults, k));
  if (unknown.length) throw new MlParamError(`${estimator}: unknown parameter${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; it takes ${Object.keys(defaults).join(', ')}`);
  const out = { ...defaults };
  for (const [k, v] of Object.entries(given)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

export function fitted<T>(value: T | undefined, estimator: string, what: string): T {
  if (value === undefined) throw new NotFittedError(estimator, what);
  return value;
}

/** X for transform: it must have the columns fit saw. */
export function checkColumns(estimator: string, X: DataFrame, names: string[]): void {
  const missing = names.filter((n) => !X.columns.includes(n));
  if (missing.length) throw new MlDataError(`${estimator}: X lacks column${missing.length > 1 ? 's' : ''} ${missing.map((n) => `"${n}"`).join(', ')} that it was fitted on; its columns are ${X.columns.join(', ')}`);
}
