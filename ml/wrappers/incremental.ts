// dask-ml's Incremental: fit = the wrapped estimator's partialFit on one partition after
// another, nEpochs times, the data put on the workers once. The wrapped estimator is a template:
// fit trains a fresh copy (`fittedEstimator`), which predict and the rest use.
import type { DataFrame } from '../../dataframe/frame.js';
import type { Estimator, FitOptions, Target } from '../core/estimator.js';
import { toShards } from '../core/to-shards.js';
import type { FittedStep } from '../onnx/fitted.js';
import { MlParamError, MlDataError } from '../errors.js';
import { fitted, knownParams, positiveInteger } from '../linear/common.js';
import type { PartialFitOptions, PartialFitter } from '../sgd/sgd.js';
import { delegate, type Wrappable } from './delegate.js';

export type IncrementalEstimator = Wrappable & PartialFitter;

export interface IncrementalParams {
  /** Passes over all partitions that fit makes. */
  nEpochs: number;
}

const DEFAULTS: IncrementalParams = { nEpochs: 1 };
const NAME = 'Incremental';

export class Incremental<E extends IncrementalEstimator> implements Estimator {
  readonly params: Readonly<IncrementalParams>;
  /** The estimator fit trained (a copy of the template); undefined before fit. */
  fittedEstimator: E | undefined;

  constructor(readonly estimator: E, params: Partial<IncrementalParams> = {}) {
    if (typeof (estimator as Partial<PartialFitter>)?.partialFitShards !== 'function') throw new MlParamError(`${NAME}: the estimator must learn with partialFit (SGDClassifier, SGDRegressor)`);
    knownParams(NAME, params, DEFAULTS);
    this.params = { ...DEFAULTS, ...params };
    positiveInteger(NAME, 'nEpochs', this.params.nEpochs);
  }

  getParams(): Record<string, unknown> {
    return { ...this.params, estimator: this.estimator };
  }

  withParams(params: Record<string, unknown>): this {
    const { estimator, ...own } = params;
    return new Incremental((estimator as E | undefined) ?? this.estimator, { ...this.params, ...own }) as this;
  }

  /** A fresh copy of the estimator, trained by nEpochs ordered passes over X's partitions. */
  async fit(X: DataFrame, y?: Target, options: PartialFitOptions = {}): Promise<this> {
    if (y === undefined) throw new MlDataError(`${NAME}: fit needs y`);
    const model = this.estimator.withParams({});
    model.reset();
    const { shards, meta } = await toShards(X, y, {
      ...(options.client ? { client: options.client } : {}), ...(options.signal ? { signal: options.signal } : {}), classify: model.classifies, caller: NAME, ...(options.classes !== undefined ? { minClasses: 1 } : {}),
    });
    try {
      for (let epoch = 0; epoch < this.params.nEpochs; epoch++) await model.partialFitShards(shards, meta, options.classes);
    } finally {
      await shards.release();
    }
    this.fittedEstimator = model;
    return this;
  }

  /** One more ordered pass over X's partitions (starting a fresh copy when not fitted yet). */
  async partialFit(X: DataFrame, y?: Target, options: PartialFitOptions = {}): Promise<this> {
    const model = this.fittedEstimator ?? this.estimator.withParams({});
    await model.partialFit(X, y, options);
    this.fittedEstimator = model;
    return this;
  }

  predict(X: DataFrame): DataFrame { return delegate(NAME, this.model(), 'predict')(X); }
  predictProba(X: DataFrame): DataFrame { return delegate(NAME, this.model(), 'predictProba')(X); }
  transform(X: DataFrame): DataFrame { return delegate(NAME, this.model(), 'transform')(X); }
  score(X: DataFrame, y: Target, options?: FitOptions): Promise<number> { return delegate(NAME, this.model(), 'score')(X, y, options); }
  onnxSteps(): FittedStep[] { return delegate(NAME, this.model(), 'onnxSteps')(); }
  get classes(): number[] | undefined { return (this.fittedEstimator as { classes?: number[] } | undefined)?.classes; }

  private model(): E {
    return fitted(NAME, this.fittedEstimator);
  }
}
