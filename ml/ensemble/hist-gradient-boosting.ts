// HistGradientBoostingClassifier and HistGradientBoostingRegressor (scikit-learn's, in
// camelCase), trained across the workers as booster.ts describes; predict runs the trees on
// each partition where it is (predict-frame.ts, predict-kernel.ts); toOnnx writes a TreeEnsemble.
import { createHash } from 'node:crypto';
import type { DataFrame } from '../../dataframe/frame.js';
import type { FitOptions, Target } from '../core/estimator.js';
import type { Shards } from '../core/shards.js';
import { toShards, type ShardsMeta } from '../core/to-shards.js';
import { MlDataError, MlParamError } from '../errors.js';
import { fitted, knownParams, nonNegative, positive, positiveInteger, requireFeatures, scorePredicted } from '../linear/common.js';
import type { FittedStep, OnnxExportable } from '../onnx/fitted.js';
import { SHARD_SCORINGS, scoreFromSums, type ShardScoring } from '../sgd/sgd.js';
import type { SgdValidationSums } from '../kernels/sgd.js';
import { MAX_BINS } from './binning.js';
import { Booster, type BoostParams } from './booster.js';
import { gainImportances, type Ensemble } from './ensemble.js';
import type { LossKind } from './losses.js';
import { predictFrame } from './predict-frame.js';
import type { PredictOutput } from './predict-kernel.js';
import type { ScoreParams } from './score.js';

export interface HistGradientBoostingParams {
  learningRate: number;
  /** Boosting iterations (a tree per iteration; a tree per class and iteration for 3+ classes). */
  maxIter: number;
  /** null: no limit but minSamplesLeaf. */
  maxLeafNodes: number | null;
  /** null: no limit. */
  maxDepth: number | null;
  minSamplesLeaf: number;
  l2Regularization: number;
  /** Non-missing bins per feature, 2 to 255. */
  maxBins: number;
  /** Feature columns whose values are categories (integers; at most maxBins of them). */
  categoricalFeatures: string[];
  /** 'auto': on when there are more than 10,000 rows. */
  earlyStopping: 'auto' | boolean;
  validationFraction: number;
  nIterNoChange: number;
  tol: number;
  /** Seeds the validation rows and the rows the bin edges come from. */
  seed: number;
}

const DEFAULTS: HistGradientBoostingParams = {
  learningRate: 0.1, maxIter: 100, maxLeafNodes: 31, maxDepth: null, minSamplesLeaf: 20, l2Regularization: 0, maxBins: MAX_BINS,
  categoricalFeatures: [], earlyStopping: 'auto', validationFraction: 0.1, nIterNoChange: 10, tol: 1e-7, seed: 0,
};
const AUTO_EARLY_STOPPING_ROWS = 10_000;

abstract class BaseHistGradientBoosting implements OnnxExportable {
  readonly params: Readonly<HistGradientBoostingParams>;
  /** The fitted trees, their baseline and bins. */
  ensemble: Ensemble | undefined;
  featureNames: string[] | undefined;
  /** Iterations made (fewer than maxIter when early stopping ended the fit). */
  nIter: number | undefined;
  /** -(validation loss) before each iteration, with early stopping (scikit-learn's validation_score_). */
  validationScores: number[] | undefined;
  /** A partialFitShard run that goes on where the last call left off (the incremental searches). */
  private running: { booster: Booster; shards: Shards } | undefined;

  protected constructor(protected readonly name: string, params: Partial<HistGradientBoostingParams>) {
    knownParams(name, params, DEFAULTS);
    const p = { ...DEFAULTS, ...params };
    positive(name, 'learningRate', p.learningRate);
    positiveInteger(name, 'maxIter', p.maxIter);
    if (p.maxLeafNodes !== null && !(Number.isInteger(p.maxLeafNodes) && p.maxLeafNodes >= 2)) throw new MlParamError(`${name}: maxLeafNodes must be an integer >= 2 or null, got ${String(p.maxLeafNodes)}`);
    if (p.maxDepth !== null) positiveInteger(name, 'maxDepth', p.maxDepth);
    positiveInteger(name, 'minSamplesLeaf', p.minSamplesLeaf);
    nonNegative(name, 'l2Regularization', p.l2Regularization);
    if (!(Number.isInteger(p.maxBins) && p.maxBins >= 2 && p.maxBins <= MAX_BINS)) throw new MlParamError(`${name}: maxBins must be an integer from 2 to ${MAX_BINS}, got ${String(p.maxBins)}`);
    if (!Array.isArray(p.categoricalFeatures) || p.categoricalFeatures.some((c) => typeof c !== 'string')) throw new MlParamError(`${name}: categoricalFeatures must be a list of column names`);
    if (p.earlyStopping !== 'auto' && typeof p.earlyStopping !== 'boolean') throw new MlParamError(`${name}: earlyStopping must be 'auto', true or false, got ${String(p.earlyStopping)}`);
    if (!(p.validationFraction > 0 && p.validationFraction < 1)) throw new MlParamError(`${name}: validationFraction must be in (0, 1), got ${String(p.validationFraction)}`);
    positiveInteger(name, 'nIterNoChange', p.nIterNoChange);
    nonNegative(name, 'tol', p.tol);
    if (!Number.isInteger(p.seed)) throw new MlParamError(`${name}: seed must be an integer, got ${String(p.seed)}`);
    this.params = p;
  }

  abstract readonly classifies: boolean;
  protected abstract lossFor(meta: ShardsMeta): LossKind;
  protected abstract fitted(meta: ShardsMeta): void;

  getParams(): Record<string, unknown> {
    return { ...this.params, categoricalFeatures: [...this.params.categoricalFeatures] };
  }

  abstract withParams(params: Record<string, unknown>): this;

  async fit(X: DataFrame, y?: Target, options: FitOptions = {}): Promise<this> {
    if (y === undefined) throw new MlDataError(`${this.name}: fit needs y`);
    this.checkCategorical(X.columns.filter((c) => c !== y));
    const { shards, meta } = await toShards(X, y, { ...options, classify: this.classifies, caller: this.name });
    let clean = false;
    try {
      clean = await this.fitOn(shards, meta);
      return this;
    } finally {
      // The fit's own shards: their buffers go to the next fit's when no task can still read them.
      await shards.release({ reuse: clean });
    }
  }

  /** The fit on shards (y: class indices into meta.classes for a classifier). */
  async fitShards(shards: Shards, meta: ShardsMeta): Promise<this> {
    await this.fitOn(shards, meta);
    return this;
  }

  /** fitShards; true when it ended with no task of its own left on the shards (and none failed). */
  private async fitOn(shards: Shards, meta: ShardsMeta): Promise<boolean> {
    this.reset();
    const early = this.params.earlyStopping === 'auto' ? shards.nRows > AUTO_EARLY_STOPPING_ROWS : this.params.earlyStopping;
    const booster = await this.startBooster(shards, meta, early);
    let kept = false;
    try {
      await booster.iterate(this.params.maxIter);
      this.keep(booster, meta);
      kept = true;
    } finally {
      kept = (await booster.release()) && kept;
    }
    return kept;
  }

  /**
   * One more boosting iteration on these training shards, from where the last call left off
   * (the incremental searches' unit of work: maxIter is their budget). `index` is not used: an
   * iteration reads every shard. The run's state stays on the workers until reset().
   */
  async partialFitShard(shards: Shards, _index: number, meta: ShardsMeta): Promise<void> {
    if (this.running && this.running.shards !== shards) this.reset();
    if (!this.running) this.running = { booster: await this.startBooster(shards, meta, false), shards };
    await this.running.booster.iterate(1, { together: false });
    this.keep(this.running.booster, meta);
  }

  /** One more boosting iteration over all these shards (partialFitShard). */
  partialFitShards(shards: Shards, meta: ShardsMeta): Promise<void> {
    return this.partialFitShard(shards, 0, meta);
  }

  /** Not offered: boosting goes on over the same rows (their scores so far), which new data lacks. Use fit, or a search's partial fits. */
  async partialFit(): Promise<never> {
    throw new MlParamError(`${this.name}: partialFit on new data is not offered (the next tree needs the scores so far of the same rows); use fit, or HyperbandSearchCV and the other incremental searches, which grow a model on the same training shards`);
  }

  /** Forgets the partialFit run: the next call starts a new one. */
  reset(): void {
    void this.releaseState();
  }

  /** Lets the partialFit run's state on the workers go; the model fitted so far stays. */
  async releaseState(): Promise<void> {
    const running = this.running;
    this.running = undefined;
    await running?.booster.release();
  }

  /** The fitted model's score on held-out shards, computed where they are (bigger is better). */
  async scoreShards(shards: Shards, meta: ShardsMeta, scoring: ShardScoring): Promise<number> {
    const ensemble = fitted(this.name, this.ensemble, 'scoreShards');
    const kind = Object.hasOwn(SHARD_SCORINGS, scoring) ? SHARD_SCORINGS[scoring] : undefined;
    if (!kind) throw new MlParamError(`${this.name}: scoreShards knows ${Object.keys(SHARD_SCORINGS).join(', ')}, not "${String(scoring)}"`);
    if (kind.classifier !== this.classifies) throw new MlParamError(`${this.name}: scoring "${scoring}" is for ${kind.classifier ? 'classifiers' : 'regressors'}`);
    if (this.featureNames!.join('\u0000') !== meta.features.join('\u0000')) throw new MlDataError(`${this.name}: scored on features ${meta.features.join(', ')}, but it was fitted on ${this.featureNames!.join(', ')}`);
    const classes = this.classesOrEmpty();
    const params: ScoreParams = { ensemble, ...(this.classifies ? { labelMap: (meta.classes ?? []).map((c) => classes.indexOf(c)) } : {}) };
    return scoreFromSums(this.name, await shards.map<SgdValidationSums>('gbdt/score', params), scoring);
  }

  /** Each feature's share of the splits' total gain (LightGBM's importance_type 'gain', normalised). */
  get featureImportances(): number[] {
    const ensemble = fitted(this.name, this.ensemble, 'featureImportances');
    return gainImportances(ensemble, this.featureNames!.length);
  }

  onnxSteps(): FittedStep[] {
    const ensemble = fitted(this.name, this.ensemble, 'onnxSteps');
    return [{ kind: 'tree-ensemble', loss: ensemble.loss, baseline: [...ensemble.baseline], trees: ensemble.trees, bins: ensemble.bins, ...(this.classifies ? { classes: this.classesOrEmpty() } : {}) }];
  }

  protected classesOrEmpty(): number[] {
    return [];
  }

  protected predictOutput(X: DataFrame, output: PredictOutput): DataFrame {
    const ensemble = fitted(this.name, this.ensemble, output === 'proba' ? 'predictProba' : 'predict');
    requireFeatures(this.name, X, this.featureNames!);
    const model = new TextEncoder().encode(JSON.stringify({ ensemble, classes: this.classesOrEmpty() }));
    return predictFrame(X, model, createHash('sha256').update(model).digest('hex'), this.featureNames!, output, ensemble.baseline.length, this.classesOrEmpty().length);
  }

  private checkCategorical(columns: readonly string[]): void {
    const unknown = this.params.categoricalFeatures.filter((c) => !columns.includes(c));
    if (unknown.length) throw new MlParamError(`${this.name}: categoricalFeatures names ${unknown.join(', ')}, not among the feature columns (${columns.join(', ')})`);
  }

  private async startBooster(shards: Shards, meta: ShardsMeta, early: boolean): Promise<Booster> {
    this.checkCategorical(meta.features);
    const p = this.params;
    const params: BoostParams = {
      learningRate: p.learningRate, maxLeafNodes: p.maxLeafNodes, maxDepth: p.maxDepth, maxBins: p.maxBins, minSamplesLeaf: p.minSamplesLeaf,
      l2Regularization: p.l2Regularization, minHessianToSplit: 1e-3, categorical: meta.features.map((f) => p.categoricalFeatures.includes(f)),
      validationFraction: early ? p.validationFraction : 0, nIterNoChange: p.nIterNoChange, tol: p.tol, seed: p.seed,
    };
    const loss = this.lossFor(meta);
    return Booster.start(shards, loss, this.classifies ? meta.classes!.length : 0, meta.features, params, this.name);
  }

  private keep(booster: Booster, meta: ShardsMeta): void {
    this.ensemble = { loss: booster.loss, baseline: [...booster.baseline], bins: booster.bins, trees: [...booster.trees] };
    this.featureNames = [...meta.features];
    this.nIter = booster.iterations;
    this.validationScores = [...booster.validationScores];
    this.fitted(meta);
  }
}

export class HistGradientBoostingClassifier extends BaseHistGradientBoosting {
  readonly classifies = true;
  classes: number[] | undefined;

  constructor(params: Partial<HistGradientBoostingParams> = {}) {
    super('HistGradientBoostingClassifier', params);
  }

  withParams(params: Record<string, unknown>): this {
    return new HistGradientBoostingClassifier({ ...this.params, ...params }) as this;
  }

  protected lossFor(meta: ShardsMeta): LossKind {
    const n = meta.classes?.length ?? 0;
    if (n < 2) throw new MlDataError(`${this.name}: y needs at least 2 classes, got ${n}`);
    return n === 2 ? 'binary' : 'multinomial';
  }

  protected fitted(meta: ShardsMeta): void {
    this.classes = [...meta.classes!];
  }

  protected override classesOrEmpty(): number[] {
    return this.classes ?? [];
  }

  /** The class label per row (classes[argmax of the probabilities]). */
  predict(X: DataFrame): DataFrame {
    return this.predictOutput(X, 'label');
  }

  /** proba_0 ... proba_{k-1} in the order of classes. */
  predictProba(X: DataFrame): DataFrame {
    return this.predictOutput(X, 'proba');
  }

  /** Accuracy. */
  score(X: DataFrame, y: Target, options?: FitOptions): Promise<number> {
    return scorePredicted(this.name, X, y, this.predict(X), 'accuracy', options);
  }
}

export class HistGradientBoostingRegressor extends BaseHistGradientBoosting {
  readonly classifies = false;

  constructor(params: Partial<HistGradientBoostingParams> = {}) {
    super('HistGradientBoostingRegressor', params);
  }

  withParams(params: Record<string, unknown>): this {
    return new HistGradientBoostingRegressor({ ...this.params, ...params }) as this;
  }

  protected lossFor(): LossKind {
    return 'squared';
  }

  protected fitted(): void {}

  predict(X: DataFrame): DataFrame {
    return this.predictOutput(X, 'value');
  }

  /** R2. */
  score(X: DataFrame, y: Target, options?: FitOptions): Promise<number> {
    return scorePredicted(this.name, X, y, this.predict(X), 'r2', options);
  }
}
