// dask-ml's ParallelPostFit: an estimator fitted on data small enough for one fit (or given
// already fitted) whose predict, predictProba and transform then run per partition over a large
// frame. Ours are lazy selects of Polars expressions, so each partition, an empty one included,
// is scored where it is, in its own plan, with no task of the wrapper's.
import type { DataFrame } from '../../dataframe/frame.js';
import type { Estimator, FitOptions, Target } from '../core/estimator.js';
import type { FittedStep } from '../onnx/fitted.js';
import { MlParamError } from '../errors.js';
import { delegate, type Wrappable } from './delegate.js';

const NAME = 'ParallelPostFit';

export class ParallelPostFit<E extends Wrappable> implements Estimator {
  /** The estimator predict uses: the one given, or after fit the copy fit trained. */
  fittedEstimator: E;

  constructor(readonly estimator: E) {
    if (typeof estimator?.fit !== 'function') throw new MlParamError(`${NAME}: wrap an estimator (one with fit)`);
    this.fittedEstimator = estimator;
  }

  getParams(): Record<string, unknown> {
    return { estimator: this.estimator };
  }

  withParams(params: Record<string, unknown>): this {
    const estimator = (params.estimator as E | undefined) ?? this.estimator.withParams(Object.fromEntries(Object.entries(params).filter(([k]) => k !== 'estimator')));
    return new ParallelPostFit(estimator) as this;
  }

  /** Fits a fresh copy of the estimator on X (its own fit: on the cluster, as it does). */
  async fit(X: DataFrame, y?: Target, options?: FitOptions): Promise<this> {
    const model = this.estimator.withParams({});
    await model.fit(X, y, options);
    this.fittedEstimator = model;
    return this;
  }

  predict(X: DataFrame): DataFrame { return delegate(NAME, this.fittedEstimator, 'predict')(X); }
  predictProba(X: DataFrame): DataFrame { return delegate(NAME, this.fittedEstimator, 'predictProba')(X); }
  transform(X: DataFrame): DataFrame { return delegate(NAME, this.fittedEstimator, 'transform')(X); }
  score(X: DataFrame, y: Target, options?: FitOptions): Promise<number> { return delegate(NAME, this.fittedEstimator, 'score')(X, y, options); }
  onnxSteps(): FittedStep[] { return delegate(NAME, this.fittedEstimator, 'onnxSteps')(); }
  get classes(): number[] | undefined { return (this.fittedEstimator as { classes?: number[] }).classes; }
}
