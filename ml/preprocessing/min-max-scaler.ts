// MinMaxScaler: x * scale + min per feature, mapping each feature's range onto featureRange
// (scikit-learn's scale_ and min_; a constant feature gets scale 1 over its range). Missing
// values are left out of the range and stay missing. The ranges come from one map over the
// shards, combined here (min and max do not add up).
import pl from 'nodejs-polars';
import type { DataFrame } from '../../dataframe/frame.js';
import type { FitOptions, ShardInput, ShardTransformer, Target } from '../core/estimator.js';
import type { Shards } from '../core/shards.js';
import { toShards, type ShardsMeta } from '../core/to-shards.js';
import { MlParamError } from '../errors.js';
import type { FittedStep, OnnxExportable } from '../onnx/fitted.js';
import { mergeRanges } from './kernels.js';
import { checkColumns, fitted, withDefaults, type ExprTransformer } from './base.js';

export interface MinMaxScalerParams {
  featureRange: [number, number];
}

const EPS = 2 ** -52;

export class MinMaxScaler implements ShardTransformer, ExprTransformer, OnnxExportable {
  readonly params: MinMaxScalerParams;
  readonly shardInput: ShardInput = { y: 'ignored', classify: false };
  featureNamesIn: string[] | undefined;
  dataMin: number[] | undefined;
  dataMax: number[] | undefined;
  dataRange: number[] | undefined;
  scale: number[] | undefined;
  min: number[] | undefined;

  constructor(params: Partial<MinMaxScalerParams> = {}) {
    this.params = withDefaults('MinMaxScaler', { featureRange: [0, 1] as [number, number] }, params);
    const [a, b] = this.params.featureRange;
    if (!(a < b)) throw new MlParamError(`MinMaxScaler: featureRange must be [min, max] with min < max, got [${a}, ${b}]`);
  }

  getParams(): Record<string, unknown> {
    return { featureRange: [...this.params.featureRange] };
  }

  withParams(params: Record<string, unknown>): this {
    return new MinMaxScaler({ ...this.params, ...params }) as this;
  }

  async fit(X: DataFrame, _y?: Target, options: FitOptions = {}): Promise<this> {
    const { shards, meta } = await toShards(X, undefined, { ...options, caller: 'MinMaxScaler' });
    try {
      return await this.fitShards(shards, meta);
    } finally {
      await shards.release();
    }
  }

  async fitShards(shards: Shards, meta: ShardsMeta): Promise<this> {
    const { min, max } = mergeRanges(await shards.map<{ min: number[]; max: number[] }>('preprocess/range', {}));
    const [a, b] = this.params.featureRange;
    const dataMin = min.map((v) => (v === Infinity ? NaN : v)); // a feature with no values
    const dataMax = max.map((v) => (v === -Infinity ? NaN : v));
    const dataRange = dataMax.map((v, j) => v - dataMin[j]!);
    // scikit-learn's _handle_zeros_in_scale: a range within rounding of zero counts as 1.
    this.scale = dataRange.map((r) => (b - a) / (r < 10 * EPS ? 1 : r));
    this.min = dataMin.map((v, j) => a - v * this.scale![j]!);
    Object.assign(this, { featureNamesIn: [...meta.features], dataMin, dataMax, dataRange });
    return this;
  }

  outputExprs(): pl.Expr[] {
    const names = fitted(this.featureNamesIn, 'MinMaxScaler', 'transform');
    return names.map((name, j) => pl.col(name).cast(pl.Float64).mul(this.scale![j]!).plus(this.min![j]!).alias(name));
  }

  shardTransform(): { kernel: string; params: { scale: number[]; min: number[] } } {
    fitted(this.featureNamesIn, 'MinMaxScaler', 'transform');
    return { kernel: 'preprocess/min-max', params: { scale: this.scale!, min: this.min! } };
  }

  transform(X: DataFrame): DataFrame {
    checkColumns('MinMaxScaler', X, fitted(this.featureNamesIn, 'MinMaxScaler', 'transform'));
    return X.select(...this.outputExprs());
  }

  onnxSteps(): FittedStep[] {
    fitted(this.featureNamesIn, 'MinMaxScaler', 'onnxSteps');
    return [{ kind: 'min-max-scaler', scale: [...this.scale!], min: [...this.min!] }];
  }
}
