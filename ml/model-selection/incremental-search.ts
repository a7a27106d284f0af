// The incremental searches (dask-ml's IncrementalSearchCV, SuccessiveHalvingSearchCV and
// HyperbandSearchCV; BOHB after Falkner et al.) over estimators that learn by partialFit
// (SGDClassifier, SGDRegressor). The rows are split once into training and validation shards
// that stay on the workers. A partialFit call is one task: the model's small weights travel to
// a worker holding the next training shard (shard i for a model's call i, cycling), or to one
// the scheduler copies it to when that beats waiting, and come back. Many models advance at once; each is scored on the validation shards where they are,
// and the schedule (halving.ts) decides which go on. A model's calls follow one another, so its
// result does not depend on which worker ran what: a search gives the same models every run.
import pl from 'nodejs-polars';
import type { DataFrame } from '../../dataframe/frame.js';
import type { FitOptions, Target } from '../core/estimator.js';
import type { Shards } from '../core/shards.js';
import { toShards, type ShardsMeta } from '../core/to-shards.js';
import { MlDataError, MlParamError } from '../errors.js';
import { SHARD_SCORINGS, type PartialFitter, type ShardScoring } from '../sgd/sgd.js';
import { BOHB_DEFAULTS, proposeCandidate, type BohbOptions, type Observation } from './bohb.js';
import {
  checkAggressiveness, checkPositiveInteger, defaultInitialIter, halvingRungs, hyperbandBrackets, plannedCalls, plateaued, topK, type Bracket, type Rung,
} from './halving.js';
import { checkDistributions, mulberry32, sampleParams, type ParamDistributions } from './params.js';
import { rankDescending } from './search.js';
import { trainTestSplit } from './split.js';

/** An estimator the incremental searches can train: partialFit on one shard, scored on shards. */
export interface PartialFitEstimator extends PartialFitter {
  getParams(): Record<string, unknown>;
  withParams(params: Record<string, unknown>): this;
}

export interface IncrementalSearchOptions {
  /** What to maximise on the validation rows: accuracy (classifiers' default), neg_log_loss, r2 (regressors' default), neg_mean_squared_error, neg_mean_absolute_error. */
  scoring?: ShardScoring;
  /** The share of rows held out to score the models (trainTestSplit's testSize). Default 0.15. */
  testSize?: number;
  /** Seeds the candidates' draws and the split. Default 0. */
  seed?: number;
  /**
   * Stop a model once its score has not improved by more than `tol` in its last `patience`
   * partialFit calls (it is then also scored every `patience` calls). Default false: off.
   */
  patience?: number | false;
  /** Default 0.001. */
  tol?: number;
  /** partialFit calls (and scorings) in flight at once, over all models; those of the models trained furthest go first. Default 16. */
  concurrency?: number;
  /** The score of a model whose partialFit threw: 'raise' stops the search; a number (default NaN) is recorded with the error, and the model stops. */
  errorScore?: 'raise' | number;
}


/** One scoring of a model. */
export interface HistoryRecord { modelId: number; bracket: number; partialFitCalls: number; score: number; elapsedSeconds: number }

export interface SearchMetadata {
  nModels: number;
  partialFitCalls: number;
  brackets: Array<{ bracket: number; nModels: number; partialFitCalls: number }>;
}

type StopReason = 'maxIter' | 'halved' | 'plateau' | 'error';

interface Model<E> {
  id: number;
  bracket: number;
  params: Record<string, unknown>;
  estimator: E;
  calls: number;
  history: Array<{ calls: number; score: number }>;
  fitSeconds: number;
  scoreSeconds: number;
  stopped?: Exclude<StopReason, 'maxIter' | 'halved'>;
  error?: string;
}

/**
 * A counting semaphore: at most n holders at once; waiters go in by priority (higher first),
 * then in the order they came.
 */
export function limiter(n: number): <T>(work: () => Promise<T>, priority: number) => Promise<T> {
  let running = 0;
  const waiting: Array<{ priority: number; wake: () => void }> = [];
  return async (work, priority) => {
    if (running >= n) {
      await new Promise<void>((wake) => {
        const at = waiting.findIndex((w) => w.priority < priority);
        waiting.splice(at < 0 ? waiting.length : at, 0, { priority, wake });
      });
    } else running++;
    try {
      return await work();
    } finally {
      const next = waiting.shift();
      if (next) next.wake();
      else running--;
    }
  };
}

/** The models of one search and the data they learn from; advance() is the one place work is done. */
class ModelPool<E extends PartialFitEstimator> {
  readonly models: Array<Model<E>> = [];
  readonly history: HistoryRecord[] = [];
  calls = 0;
  private failed: unknown;
  private readonly slot: <T>(work: () => Promise<T>, priority: number) => Promise<T>;
  private readonly t0 = performance.now();

  constructor(
    private readonly template: E,
    private readonly train: { shards: Shards; meta: ShardsMeta },
    private readonly valid: { shards: Shards; meta: ShardsMeta },
    private readonly scoring: ShardScoring,
    private readonly options: { patience: number | false; tol: number; concurrency: number; errorScore: 'raise' | number; signal?: AbortSignal },
  ) {
    this.slot = limiter(options.concurrency);
  }

  add(params: Record<string, unknown>, bracket: number): Model<E> {
    const estimator = this.template.withParams(params);
    estimator.reset();
    const model: Model<E> = { id: this.models.length, bracket, params, estimator, calls: 0, history: [], fitSeconds: 0, scoreSeconds: 0 };
    this.models.push(model);
    return model;
  }

  /** Trains the models to `calls` partialFit calls each (those not stopped), scoring each at the end. */
  async advance(models: ReadonlyArray<Model<E>>, calls: number): Promise<void> {
    const settled = await Promise.allSettled(models.map((m) => this.advanceOne(m, calls)));
    const rejected = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (rejected) throw this.failed ?? rejected.reason;
  }

  /** Stops the search: every model stops at its next call, and the pool's users rethrow `err`. */
  fail(err: unknown): void {
    this.failed ??= err;
  }

  /**
   * The calls of the models trained furthest go first (as ASHA promotes): the schedule's best
   * reach their high budgets, and good scores, sooner. On the bench's Hyperband the first score
   * under the target came at 3.5-3.8 s instead of 5.8-5.9 s in arrival order; the results are
   * the same either way (a model's calls follow one another whatever their turn).
   */
  private priority(m: Model<E>): number {
    return m.calls;
  }

  private check(): void {
    if (this.failed !== undefined) throw this.failed;
    this.options.signal?.throwIfAborted();
  }

  private async advanceOne(m: Model<E>, target: number): Promise<void> {
    const { patience, tol } = this.options;
    const classes = this.train.meta.classes;
    while (m.calls < target && !m.stopped) {
      // With patience, a model is scored every `patience` calls, to see when it stops improving.
      const until = patience ? Math.min(target, m.calls + patience) : target;
      try {
        while (m.calls < until) {
          this.check();
          const t0 = performance.now();
          await this.slot(() => m.estimator.partialFitShard(this.train.shards, m.calls % this.train.shards.nShards, this.train.meta, classes), this.priority(m));
          m.fitSeconds += (performance.now() - t0) / 1000;
          m.calls++;
          this.calls++;
        }
        this.check();
        const t0 = performance.now();
        const score = await this.slot(() => m.estimator.scoreShards(this.valid.shards, this.valid.meta, this.scoring), this.priority(m));
        m.scoreSeconds += (performance.now() - t0) / 1000;
        this.record(m, score);
      } catch (err) {
        if (this.options.signal?.aborted || err === this.failed) throw err;
        // A parameter error is the search's set-up, not one model's bad luck: it stops the search.
        if (this.options.errorScore === 'raise' || err instanceof MlParamError) {
          this.fail(err);
          throw err;
        }
        m.stopped = 'error';
        m.error = err instanceof Error ? err.message : String(err);
        this.record(m, this.options.errorScore);
        await m.estimator.releaseState?.();
        return;
      }
      if (patience && plateaued(m.history, patience, tol)) {
        m.stopped = 'plateau';
        await m.estimator.releaseState?.();
      }
    }
  }

  private record(m: Model<E>, score: number): void {
    m.history.push({ calls: m.calls, score });
    this.history.push({ modelId: m.id, bracket: m.bracket, partialFitCalls: m.calls, score, elapsedSeconds: (performance.now() - this.t0) / 1000 });
  }

  /** Each scoring so far, as BOHB's density model reads them. */
  observations(): Observation[] {
    return this.models.flatMap((m) => m.history.map((h) => ({ params: m.params, budget: h.calls, score: h.score })));
  }
}

/** Successive halving of these models along the rungs: the best of each rung go on to the next. */
async function halve<E extends PartialFitEstimator>(pool: ModelPool<E>, models: Array<Model<E>>, rungs: readonly Rung[]): Promise<void> {
  let alive = models;
  for (const rung of rungs) {
    const going = alive.filter((m) => !m.stopped);
    const chosen = new Set(topK(going.map((m) => ({ id: m.id, score: lastScore(m) })), rung.models).map((s) => s.id));
    // The models that go no further let their partial fits' state go now (boosting's, on the workers).
    await Promise.all(alive.filter((m) => !chosen.has(m.id)).map((m) => m.estimator.releaseState?.()));
    alive = going.filter((m) => chosen.has(m.id));
    if (alive.length === 0) return;
    await pool.advance(alive, rung.calls);
  }
}

const lastScore = (m: Model<unknown>) => m.history.at(-1)?.score ?? Number.NaN;

const DEFAULT_TEST_SIZE = 0.15;

abstract class BaseIncrementalSearchCV<E extends PartialFitEstimator> {
  /** One row per model: its bracket, parameters, calls made, last and best score, rank, why it stopped, times, error. */
  cvResults: pl.DataFrame | undefined;
  /** Every scoring of every model, in the order they happened. */
  history: HistoryRecord[] | undefined;
  bestIndex: number | undefined;
  bestParams: Record<string, unknown> | undefined;
  /** The best model's last validation score. */
  bestScore: number | undefined;
  /** The best model as the search trained it (not refitted). */
  bestEstimator: E | undefined;
  /** What the search did: models trained and partialFit calls made, per bracket. */
  metadata: SearchMetadata | undefined;
  protected readonly common: Required<Omit<IncrementalSearchOptions, 'scoring'>> & { scoring: ShardScoring };

  constructor(readonly estimator: E, readonly paramDistributions: ParamDistributions, options: IncrementalSearchOptions, protected readonly caller: string) {
    const e = estimator as Partial<PartialFitEstimator> | undefined;
    if (typeof e?.partialFitShard !== 'function' || typeof e.scoreShards !== 'function' || typeof e.withParams !== 'function') {
      throw new MlParamError(`${caller}: the estimator must learn with partialFit (SGDClassifier, SGDRegressor)`);
    }
    checkDistributions(paramDistributions, caller);
    const scoring = options.scoring ?? (estimator.classifies ? 'accuracy' : 'r2');
    if (!Object.hasOwn(SHARD_SCORINGS, scoring)) throw new MlParamError(`${caller}: scoring must be one of ${Object.keys(SHARD_SCORINGS).join(', ')}, got ${JSON.stringify(scoring)}`);
    if (SHARD_SCORINGS[scoring].classifier !== estimator.classifies) throw new MlParamError(`${caller}: scoring "${scoring}" is for ${estimator.classifies ? 'regressors' : 'classifiers'}, and ${estimator.constructor.name} is a ${estimator.classifies ? 'classifier' : 'regressor'}`);
    if (SHARD_SCORINGS[scoring].logLoss) {
      // Every candidate's loss: the searched ones, else the estimator's own.
      const searched = paramDistributions.loss;
      const own = (estimator as { params?: { loss?: unknown } }).params?.loss;
      const losses = Array.isArray(searched) ? searched : [own];
      // Estimators without a loss parameter (boosting's classifiers) always give probabilities.
      if ((own !== undefined || Array.isArray(searched)) && losses.some((l) => l !== 'log_loss')) throw new MlParamError(`${caller}: scoring "${scoring}" needs probabilities, so every candidate's loss must be 'log_loss' (got ${losses.map(String).join(', ')})`);
    }
    const testSize = options.testSize ?? DEFAULT_TEST_SIZE;
    if (!(testSize > 0 && testSize < 1)) throw new MlParamError(`${caller}: testSize must be a share between 0 and 1 (exclusive), got ${testSize}`);
    const seed = options.seed ?? 0;
    mulberry32(seed); // checks it
    const patience = options.patience ?? false;
    if (patience !== false) checkPositiveInteger(caller, 'patience', patience);
    const tol = options.tol ?? 0.001;
    if (!(Number.isFinite(tol) && tol >= 0)) throw new MlParamError(`${caller}: tol must be a number >= 0, got ${tol}`);
    const concurrency = options.concurrency ?? 16;
    checkPositiveInteger(caller, 'concurrency', concurrency);
    const errorScore = options.errorScore ?? Number.NaN;
    if (errorScore !== 'raise' && typeof errorScore !== 'number') throw new MlParamError(`${caller}: errorScore must be 'raise' or a number`);
    this.common = { scoring, testSize, seed, patience, tol, concurrency, errorScore };
  }

  /** Runs the schedule on the pool: adds models and advances them. */
  protected abstract run(pool: ModelPool<E>): Promise<void>;

  /** The most partialFit calls the schedule gives a model. */
  protected abstract maxCallsPerModel(): number;

  /** The candidates known before any result (all but BOHB's model-drawn ones), to check their parameters before any data is read. */
  protected abstract knownCandidates(): Array<Record<string, unknown>>;

  /** What the schedule plans when no model stops early (dask-ml's metadata before fit). */
  abstract get plannedMetadata(): SearchMetadata;

  async fit(X: DataFrame, y: Target | undefined, options: FitOptions = {}): Promise<this> {
    const caller = this.caller;
    if (y === undefined) throw new MlDataError(`${caller}: fit needs y`);
    options.signal?.throwIfAborted();
    for (const params of this.knownCandidates()) this.estimator.withParams(params); // bad parameters fail here
    const { testSize, seed } = this.common;
    const split = { testSize, seed };
    const [trainX, validX] = trainTestSplit(X, split);
    const [trainY, validY] = typeof y === 'string' ? [y, y] : trainTestSplit(y, split);
    // Mobile: the models' many calls are a backlog that workers the cluster gains can take.
    const shardOptions = { ...(options.client ? { client: options.client } : {}), ...(options.signal ? { signal: options.signal } : {}), classify: this.estimator.classifies, caller, mobile: true };
    const train = await toShards(trainX, trainY, shardOptions);
    try {
      // The validation rows may lack a class the training rows have (scoring maps the labels).
      const valid = await toShards(validX, validY, { ...shardOptions, minClasses: 1 });
      try {
        const { patience, tol, concurrency, errorScore } = this.common;
        const pool = new ModelPool(this.estimator, train, valid, this.common.scoring, { patience, tol, concurrency, errorScore, ...(options.signal ? { signal: options.signal } : {}) });
        try {
          await this.run(pool);
          this.collect(pool);
        } finally {
          // Estimators that keep a run's state on the workers between calls (boosting) let it go.
          await Promise.all(pool.models.map((m) => m.estimator.releaseState?.()));
        }
      } finally {
        await valid.shards.release();
      }
    } finally {
      await train.shards.release();
    }
    return this;
  }

  private collect(pool: ModelPool<E>): void {
    const models = pool.models;
    const scores = models.map(lastScore);
    // A numeric errorScore ranks failed models, but a search whose every model failed has no result.
    if (models.every((m, i) => m.error !== undefined || Number.isNaN(scores[i]))) {
      const first = models.find((m) => m.error)?.error;
      throw new MlDataError(`${this.caller}: every model failed or scored NaN${first ? `; the first error: ${first}` : ''}`);
    }
    const ranks = rankDescending(scores);
    const best = topK(models.map((m) => ({ id: m.id, score: lastScore(m) })), 1)[0]!.id;
    const reason = (m: Model<E>): StopReason => m.stopped ?? (m.calls >= this.maxCallsPerModel() ? 'maxIter' : 'halved');
    const names = [...new Set(models.flatMap((m) => Object.keys(m.params)))].sort();
    const ints = (name: string, values: number[]) => pl.Series(name, values, pl.Int32);
    const columns: Record<string, unknown> = { model_id: ints('model_id', models.map((m) => m.id)), bracket: ints('bracket', models.map((m) => m.bracket)) };
    for (const name of names) {
      const values = models.map((m) => m.params[name]);
      columns[`param_${name}`] = values.every((v) => typeof v === 'number') ? values : values.map((v) => (v === undefined ? null : typeof v === 'string' ? v : JSON.stringify(v)));
    }
    columns.params = models.map((m) => JSON.stringify(m.params));
    columns.partial_fit_calls = ints('partial_fit_calls', models.map((m) => m.calls));
    columns.test_score = scores;
    columns.best_test_score = models.map((m) => Math.max(...m.history.map((h) => (Number.isNaN(h.score) ? -Infinity : h.score))));
    columns.rank_test_score = ints('rank_test_score', ranks);
    columns.stopped = models.map(reason);
    columns.fit_time = models.map((m) => m.fitSeconds);
    columns.score_time = models.map((m) => m.scoreSeconds);
    columns.error = pl.Series('error', models.map((m) => m.error ?? null), pl.Utf8);
    this.cvResults = pl.DataFrame(columns);
    this.history = pool.history;
    this.bestIndex = best;
    this.bestParams = models[best]!.params;
    this.bestScore = scores[best];
    this.bestEstimator = models[best]!.estimator;
    this.metadata = metadataOf(models.map((m) => ({ bracket: m.bracket, calls: m.calls })));
  }
}

function metadataOf(models: ReadonlyArray<{ bracket: number; calls: number }>): SearchMetadata {
  return totals([...new Set(models.map((m) => m.bracket))].sort((a, b) => b - a).map((bracket) => {
    const own = models.filter((m) => m.bracket === bracket);
    return { bracket, nModels: own.length, partialFitCalls: own.reduce((n, m) => n + m.calls, 0) };
  }));
}

/** The search's metadata from its brackets': models and calls added up. */
function totals(brackets: SearchMetadata['brackets']): SearchMetadata {
  return { nModels: brackets.reduce((n, b) => n + b.nModels, 0), partialFitCalls: brackets.reduce((n, b) => n + b.partialFitCalls, 0), brackets };
}

export interface IncrementalRandomSearchOptions extends IncrementalSearchOptions {
  /** Candidates drawn. Default 10. */
  nInitialParameters?: number;
  /** partialFit calls each model gets (fewer if it stops improving, with patience). Default 100. */
  maxIter?: number;
}

/** Random search over partialFit: every candidate trained to maxIter calls (dask-ml's IncrementalSearchCV without decay). */
export class IncrementalSearchCV<E extends PartialFitEstimator = PartialFitEstimator> extends BaseIncrementalSearchCV<E> {
  readonly nInitialParameters: number;
  readonly maxIter: number;

  constructor(estimator: E, paramDistributions: ParamDistributions, options: IncrementalRandomSearchOptions = {}, caller = 'IncrementalSearchCV') {
    super(estimator, paramDistributions, options, caller);
    this.nInitialParameters = options.nInitialParameters ?? 10;
    this.maxIter = options.maxIter ?? 100;
    checkPositiveInteger(caller, 'nInitialParameters', this.nInitialParameters);
    checkPositiveInteger(caller, 'maxIter', this.maxIter);
  }

  get plannedMetadata(): SearchMetadata {
    const n = this.knownCandidates().length;
    return totals([{ bracket: 0, nModels: n, partialFitCalls: n * this.maxIter }]);
  }

  protected maxCallsPerModel(): number { return this.maxIter; }
  protected knownCandidates(): Array<Record<string, unknown>> {
    return sampleParams(this.paramDistributions, this.nInitialParameters, this.common.seed, this.caller);
  }

  protected async run(pool: ModelPool<E>): Promise<void> {
    await pool.advance(this.knownCandidates().map((p) => pool.add(p, 0)), this.maxIter);
  }
}

export interface SuccessiveHalvingOptions extends IncrementalRandomSearchOptions {
  /** Calls each model gets before the first scoring. Default: what halves nInitialParameters down to one model just at maxIter. */
  nInitialIter?: number;
  /** The cut at each rung: the best 1/aggressiveness go on, for aggressiveness times the calls. Default 3. */
  aggressiveness?: number;
}

/** Successive halving: nInitialParameters models at nInitialIter calls, the best 1/aggressiveness going on, each time for aggressiveness times the calls, up to maxIter. */
export class SuccessiveHalvingSearchCV<E extends PartialFitEstimator = PartialFitEstimator> extends IncrementalSearchCV<E> {
  readonly nInitialIter: number;
  readonly aggressiveness: number;

  constructor(estimator: E, paramDistributions: ParamDistributions, options: SuccessiveHalvingOptions = {}) {
    super(estimator, paramDistributions, options, 'SuccessiveHalvingSearchCV');
    this.aggressiveness = options.aggressiveness ?? 3;
    checkAggressiveness(this.caller, this.aggressiveness, this.maxIter);
    this.nInitialIter = options.nInitialIter ?? defaultInitialIter(this.nInitialParameters, this.maxIter, this.aggressiveness);
    checkPositiveInteger(this.caller, 'nInitialIter', this.nInitialIter);
    if (this.nInitialIter > this.maxIter) throw new MlParamError(`${this.caller}: nInitialIter (${this.nInitialIter}) must be at most maxIter (${this.maxIter})`);
  }

  private rungs(n: number): Rung[] {
    return halvingRungs(n, this.nInitialIter, this.maxIter, this.aggressiveness);
  }

  override get plannedMetadata(): SearchMetadata {
    const n = this.knownCandidates().length;
    return totals([{ bracket: 0, nModels: n, partialFitCalls: plannedCalls(this.rungs(n)) }]);
  }

  protected override async run(pool: ModelPool<E>): Promise<void> {
    const candidates = this.knownCandidates();
    await halve(pool, candidates.map((p) => pool.add(p, 0)), this.rungs(candidates.length));
  }
}

export interface HyperbandOptions extends IncrementalSearchOptions {
  /** The most partialFit calls any model gets; it sets the brackets. Default 81. */
  maxIter?: number;
  /** Default 3. */
  aggressiveness?: number;
}

/**
 * Hyperband: successive halving in brackets that trade many models at few calls against few at
 * many (Li et al.), all brackets at once. dask-ml's HyperbandSearchCV.
 */
export class HyperbandSearchCV<E extends PartialFitEstimator = PartialFitEstimator> extends BaseIncrementalSearchCV<E> {
  readonly maxIter: number;
  readonly aggressiveness: number;

  constructor(estimator: E, paramDistributions: ParamDistributions, options: HyperbandOptions = {}, caller = 'HyperbandSearchCV') {
    super(estimator, paramDistributions, options, caller);
    this.maxIter = options.maxIter ?? 81;
    this.aggressiveness = options.aggressiveness ?? 3;
    checkPositiveInteger(caller, 'maxIter', this.maxIter);
    checkAggressiveness(caller, this.aggressiveness, this.maxIter);
  }

  protected brackets(): Bracket[] {
    return hyperbandBrackets(this.maxIter, this.aggressiveness);
  }

  /** A bracket's rungs for n models starting at `calls` (n may fall short of its models: a list-only space has fewer candidates). */
  protected rungs(n: number, calls: number): Rung[] {
    return halvingRungs(n, calls, this.maxIter, this.aggressiveness);
  }

  /** Bracket s's candidates: its own seeded draw, so that each bracket's are the same whatever the others. */
  private bracketCandidates(bracket: number, models: number): Array<Record<string, unknown>> {
    return sampleParams(this.paramDistributions, models, (this.common.seed % 2 ** 32) * 1000 + bracket, this.caller);
  }

  protected maxCallsPerModel(): number { return this.maxIter; }
  protected knownCandidates(): Array<Record<string, unknown>> {
    return this.brackets().flatMap((b) => this.bracketCandidates(b.bracket, b.models));
  }

  get plannedMetadata(): SearchMetadata {
    return totals(this.brackets().map((b) => {
      const n = this.bracketCandidates(b.bracket, b.models).length;
      return { bracket: b.bracket, nModels: n, partialFitCalls: plannedCalls(this.rungs(n, b.calls)) };
    }));
  }

  protected async run(pool: ModelPool<E>): Promise<void> {
    const settled = await Promise.allSettled(this.brackets().map(async (b) => {
      const candidates = this.bracketCandidates(b.bracket, b.models);
      try {
        await halve(pool, candidates.map((p) => pool.add(p, b.bracket)), this.rungs(candidates.length, b.calls));
      } catch (err) {
        pool.fail(err); // the other brackets stop too
        throw err;
      }
    }));
    const rejected = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (rejected) throw rejected.reason;
  }
}

export type BohbSearchOptions = HyperbandOptions & Partial<BohbOptions>;

/**
 * BOHB: Hyperband whose brackets run one after another, largest first, each drawing its
 * candidates from a density model of the results so far (bohb.ts) once enough exist, at random
 * until then (Falkner et al., 2018).
 */
export class BOHBSearchCV<E extends PartialFitEstimator = PartialFitEstimator> extends HyperbandSearchCV<E> {
  readonly bohb: BohbOptions;

  constructor(estimator: E, paramDistributions: ParamDistributions, options: BohbSearchOptions = {}) {
    super(estimator, paramDistributions, options, 'BOHBSearchCV');
    const bohb: BohbOptions = { ...BOHB_DEFAULTS };
    for (const key of Object.keys(BOHB_DEFAULTS) as Array<keyof BohbOptions>) if (options[key] !== undefined) bohb[key] = options[key];
    if (options.minPointsInModel !== undefined) {
      checkPositiveInteger(this.caller, 'minPointsInModel', options.minPointsInModel);
      bohb.minPointsInModel = options.minPointsInModel;
    }
    if (!(bohb.topNPercent > 0 && bohb.topNPercent < 100)) throw new MlParamError(`${this.caller}: topNPercent must be between 0 and 100 (exclusive), got ${bohb.topNPercent}`);
    if (!(bohb.randomFraction >= 0 && bohb.randomFraction <= 1)) throw new MlParamError(`${this.caller}: randomFraction must be between 0 and 1, got ${bohb.randomFraction}`);
    checkPositiveInteger(this.caller, 'numSamples', bohb.numSamples);
    if (!(bohb.bandwidthFactor > 0)) throw new MlParamError(`${this.caller}: bandwidthFactor must be > 0, got ${bohb.bandwidthFactor}`);
    if (!(bohb.minBandwidth > 0)) throw new MlParamError(`${this.caller}: minBandwidth must be > 0, got ${bohb.minBandwidth}`);
    this.bohb = bohb;
  }

  /** Planned before any result exists: Hyperband's counts (the candidates are not known yet). */
  override get plannedMetadata(): SearchMetadata {
    return totals(this.brackets().map((b) => ({ bracket: b.bracket, nModels: b.models, partialFitCalls: plannedCalls(this.rungs(b.models, b.calls)) })));
  }

  /** Its candidates come from the results: none is known before. */
  protected override knownCandidates(): Array<Record<string, unknown>> { return []; }

  /** How many of the models came from the density model (the rest were random draws). */
  modelBased: number | undefined;

  protected override async run(pool: ModelPool<E>): Promise<void> {
    const next = mulberry32(this.common.seed);
    this.modelBased = 0;
    for (const b of this.brackets()) {
      const candidates = Array.from({ length: b.models }, () => proposeCandidate(this.paramDistributions, pool.observations(), this.bohb, next));
      this.modelBased += candidates.filter((c) => c.fromModel).length;
      await halve(pool, candidates.map((c) => pool.add(c.params, b.bracket)), this.rungs(b.models, b.calls));
    }
  }
}
