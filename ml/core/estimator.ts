// The shapes every estimator shares (scikit-learn's, in camelCase). Fitting reads a DataFrame
// on the cluster; transform, predict and predictProba return lazy DataFrames built from Polars
// expressions over the input columns, so they fuse into each partition's plan and run where the
// partitions are, with no per-row JavaScript.
import type { Client } from '../../client/client.js';
import type { DataFrame } from '../../dataframe/frame.js';
import type { Shards } from './shards.js';
import type { ShardsMeta } from './to-shards.js';

export interface FitOptions {
  /** The client to run on; the default client otherwise. */
  client?: Client;
  /**
   * Cancels the fit (or search): no more tasks start, the call rejects with the signal's reason,
   * and the tasks it made are let go.
   */
  signal?: AbortSignal;
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

/** How an estimator's fit hands y to toShards. */
export interface ShardInput {
  /** 'required': y goes in and must be given; 'ignored': y is not used; 'refused': giving y is an error. */
  y: 'required' | 'ignored' | 'refused';
  /** y holds class labels (toShards' classify). */
  classify: boolean;
}

/**
 * An estimator whose fit is one toShards pass and then fitShards on them: a Pipeline of such
 * steps builds the shards once and transforms them step by step on the workers.
 */
export interface ShardFitter extends Estimator {
  readonly shardInput: ShardInput;
  fitShards(shards: Shards, meta: ShardsMeta): Promise<unknown>;
}

/** A ShardFitter whose fitted transform can be applied to shards; it keeps the columns and their names. */
export interface ShardTransformer extends ShardFitter, Transformer {
  /** The fitted transform as a derive kernel (ml/kernels/derive.ts) and its parameters. */
  shardTransform(): { kernel: string; params: unknown };
}

export function isShardFitter(x: unknown): x is ShardFitter {
  return typeof (x as Partial<ShardFitter> | undefined)?.fitShards === 'function' && typeof (x as ShardFitter).shardInput === 'object';
}

export function isShardTransformer(x: unknown): x is ShardTransformer {
  return isShardFitter(x) && typeof (x as Partial<ShardTransformer>).shardTransform === 'function';
}
