// Poisson regression with a log link, as scikit-learn's PoissonRegressor: minimises
//   mean half Poisson deviance + alpha/2 ||coef||^2   (intercept not penalised)
// by L-BFGS (or Newton) with the loss and gradient summed over the shards each iteration.
import type { DataFrame } from '../../dataframe/frame.js';
import type { FitOptions, Predictor, Target, ShardFitter, ShardInput } from '../core/estimator.js';
import type { Shards } from '../core/shards.js';
import { toShards, type ShardsMeta } from '../core/to-shards.js';
import type { FittedStep, OnnxExportable } from '../onnx/fitted.js';
import type { MomentSums } from '../kernels/linear.js';
import { MlDataError } from '../errors.js';
import { fitted, knownParams, linearExpr, nonNegative, oneOf, positiveInteger, requireFeatures, scoreOn } from './common.js';
import { glmObjective, stride, unpack, type GlmShape } from './glm.js';
import { lbfgs, newton } from './optimize.js';
import type pl from 'nodejs-polars';

export interface PoissonRegressionParams {
  alpha: number;
  fitIntercept: boolean;
  solver: 'lbfgs' | 'newton';
  maxIter: number;
  tol: number;
}

const DEFAULTS: PoissonRegressionParams = { alpha: 1, fitIntercept: true, solver: 'lbfgs', maxIter: 100, tol: 1e-4 };
const NAME = 'PoissonRegression';

export class PoissonRegression implements Predictor, OnnxExportable, ShardFitter {
  readonly shardInput: ShardInput = { y: 'required', classify: false };
  readonly params: Readonly<PoissonRegressionParams>;
  coef: number[] | undefined;
  intercept: number | undefined;
  featureNames: string[] | undefined;
  nIter: number | undefined;
  converged: boolean | undefined;

  constructor(params: Partial<PoissonRegressionParams> = {}) {
    knownParams(NAME, params, DEFAULTS);
    const p = { ...DEFAULTS, ...params };
    nonNegative(NAME, 'alpha', p.alpha);
    oneOf(NAME, 'solver', p.solver, ['lbfgs', 'newton']);
    positiveInteger(NAME, 'maxIter', p.maxIter);
    nonNegative(NAME, 'tol', p.tol);
    this.params = p;
  }

  getParams(): Record<string, unknown> {
    return { ...this.params };
  }

  withParams(params: Record<string, unknown>): this {
    return new PoissonRegression({ ...this.params, ...params }) as this;
  }

  async fit(X: DataFrame, y?: Target, options: FitOptions = {}): Promise<this> {
    if (y === undefined) throw new MlDataError(`${NAME}: fit needs y (counts)`);
    const { shards, meta } = await toShards(X, y, { ...options, caller: NAME });
    try {
      return await this.fitShards(shards, meta);
    } finally {
      await shards.release();
    }
  }

  async fitShards(shards: Shards, meta: ShardsMeta): Promise<this> {
    const mins = await shards.map<number>('linear/y-min', {});
    const yMin = Math.min(...mins);
    if (!(yMin >= 0)) throw new MlDataError(`${NAME}: y must be >= 0 (counts), got ${yMin}`);
    const moments = await shards.sum<MomentSums>('linear/moments', {});
    if (moments.n === 0) throw new MlDataError(`${NAME}: X has no rows`);
    const shape: GlmShape = { family: 'poisson', k: 1, p: meta.features.length, fitIntercept: this.params.fitIntercept };
    const w0 = new Float64Array(stride(shape));
    // Starts where scikit-learn does: the intercept at the log of y's mean.
    const yMean = moments.y / moments.n;
    if (shape.fitIntercept) {
      if (!(yMean > 0)) throw new MlDataError(`${NAME}: y is all zero; there is nothing to fit`);
      w0[shape.p] = Math.log(yMean);
    }
    const solve = this.params.solver === 'newton' ? newton : lbfgs;
    const result = await solve(glmObjective(NAME, shards, shape, this.params.alpha), w0, { maxIter: this.params.maxIter, tol: this.params.tol });
    const { coef, intercept } = unpack(shape, result.w);
    Object.assign(this, { coef: coef[0], intercept: intercept[0], featureNames: [...meta.features], nIter: result.nIter, converged: result.converged });
    return this;
  }

  /** exp(coef . x + intercept): the expected count. */
  predictExpr(): pl.Expr {
    const coef = fitted(NAME, this.coef, 'predictExpr');
    return linearExpr(this.featureNames!, coef, this.intercept!).exp();
  }

  predict(X: DataFrame): DataFrame {
    fitted(NAME, this.coef);
    requireFeatures(NAME, X, this.featureNames!);
    return X.select(this.predictExpr().alias('prediction'));
  }

  /** R2 of the predicted means (scikit-learn's PoissonRegressor scores D2 instead) (y a column of X or a one-column frame). */
  score(X: DataFrame, y: Target, options?: FitOptions): Promise<number> {
    fitted(NAME, this.coef, 'score');
    requireFeatures(NAME, X, this.featureNames!);
    return scoreOn(NAME, X, y, this.predictExpr(), 'r2', options);
  }

  onnxSteps(): FittedStep[] {
    const coef = fitted(NAME, this.coef, 'onnxSteps');
    return [{ kind: 'linear-regressor', coef: [...coef], intercept: this.intercept!, link: 'log' }];
  }
}
