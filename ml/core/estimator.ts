// The shapes every estimator shares (scikit-learn's, in camelCase). Fitting reads a DataFrame
// on the cluster; transform, predict and predictProba return lazy DataFrames built from Polars
// expressions over the input columns, so they fuse into each partition's plan and run where the
// partitions are, with no per-row JavaScript.
import type { Client } from '../../client/client.js';
import type { DataFrame } from '../../dataframe/frame.js';

export interface FitOptions {
  /** The client to run on; the default client otherwise. */
  client?: Client;
}

/** `y`: a one-column DataFrame from the same parent as X (same partitions), or a column of X (then not a feature). */
export type Target = DataFrame | string;

export interface Estimator {
  fit(X: DataFrame, y?: Target, options?: FitOptions): Promise<this>;
  getParams(): Record<string, unknown>;
  /** A new, unfitted estimator with these parameters changed. */
  withParams(params: Record<string, unknown>): this;
}

export interface Transformer extends Estimator {
  /** The transformed columns (names in docs/ml.md). */
  transform(X: DataFrame): DataFrame;
}

export interface Predictor extends Estimator {
  /** One column, `prediction`. */
  predict(X: DataFrame): DataFrame;
  /** R2 for regressors, accuracy for classifiers. */
  score(X: DataFrame, y: Target, options?: FitOptions): Promise<number>;
}

export interface Classifier extends Predictor {
  /** One column per class, `proba_0` ... `proba_{k-1}` in the order of `classes`. */
  predictProba(X: DataFrame): DataFrame;
  readonly classes: number[] | undefined;
}
