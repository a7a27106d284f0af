// StandardScaler: (x - mean) / scale per feature, scikit-learn's: missing values (null, NaN) are
// left out of the statistics and stay missing; var is the population variance; a constant
// feature gets scale 1. Fitted in one round over the shards (spread.ts: each shard's squared
// deviations from its own mean, combined with Chan's correction; as stable as scikit-learn's).
import pl from 'nodejs-polars';
import type { DataFrame } from '../../dataframe/frame.js';
import type { FitOptions, ShardInput, ShardTransformer, Target } from '../core/estimator.js';
import type { Shards } from '../core/shards.js';
import { toShards, type ShardsMeta } from '../core/to-shards.js';
import type { FittedStep, OnnxExportable } from '../onnx/fitted.js';
import { featureSpread } from './spread.js';
import { checkColumns, fitted, withDefaults, type ExprTransformer } from './base.js';

export interface StandardScalerParams {
  withMean: boolean;
  withStd: boolean;
}

const EPS = 2 ** -52;

export class StandardScaler implements ShardTransformer, ExprTransformer, OnnxExportable {
  readonly params: StandardScalerParams;
  readonly shardInput: ShardInput = { y: 'ignored', classify: false };
  featureNamesIn: string[] | undefined;
  mean: number[] | undefined;
  var: number[] | undefined;
  scale: number[] | undefined;
  /** Non-missing values seen per feature. */
  nSamplesSeen: number[] | undefined;

  constructor(params: Partial<StandardScalerParams> = {}) {
    this.params = withDefaults('StandardScaler', { withMean: true, withStd: true }, params);
  }

  getParams(): Record<string, unknown> {
    return { ...this.params };
  }

  withParams(params: Record<string, unknown>): this {
    return new StandardScaler({ ...this.params, ...params }) as this;
  }

  async fit(X: DataFrame, _y?: Target, options: FitOptions = {}): Promise<this> {
    const { shards, meta } = await toShards(X, undefined, { ...options, caller: 'StandardScaler' });
    try {
      return await this.fitShards(shards, meta);
    } finally {
      await shards.release();
    }
  }

  /** The numeric part of fit, on any Shards. */
  async fitShards(shards: Shards, meta: ShardsMeta): Promise<this> {
    const { count: n, mean, variance } = await featureSpread(shards);
    this.featureNamesIn = [...meta.features];
    this.nSamplesSeen = n;
    this.mean = mean;
    this.var = variance;
    // scikit-learn's _is_constant_feature: a variance within rounding of zero is zero.
    this.scale = variance.map((v, j) => (v <= n[j]! * EPS * v + (n[j]! * mean[j]! * EPS) ** 2 ? 1 : Math.sqrt(v)));
    return this;
  }

  outputExprs(): pl.Expr[] {
    const names = fitted(this.featureNamesIn, 'StandardScaler', 'transform');
    const { shift, factor } = this.shardTransform().params;
    return names.map((name, j) => {
      let e = pl.col(name).cast(pl.Float64);
      if (shift) e = e.minus(shift[j]!);
      if (factor) e = e.mul(factor[j]!);
      return e.alias(name);
    });
  }

  /**
   * (x - mean) * (1 / scale): a multiplication, as Polars makes of a division by a literal, so
   * the expressions and the shard kernel give the same bits.
   */
  shardTransform(): { kernel: string; params: { shift?: number[]; factor?: number[] } } {
    fitted(this.featureNamesIn, 'StandardScaler', 'transform');
    const params = { ...(this.params.withMean ? { shift: this.mean! } : {}), ...(this.params.withStd ? { factor: this.scale!.map((s) => 1 / s) } : {}) };
    return { kernel: 'preprocess/standardize', params };
  }

  transform(X: DataFrame): DataFrame {
    checkColumns('StandardScaler', X, fitted(this.featureNamesIn, 'StandardScaler', 'transform'));
    return X.select(...this.outputExprs());
  }

  onnxSteps(): FittedStep[] {
    const names = fitted(this.featureNamesIn, 'StandardScaler', 'onnxSteps');
    return [{
      kind: 'standard-scaler',
      mean: this.params.withMean ? [...this.mean!] : names.map(() => 0),
      scale: this.params.withStd ? [...this.scale!] : names.map(() => 1),
    }];
  }
}
