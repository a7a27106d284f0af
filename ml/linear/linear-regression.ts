// Ordinary least squares by the normal equations: per shard the Gram matrix X^T X and X^T y of
// the data shifted to its column means (a first pass sums the means), so the sums stay accurate
// when features sit far from zero; the client solves the p x p system (Cholesky, or the
// minimum-norm solution for collinear features, as scikit-learn's lstsq gives).
import type { DataFrame } from '../../dataframe/frame.js';
import type { FitOptions, Predictor, Target, ShardFitter, ShardInput } from '../core/estimator.js';
import type { Shards } from '../core/shards.js';
import { toShards, type ShardsMeta } from '../core/to-shards.js';
import type { FittedStep, OnnxExportable } from '../onnx/fitted.js';
import type { GramSums, MomentSums } from '../kernels/linear.js';
import { MlDataError } from '../errors.js';
import { fitted, knownParams, linearExpr, requireFeatures, scoreOn } from './common.js';
import { solveSymmetric } from './linalg.js';
import type pl from 'nodejs-polars';

export interface LinearRegressionParams {
  fitIntercept: boolean;
}

const DEFAULTS: LinearRegressionParams = { fitIntercept: true };
const NAME = 'LinearRegression';

export class LinearRegression implements Predictor, OnnxExportable, ShardFitter {
  readonly shardInput: ShardInput = { y: 'required', classify: false };
  readonly params: Readonly<LinearRegressionParams>;
  coef: number[] | undefined;
  intercept: number | undefined;
  featureNames: string[] | undefined;

  constructor(params: Partial<LinearRegressionParams> = {}) {
    knownParams(NAME, params, DEFAULTS);
    this.params = { ...DEFAULTS, ...params };
  }

  getParams(): Record<string, unknown> {
    return { ...this.params };
  }

  withParams(params: Record<string, unknown>): this {
    return new LinearRegression({ ...this.params, ...params }) as this;
  }

  async fit(X: DataFrame, y?: Target, options: FitOptions = {}): Promise<this> {
    if (y === undefined) throw new MlDataError(`${NAME}: fit needs y`);
    const { shards, meta } = await toShards(X, y, { ...options, caller: NAME });
    try {
      return await this.fitShards(shards, meta);
    } finally {
      await shards.release();
    }
  }

  async fitShards(shards: Shards, meta: ShardsMeta): Promise<this> {
    const p = meta.features.length;
    const moments = await shards.sum<MomentSums>('linear/moments', {});
    if (moments.n === 0) throw new MlDataError(`${NAME}: X has no rows`);
    const center = this.params.fitIntercept;
    const xMean = moments.x.map((s) => (center ? s / moments.n : 0));
    const yMean = center ? moments.y / moments.n : 0;
    if (![...xMean, yMean, ...moments.x, moments.y].every(Number.isFinite)) throw new MlDataError(`${NAME}: X or y holds NaN or infinite values (missing values?); impute them first (ml.SimpleImputer)`);
    const gram = await shards.sum<GramSums>('linear/gram', { xShift: xMean, yShift: yMean });
    const coef = Array.from(solveSymmetric(gram.xtx, p, gram.xty));
    const intercept = center ? yMean - coef.reduce((s, c, j) => s + c * xMean[j]!, 0) : 0;
    Object.assign(this, { coef, intercept, featureNames: [...meta.features] });
    return this;
  }

  predictExpr(): pl.Expr {
    const coef = fitted(NAME, this.coef, 'predictExpr');
    return linearExpr(this.featureNames!, coef, this.intercept!);
  }

  predict(X: DataFrame): DataFrame {
    fitted(NAME, this.coef);
    requireFeatures(NAME, X, this.featureNames!);
    return X.select(this.predictExpr().alias('prediction'));
  }

  /** R2 (y a column of X or a one-column frame). */
  score(X: DataFrame, y: Target, options?: FitOptions): Promise<number> {
    fitted(NAME, this.coef, 'score');
    requireFeatures(NAME, X, this.featureNames!);
    return scoreOn(NAME, X, y, this.predictExpr(), 'r2', options);
  }

  onnxSteps(): FittedStep[] {
    const coef = fitted(NAME, this.coef, 'onnxSteps');
    return [{ kind: 'linear-regressor', coef: [...coef], intercept: this.intercept!, link: 'identity' }];
  }
}
