// SGDClassifier and SGDRegressor, scikit-learn's plain SGD (L2 or no penalty, no averaging):
// partialFit(X, y) is one pass over X's partitions in order, continuing from the current
// weights and sample counter t (so partialFit on partition after partition equals scikit-learn's
// partial_fit on the same rows, shuffle=False); fit(X, y) starts afresh and makes maxIter
// passes (scikit-learn's fit with shuffle=False and tol=None).
import pl from 'nodejs-polars';
import type { DataFrame } from '../../dataframe/frame.js';
import type { Classifier, FitOptions, Predictor, Target } from '../core/estimator.js';
import type { Shards } from '../core/shards.js';
import { toShards, type ShardsMeta } from '../core/to-shards.js';
import type { FittedStep, OnnxExportable } from '../onnx/fitted.js';
import type { SgdLoss, SgdParams, SgdState, SgdValidateParams, SgdValidationSums } from '../kernels/sgd.js';
import { MlParamError, MlDataError, MlError } from '../errors.js';
import { fitted, knownParams, labelExpr, linearExpr, nonNegative, oneOf, positive, positiveInteger, requireFeatures, scoreOn, sigmoidExpr } from '../linear/common.js';
import { foldShards } from './ordered.js';

/** The hyperparameters the shard kernel takes (ml/kernels/sgd.ts), and how many passes fit makes. */
export interface SgdCommonParams extends Pick<SgdParams, 'penalty' | 'alpha' | 'learningRate' | 'eta0' | 'powerT' | 'fitIntercept'> {
  /** Passes over the data that fit makes (partialFit makes one). */
  maxIter: number;
}

export interface SgdClassifierParams extends SgdCommonParams { loss: 'log_loss' | 'hinge' }
export interface SgdRegressorParams extends SgdCommonParams { loss: 'squared_error' }

export interface PartialFitOptions extends FitOptions {
  /** Every class the model will see (scikit-learn's `classes`): needed when the first batch lacks some. */
  classes?: number[];
}

const COMMON: SgdCommonParams = { penalty: 'l2', alpha: 1e-4, learningRate: 'optimal', eta0: 0.01, powerT: 0.5, fitIntercept: true, maxIter: 5 };

/** What Incremental drives: an estimator that learns one ordered pass at a time. */
export interface PartialFitter {
  readonly classifies: boolean;
  partialFitShards(shards: Shards, meta: ShardsMeta, classes?: number[]): Promise<unknown>;
  partialFit(X: DataFrame, y?: Target, options?: PartialFitOptions): Promise<unknown>;
  /** Forgets what it learnt (the next pass starts afresh). */
  reset(): void;
  /** One partialFit on shard `index` alone: the incremental searches' unit of work (dask-ml's one block per call). */
  partialFitShard(shards: Shards, index: number, meta: ShardsMeta, classes?: number[]): Promise<unknown>;
  /** The fitted model's score by `scoring` on held-out shards, computed where they are (bigger is better). */
  scoreShards(shards: Shards, meta: ShardsMeta, scoring: ShardScoring): Promise<number>;
  /** Lets go what the partial fits keep on the workers between calls (the model stays fitted). */
  releaseState?(): Promise<void>;
}

/** The scores scoreShards computes from a held-out shard's sums. */
export type ShardScoring = 'accuracy' | 'neg_log_loss' | 'r2' | 'neg_mean_squared_error' | 'neg_mean_absolute_error';
export const SHARD_SCORINGS: Record<ShardScoring, { classifier: boolean; logLoss?: boolean }> = {
  accuracy: { classifier: true },
  neg_log_loss: { classifier: true, logLoss: true },
  r2: { classifier: false },
  neg_mean_squared_error: { classifier: false },
  neg_mean_absolute_error: { classifier: false },
};

abstract class BaseSgd<P extends SgdCommonParams & { loss: SgdLoss }> implements OnnxExportable, PartialFitter {
  readonly params: Readonly<P>;
  /** One weight row per binary problem (regression and binary: one; one-vs-rest: one per class). */
  protected weights: number[][] | undefined;
  protected biases: number[] | undefined;
  featureNames: string[] | undefined;
  /** scikit-learn's t_: 1 + the samples seen, which drives the learning-rate schedule. */
  t: number | undefined;
  /** Whole passes made over the data since the last fit (single-shard calls not counted). */
  nIter: number | undefined;

  protected constructor(protected readonly name: string, defaults: P, params: Partial<P>, losses: readonly SgdLoss[]) {
    knownParams(name, params, defaults);
    const p = { ...defaults, ...params };
    oneOf(name, 'loss', p.loss, losses);
    oneOf(name, 'penalty', p.penalty, ['l2', 'none']);
    oneOf(name, 'learningRate', p.learningRate, ['optimal', 'constant', 'invscaling']);
    if (p.learningRate === 'optimal') positive(name, 'alpha', p.alpha); else nonNegative(name, 'alpha', p.alpha);
    if (p.learningRate !== 'optimal') positive(name, 'eta0', p.eta0);
    nonNegative(name, 'powerT', p.powerT);
    positiveInteger(name, 'maxIter', p.maxIter);
    this.params = p;
  }

  getParams(): Record<string, unknown> {
    return { ...this.params };
  }

  abstract withParams(params: Record<string, unknown>): this;
  /** Whether y holds class labels (fitting then maps them to class indices). */
  abstract get classifies(): boolean;
  /** The rows of coef and the positive class of each, for these classes. */
  protected abstract problems(classes: number[]): number[];
  protected abstract setClasses(classes: number[]): void;
  abstract onnxSteps(): FittedStep[];

  /** Starts afresh and makes maxIter passes over X's partitions in order. */
  async fit(X: DataFrame, y?: Target, options: PartialFitOptions = {}): Promise<this> {
    return this.withShards(X, y, options, async (shards, meta) => {
      this.reset();
      for (let epoch = 0; epoch < this.params.maxIter; epoch++) await this.partialFitShards(shards, meta, options.classes);
      return this;
    });
  }

  /** One pass over X's partitions in order, continuing from the current weights. */
  async partialFit(X: DataFrame, y?: Target, options: PartialFitOptions = {}): Promise<this> {
    return this.withShards(X, y, options, async (shards, meta) => {
      await this.partialFitShards(shards, meta, options.classes);
      return this;
    });
  }

  private async withShards(X: DataFrame, y: Target | undefined, options: PartialFitOptions, body: (shards: Shards, meta: ShardsMeta) => Promise<this>): Promise<this> {
    if (y === undefined) throw new MlDataError(`${this.name}: fit needs y`);
    // With the classes given or fixed, a batch of one class is fine (labelsFor checks the rest).
    const classesKnown = options.classes !== undefined || this.knownClasses().length > 0;
    const { shards, meta } = await toShards(X, y, {
      ...(options.client ? { client: options.client } : {}), ...(options.signal ? { signal: options.signal } : {}), classify: this.classifies, caller: this.name, ...(classesKnown ? { minClasses: 1 } : {}),
    });
    try {
      return await body(shards, meta);
    } finally {
      await shards.release();
    }
  }

  reset(): void {
    Object.assign(this, { weights: undefined, biases: undefined, featureNames: undefined, t: undefined, nIter: undefined });
    this.setClasses([]);
  }

  /** One ordered pass over the shards (y: class indices into meta.classes for a classifier). */
  async partialFitShards(shards: Shards, meta: ShardsMeta, classes?: number[]): Promise<this> {
    return this.pass(shards, meta, classes);
  }

  async partialFitShard(shards: Shards, index: number, meta: ShardsMeta, classes?: number[]): Promise<this> {
    if (!Number.isInteger(index) || index < 0 || index >= shards.nShards) throw new RangeError(`${this.name}: no shard ${index} of ${shards.nShards}`);
    return this.pass(shards, meta, classes, [index]);
  }

  async scoreShards(shards: Shards, meta: ShardsMeta, scoring: ShardScoring): Promise<number> {
    const coef = fitted(this.name, this.weights, 'scoreShards');
    const kind = Object.hasOwn(SHARD_SCORINGS, scoring) ? SHARD_SCORINGS[scoring] : undefined;
    if (!kind) throw new MlParamError(`${this.name}: scoreShards knows ${Object.keys(SHARD_SCORINGS).join(', ')}, not "${String(scoring)}"`);
    if (kind.classifier !== this.classifies) throw new MlParamError(`${this.name}: scoring "${scoring}" is for ${kind.classifier ? 'classifiers' : 'regressors'}`);
    if (kind.logLoss && this.params.loss !== 'log_loss') throw new MlParamError(`${this.name}: scoring "${scoring}" needs probabilities (loss 'log_loss', not '${this.params.loss}')`);
    if (this.featureNames!.join('\u0000') !== meta.features.join('\u0000')) throw new MlDataError(`${this.name}: scored on features ${meta.features.join(', ')}, but it was fitted on ${this.featureNames!.join(', ')}`);
    const known = this.knownClasses();
    const params: SgdValidateParams = {
      loss: this.params.loss, coef, intercept: this.biases!, eps: Number.EPSILON,
      ...(this.classifies ? { nClasses: known.length, labelMap: (meta.classes ?? []).map((c) => known.indexOf(c)) } : {}),
    };
    return scoreFromSums(this.name, await shards.map<SgdValidationSums>('sgd/validate', params), scoring);
  }

  private async pass(shards: Shards, meta: ShardsMeta, classes: number[] | undefined, indices?: number[]): Promise<this> {
    if (this.featureNames && this.featureNames.join('\u0000') !== meta.features.join('\u0000')) {
      throw new MlDataError(`${this.name}: partialFit on features ${meta.features.join(', ')}, but it was fitted on ${this.featureNames.join(', ')}`);
    }
    const labelMap = this.classifies ? this.labelsFor(meta, classes) : undefined;
    const known = this.knownClasses();
    const positives = this.problems(known);
    const p = meta.features.length;
    const start: SgdState = { coef: this.weights ?? positives.map(() => new Array<number>(p).fill(0)), intercept: this.biases ?? positives.map(() => 0), t: this.t ?? 1 };
    const { loss, penalty, alpha, learningRate, eta0, powerT, fitIntercept } = this.params;
    const state = await foldShards<SgdState>(shards, 'sgd/epoch', start, (s): SgdParams => ({
      loss, penalty, alpha, learningRate, eta0, powerT, fitIntercept, coef: s.coef, intercept: s.intercept, t: s.t, positive: positives, ...(labelMap ? { labelMap } : {}),
    }), indices);
    if (![...state.coef.flat(), ...state.intercept].every(Number.isFinite)) throw new MlDataError(`${this.name}: the weights overflowed or met NaN (NaN in the features, or a learning rate too large; scaling the features helps)`);
    Object.assign(this, { weights: state.coef, biases: state.intercept, t: state.t, featureNames: [...meta.features], nIter: (this.nIter ?? 0) + (indices ? 0 : 1) });
    return this;
  }

  protected knownClasses(): number[] {
    return [];
  }

  /** The classifier's classes fixed at the first partialFit, and this batch's labels mapped onto them. */
  private labelsFor(meta: ShardsMeta, given?: number[]): number[] {
    const batch = meta.classes ?? [];
    let known = this.knownClasses();
    if (known.length === 0) {
      known = given ? [...given].sort((a, b) => a - b) : batch;
      if (known.length < 2) throw new MlDataError(`${this.name}: the first partialFit sees ${known.length} class(es); pass every class in { classes } (as scikit-learn's partial_fit)`);
      this.setClasses(known);
    } else if (given && [...given].sort((a, b) => a - b).join() !== known.join()) {
      throw new MlDataError(`${this.name}: classes ${given.join(', ')} differ from the first partialFit's (${known.join(', ')})`);
    }
    return batch.map((c) => {
      const i = known.indexOf(c);
      if (i < 0) throw new MlDataError(`${this.name}: y holds the class ${c}, unknown to the model (classes ${known.join(', ')}); pass every class in the first partialFit's { classes }`);
      return i;
    });
  }

  protected decisionExprs(): pl.Expr[] {
    const coef = fitted(this.name, this.weights, 'decisionExprs');
    return coef.map((row, k) => linearExpr(this.featureNames!, row, this.biases![k]!));
  }

  protected checkInput(X: DataFrame, what: string): void {
    fitted(this.name, this.weights, what);
    requireFeatures(this.name, X, this.featureNames!);
  }
}

export class SGDClassifier extends BaseSgd<SgdClassifierParams> implements Classifier {
  classes: number[] | undefined;

  /** As scikit-learn's coef_: one row (binary, the positive class) or one per class (one-vs-rest). */
  get coef(): number[][] | undefined { return this.weights?.map((r) => [...r]); }
  get intercept(): number[] | undefined { return this.biases ? [...this.biases] : undefined; }

  constructor(params: Partial<SgdClassifierParams> = {}) {
    super('SGDClassifier', { ...COMMON, loss: 'hinge' }, params, ['log_loss', 'hinge']);
  }

  withParams(params: Record<string, unknown>): this {
    return new SGDClassifier({ ...this.params, ...params }) as this;
  }

  get classifies(): boolean { return true; }
  protected override knownClasses(): number[] { return this.classes ?? []; }
  protected setClasses(classes: number[]): void { this.classes = classes.length > 0 ? [...classes] : undefined; }
  /** Binary: one problem, classes[1] positive; more: one-vs-rest, one per class. */
  protected problems(classes: number[]): number[] { return classes.length === 2 ? [1] : classes.map((_, i) => i); }

  predictExpr(): pl.Expr {
    return labelExpr(this.decisionExprs(), this.classes!);
  }

  /** log_loss only: sigmoid of the score; one-vs-rest's sigmoids normalised to sum 1, as scikit-learn. */
  probaExprs(): pl.Expr[] {
    if (this.params.loss !== 'log_loss') throw new MlParamError(`${this.name}: predictProba needs loss 'log_loss' (hinge gives no probabilities)`);
    const z = this.decisionExprs();
    if (z.length === 1) return [sigmoidExpr(z[0]!.mul(-1)), sigmoidExpr(z[0]!)];
    const s = z.map(sigmoidExpr);
    const total = pl.sumHorizontal(s);
    return s.map((e) => e.div(total));
  }

  predict(X: DataFrame): DataFrame {
    this.checkInput(X, 'predict');
    return X.select(this.predictExpr().alias('prediction'));
  }

  predictProba(X: DataFrame): DataFrame {
    this.checkInput(X, 'predictProba');
    return X.select(...this.probaExprs().map((e, k) => e.alias(`proba_${k}`)));
  }

  score(X: DataFrame, y: Target, options?: FitOptions): Promise<number> {
    this.checkInput(X, 'score');
    return scoreOn(this.name, X, y, this.predictExpr(), 'accuracy', options);
  }

  /** Binary log_loss models only: ONNX's LinearClassifier has no one-vs-rest normalisation, and hinge no probabilities. */
  onnxSteps(): FittedStep[] {
    const coef = fitted(this.name, this.weights, 'onnxSteps');
    if (this.params.loss !== 'log_loss' || coef.length !== 1) throw new MlError(`${this.name}: only a binary model with loss 'log_loss' exports to ONNX (this one: ${coef.length === 1 ? 'binary' : `${coef.length} classes, one-vs-rest`}, loss '${this.params.loss}')`);
    return [{ kind: 'linear-classifier', coef: coef.map((r) => [...r]), intercept: [...this.biases!], classes: [...this.classes!], multiClass: 'binary' }];
  }
}

export class SGDRegressor extends BaseSgd<SgdRegressorParams> implements Predictor {
  get coef(): number[] | undefined { return this.weights ? [...this.weights[0]!] : undefined; }
  get intercept(): number | undefined { return this.biases?.[0]; }

  constructor(params: Partial<SgdRegressorParams> = {}) {
    super('SGDRegressor', { ...COMMON, loss: 'squared_error', learningRate: 'invscaling', powerT: 0.25 }, params, ['squared_error']);
  }

  withParams(params: Record<string, unknown>): this {
    return new SGDRegressor({ ...this.params, ...params }) as this;
  }

  get classifies(): boolean { return false; }
  protected setClasses(): void {}
  protected problems(): number[] { return [0]; }

  predictExpr(): pl.Expr {
    return this.decisionExprs()[0]!;
  }

  predict(X: DataFrame): DataFrame {
    this.checkInput(X, 'predict');
    return X.select(this.predictExpr().alias('prediction'));
  }

  score(X: DataFrame, y: Target, options?: FitOptions): Promise<number> {
    this.checkInput(X, 'score');
    return scoreOn(this.name, X, y, this.predictExpr(), 'r2', options);
  }

  onnxSteps(): FittedStep[] {
    const coef = fitted(this.name, this.weights, 'onnxSteps');
    return [{ kind: 'linear-regressor', coef: [...coef[0]!], intercept: this.biases![0]!, link: 'identity' }];
  }
}

/** The shards' sums added up; y's means and squared deviations merged by Chan's formula. */
/** The score by `scoring` of held-out shards' sums (any model's whose kernel gives SgdValidationSums). */
export function scoreFromSums(name: string, parts: readonly SgdValidationSums[], scoring: ShardScoring): number {
  const s = mergeValidation(parts);
  if (s.n === 0) throw new MlDataError(`${name}: no rows to score`);
  switch (scoring) {
    case 'accuracy': return s.correct / s.n;
    case 'neg_log_loss': return -s.logLoss / s.n;
    case 'neg_mean_squared_error': return -s.sse / s.n;
    case 'neg_mean_absolute_error': return -s.sae / s.n;
    case 'r2':
      // scikit-learn's r2_score for a constant y: 1 when predicted exactly, else 0.
      return s.m2 > 0 ? 1 - s.sse / s.m2 : s.sse === 0 ? 1 : 0;
  }
}

function mergeValidation(parts: readonly SgdValidationSums[]): SgdValidationSums {
  const out: SgdValidationSums = { n: 0, correct: 0, logLoss: 0, sse: 0, sae: 0, meanY: 0, m2: 0 };
  for (const p of parts) {
    if (p.n === 0) continue;
    const n = out.n + p.n;
    const d = p.meanY - out.meanY;
    out.m2 += p.m2 + (d * d * out.n * p.n) / n;
    out.meanY += (d * p.n) / n;
    out.n = n;
    out.correct += p.correct;
    out.logLoss += p.logLoss;
    out.sse += p.sse;
    out.sae += p.sae;
  }
  return out;
}
