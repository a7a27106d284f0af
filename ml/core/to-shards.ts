// Turns X (and y) into Shards kept on the workers. Owned by the ml-data part (issue 14);
// replaced there: this placeholder only fixes the signature the estimators call.
import type { DataFrame } from '../../dataframe/frame.js';
import type { FitOptions, Target } from './estimator.js';
import type { Shards } from './shards.js';

export interface ShardsMeta {
  /** The feature columns, in matrix column order. */
  features: string[];
  /** The distinct target values, sorted, when `classify` was asked (y then holds indices into it). */
  classes?: number[];
}

export interface ToShardsOptions extends FitOptions {
  /** y is a class label: collect the distinct values and store indices. */
  classify?: boolean;
}

export async function toShards(_X: DataFrame, _y: Target | undefined, _options: ToShardsOptions = {}): Promise<{ shards: Shards; meta: ShardsMeta }> {
  throw new Error('toShards: not built yet (issue 14, ml-data part)');
}
