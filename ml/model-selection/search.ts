// GridSearchCV and RandomizedSearchCV (scikit-learn's): every candidate fitted on every
// cross-validation fold, on the cluster. The folds are lazy filters of X (KFold's hash of each
// row's place, or a fold column as PredefinedSplit), so the rows stay on the workers; each
// (candidate, fold) fit is the estimator's own distributed fit, several at once, so the
// workers always have shard tasks of some fit to run. Pipeline candidates that differ only in
// their last step share each fold's shards and fitted transformers (fitSharingPrefix). Scores
// are the mean over folds; the best candidate is refitted on all of X.
import pl from 'nodejs-polars';
import type { DataFrame } from '../../dataframe/frame.js';
import type { Classifier, Estimator, FitOptions, Predictor, Target } from '../core/estimator.js';
import { MlDataError, MlParamError, NotFittedError } from '../errors.js';
import { expandGrid, sampleParams, type ParamDistributions, type ParamGrid } from './params.js';
import { scorer, type Scoring, type ScorerFunction } from './scoring.js';
import { KFold } from './split.js';
import { resolveClient } from '../../dataframe/execute.js';
import { fitSharingPrefix, Pipeline, throughStep, type SharedFit } from '../core/pipeline.js';
import { isShardTransformer, type ShardTransformer } from '../core/estimator.js';
import type { Shards } from '../core/shards.js';
import { toShards, type ShardsMeta, type ToShardsOptions } from '../core/to-shards.js';
import { LogisticRegression, type ShardClassifierScoring } from '../linear/logistic-regression.js';

export interface SearchOptions {
  /**
   * The folds: their number (KFold with seed 0), a KFold, or `{ testFold: column }`: X's column
   * holding each row's test fold 0 .. k-1 (-1: always training), as scikit-learn's
   * PredefinedSplit; that column is not a feature. Default 5.
   */
  cv?: number | KFold | { testFold: string };
  /** What to maximise: a scorer name, a function, or the estimator's own score (default). */
  scoring?: Scoring;
  /** Refit the best candidate on all of X (bestEstimator). Default true. */
  refit?: boolean;
  /** Fits at once (each is itself spread over the workers). Default 4. */
  concurrency?: number;
  /** The score of a fit that threw: 'raise' stops the search with its error; a number (default NaN) is recorded, with the error in cvResults. */
  errorScore?: 'raise' | number;
  /**
   * Pipeline candidates that differ only in a last step able to start from another's solution
   * (LogisticRegression) are fitted on each fold one after another, in the candidates' order,
   * each from the one before: the same optima (within tol) in fewer iterations. Default true;
   * false fits each from zero, several at once.
   */
  warmStart?: boolean;
  /**
   * Lets workers that join during the search share its fits: their shard tasks may then run on
   * a worker without the shard (the scheduler copies it there when that beats waiting), so the
   * fits' backlog counts for the autoscaler. For an autoscaled cluster; on a fixed one the
   * copies cost (about 15 % on the search bench). Default false: a fit's rounds stay where
   * its shards are.
   */
  elastic?: boolean;
}

/** One (candidate, fold) outcome. */
interface FoldResult { score: number; fitSeconds: number; scoreSeconds: number; error?: string }

interface Fold { trainX: DataFrame; trainY: Target | undefined; testX: DataFrame; testY: DataFrame }

const NAME_GRID = 'GridSearchCV';
const NAME_RANDOM = 'RandomizedSearchCV';

abstract class BaseSearchCV<E extends Estimator> {
  /** Per candidate: params, each fold's test score, their mean, std and rank; fit and score times; errors. */
  cvResults: pl.DataFrame | undefined;
  bestIndex: number | undefined;
  bestParams: Record<string, unknown> | undefined;
  bestScore: number | undefined;
  /** The best candidate fitted on all of X (with refit). */
  bestEstimator: E | undefined;
  refitSeconds: number | undefined;
  /** The candidates in the order of cvResults' rows. */
  candidates: Array<Record<string, unknown>> | undefined;
  protected readonly options: Required<Omit<SearchOptions, 'scoring'>> & { scoring?: Scoring };

  constructor(readonly estimator: E, options: SearchOptions, private readonly caller: string) {
    if (typeof estimator?.withParams !== 'function' || typeof estimator.fit !== 'function') throw new MlParamError(`${caller}: the first argument must be an estimator (with fit and withParams)`);
    const cv = options.cv ?? 5;
    if (typeof cv === 'number') new KFold({ nSplits: cv }); // checks it
    else if (!(cv instanceof KFold) && typeof (cv as { testFold?: unknown }).testFold !== 'string') throw new MlParamError(`${caller}: cv must be a number of folds, a KFold or { testFold: column }`);
    const concurrency = options.concurrency ?? 4;
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new MlParamError(`${caller}: concurrency must be an integer >= 1, got ${concurrency}`);
    const errorScore = options.errorScore ?? Number.NaN;
    if (errorScore !== 'raise' && typeof errorScore !== 'number') throw new MlParamError(`${caller}: errorScore must be 'raise' or a number`);
    scorer(options.scoring, estimator, caller); // an unknown name fails here, before any fit
    this.options = { cv, refit: options.refit ?? true, concurrency, errorScore, warmStart: options.warmStart ?? true, elastic: options.elastic ?? false, scoring: options.scoring };
  }

  protected abstract candidateParams(): Array<Record<string, unknown>>;

  async fit(X: DataFrame, y?: Target, options: FitOptions = {}): Promise<this> {
    // Every fit and score hands its options on to toShards, where `mobile` unpins the shard tasks.
    const mobile: ToShardsOptions = { ...options, mobile: true };
    try {
      return await this.search(X, y, this.options.elastic ? mobile : options);
    } finally {
      this.releaseKept();
    }
  }

  private async search(X: DataFrame, y: Target | undefined, options: FitOptions): Promise<this> {
    options.signal?.throwIfAborted();
    const caller = this.caller;
    const candidates = this.candidateParams();
    const estimators = candidates.map((p) => this.estimator.withParams(p)); // bad parameters fail before any fit
    const folds = await this.folds(X, y, options);
    const score = scorer(this.options.scoring, this.estimator, caller);
    const results: FoldResult[][] = candidates.map(() => []);
    // Candidates of a Pipeline that differ only in its last step share the rest of each fold's fit.
    const groups = this.estimator instanceof Pipeline ? byPrefix(this.estimator, candidates) : candidates.map((_, c) => [c]);
    const jobs = groups.flatMap((group) => folds.map((fold, f) => ({ group, f, fold })));
    const { errorScore, concurrency, warmStart } = this.options;
    const onShards = shardScoring(this.options.scoring, this.estimator);
    // One limit over both levels: jobs at once, times the fits each runs at once.
    const outer = Math.min(concurrency, jobs.length);
    const inner = Math.max(1, Math.floor(concurrency / outer));
    let next = 0;
    let failed: unknown;
    const worker = async () => {
      while (failed === undefined && next < jobs.length) {
        const { group, f, fold } = jobs[next++]!;
        try {
          options.signal?.throwIfAborted();
          const outcomes = await fitGroup(group.map((c) => estimators[c]!.withParams({})), fold, score, options, errorScore, inner, warmStart, onShards);
          group.forEach((c, i) => { results[c]![f] = outcomes[i]!; });
        } catch (err) {
          failed ??= err;
        }
      }
    };
    await Promise.all(Array.from({ length: outer }, worker));
    if (failed !== undefined) throw failed;

    const means = results.map((r) => mean(r.map((x) => x.score)));
    if (means.every((m) => Number.isNaN(m))) {
      const first = results.flat().find((r) => r.error)?.error;
      throw new MlDataError(`${caller}: every fit failed or scored NaN${first ? `; the first error: ${first}` : ''}`);
    }
    const ranks = rankDescending(means);
    this.candidates = candidates;
    this.cvResults = resultsTable(candidates, results, means, ranks);
    const best = ranks.indexOf(1);
    this.bestIndex = best;
    this.bestParams = candidates[best];
    this.bestScore = means[best];
    if (this.options.refit) {
      const t0 = performance.now();
      this.bestEstimator = await this.estimator.withParams(candidates[best]!).fit(...this.fullData(X, y), options);
      this.refitSeconds = (performance.now() - t0) / 1000;
    }
    return this;
  }

  predict(X: DataFrame): DataFrame {
    return (this.fitted('predict') as unknown as Predictor).predict(X);
  }

  predictProba(X: DataFrame): DataFrame {
    return (this.fitted('predictProba') as unknown as Classifier).predictProba(X);
  }

  /** The search's scorer on the refitted best estimator. */
  async score(X: DataFrame, y: Target, options: FitOptions = {}): Promise<number> {
    const e = this.fitted('score');
    const [Xs, ys] = typeof y === 'string' ? [X.drop(y), X.select(y)] : [X, y];
    return scorer(this.options.scoring, this.estimator, this.caller)(e, Xs, ys, options);
  }

  private fitted(what: string): E {
    if (!this.bestEstimator) throw new NotFittedError(this.caller, `${what} (fit with refit: true)`);
    return this.bestEstimator;
  }

  /** X and y for the refit: without the fold column of a PredefinedSplit. */
  private fullData(X: DataFrame, y: Target | undefined): [DataFrame, Target | undefined] {
    const cv = this.options.cv;
    return [typeof cv === 'object' && !(cv instanceof KFold) ? X.drop(cv.testFold) : X, y];
  }

  private async folds(X: DataFrame, y: Target | undefined, options: FitOptions): Promise<Fold[]> {
    const caller = this.caller;
    if (typeof y === 'string' && !X.columns.includes(y)) throw new MlDataError(`${caller}: y names column "${y}", which X does not have`);
    const cv = this.options.cv;
    if (typeof cv === 'object' && !(cv instanceof KFold)) {
      const col = cv.testFold;
      if (!X.columns.includes(col)) throw new MlDataError(`${caller}: cv.testFold names column "${col}", which X does not have`);
      if (y !== undefined && typeof y !== 'string') throw new MlDataError(`${caller}: with cv.testFold, give y as a column of X (the folds are filters on X's fold column)`);
      if (!/^U?Int(8|16|32|64)$/.test(String(X.schema[col]?.variant))) throw new MlDataError(`${caller}: cv.testFold column "${col}" must hold integer fold numbers, it is ${String(X.schema[col])}`);
      if (y === undefined) throw new MlDataError(`${caller}: fit needs y to score the folds`);
      const top = (await X.select(pl.col(col).max().alias('k')).compute(options)).getColumn('k').get(0) as number | bigint | null;
      const k = top === null ? 0 : Number(top) + 1;
      if (k < 2) throw new MlDataError(`${caller}: cv.testFold column "${col}" must number at least 2 folds (0, 1, ...), its largest value is ${String(top)}`);
      return predefinedFolds(X, y, col, k);
    }
    if (y === undefined) throw new MlDataError(`${caller}: fit needs y to score the folds`);
    // Each row's fold is computed once and kept with the rows on the workers; every fit and
    // score after filters on it (the hash costs more than a whole fit's pass over a shard).
    const kfold = typeof cv === 'number' ? new KFold({ nSplits: cv }) : cv;
    const client = resolveClient(options);
    const tagged = kfold.withFoldColumn(X, FOLD).persist({ client });
    this.kept.push(tagged);
    if (typeof y === 'string') return predefinedFolds(tagged, y, FOLD, kfold.nSplits);
    const yTagged = kfold.withFoldColumn(y, FOLD).persist({ client });
    this.kept.push(yTagged);
    return predefinedFolds(tagged, undefined, FOLD, kfold.nSplits).map((fold, f) => {
      const inFold = pl.col(FOLD).eq(pl.lit(f));
      return { ...fold, trainY: yTagged.filter(inFold.not()).drop(FOLD), testY: yTagged.filter(inFold).drop(FOLD) };
    });
  }

  /** Frames persisted for the search (rows tagged with their fold), let go when it ends. */
  private kept: DataFrame[] = [];

  private releaseKept(): void {
    for (const df of this.kept.splice(0)) for (const b of df.bindings.values()) b.future?.release();
  }

}

/**
 * Folds 0 .. k-1 of the fold column (a row of fold -1 is never tested), the column dropped;
 * y a column of X, or (undefined) filled in by the caller.
 */
function predefinedFolds(X: DataFrame, y: string | undefined, col: string, k: number): Fold[] {
  return Array.from({ length: k }, (_, f) => {
    const inFold = pl.col(col).eq(pl.lit(f));
    const trainX = X.filter(inFold.not()).drop(col);
    const testX = X.filter(inFold).drop(col);
    return y === undefined
      ? { trainX, trainY: undefined, testX, testY: testX }
      : { trainX, trainY: y, testX: testX.drop(y), testY: testX.select(y) };
  });
}

/** The column a search tags rows with their KFold fold. */
const FOLD = '__kd_fold';

/** A key equal only for equal values: JSON, but with NaN, the infinities, -0, undefined and BigInt kept apart. */
function valueKey(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'number') return Number.isFinite(v) && !Object.is(v, -0) ? v : `number:${Object.is(v, -0) ? '-0' : String(v)}`;
    if (typeof v === 'bigint') return `bigint:${v}`;
    if (v === undefined) return 'undefined:';
    return v;
  });
}

/** Candidate indices grouped by their parameters of every step but the pipeline's last. */
function byPrefix(pipeline: Pipeline, candidates: Array<Record<string, unknown>>): number[][] {
  const last = `${pipeline.steps.at(-1)![0]}__`;
  const groups = new Map<string, number[]>();
  candidates.forEach((params, c) => {
    const prefix = Object.entries(params).filter(([k]) => !k.startsWith(last)).sort(([a], [b]) => (a < b ? -1 : 1));
    const key = valueKey(prefix);
    groups.set(key, [...(groups.get(key) ?? []), c]);
  });
  return [...groups.values()];
}

/**
 * Fits the group's estimators on the fold and scores them: pipelines sharing their prefix on
 * shards built once (each reports its last step's fit and its share of the rest), anything
 * else one by one.
 */
async function fitGroup(
  estimators: Estimator[], fold: Fold, score: ScorerFunction, options: FitOptions, errorScore: 'raise' | number, concurrency: number, warmStart: boolean,
  onShards: ShardClassifierScoring | undefined,
): Promise<FoldResult[]> {
  if (estimators.length > 1 && estimators.every((e) => e instanceof Pipeline)) {
    const t0 = performance.now();
    // Each candidate is scored as soon as it is fitted, while the next ones fit.
    const scored: Array<Promise<FoldResult>> = [];
    // The fold's test rows as shards, built once through the group's shared fitted prefix.
    let testShards: Promise<{ shards: Shards; meta: ShardsMeta }> | undefined;
    const scoreOne = async (s: SharedFit): Promise<FoldResult> => {
      if ('error' in s) return failure(s.error, errorScore, s.seconds, options.signal);
      if (!onShards) return scoreFitted(s.pipeline, fold, score, options, errorScore, s.seconds);
      const t1 = performance.now();
      try {
        testShards ??= transformedTestShards(s.pipeline, fold, options);
        const { shards, meta } = await testShards;
        const value = await (s.pipeline.steps.at(-1)![1] as LogisticRegression).scoreShards(shards, meta, onShards);
        return { score: value, fitSeconds: s.seconds, scoreSeconds: (performance.now() - t1) / 1000 };
      } catch (err) {
        return { ...failure(err, errorScore, s.seconds, options.signal), scoreSeconds: (performance.now() - t1) / 1000 };
      }
    };
    const releaseTestShards = async () => {
      const built = await testShards?.catch(() => undefined);
      await built?.shards.release();
    };
    let shared: SharedFit[] | undefined;
    let stopped = false;
    try {
      shared = await fitSharingPrefix(estimators as Pipeline[], fold.trainX, fold.trainY, options, concurrency, warmStart, (i, s) => {
        scored[i] = scoreOne(s);
        // With 'raise', a failure ends the group: no more fits are started.
        scored[i].catch(() => { stopped = true; });
        return !stopped && !('error' in s && errorScore === 'raise');
      });
    } catch (err) {
      await Promise.allSettled(scored);
      await releaseTestShards();
      return estimators.map(() => failure(err, errorScore, (performance.now() - t0) / 1000, options.signal));
    }
    if (shared) {
      // Every scoring ends before the group does (the search releases the folds' rows after).
      const settled = await Promise.allSettled(scored);
      await releaseTestShards();
      const rejected = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (rejected) throw rejected.reason;
      return settled.map((r) => (r as PromiseFulfilledResult<FoldResult>).value);
    }
  }
  const out: FoldResult[] = [];
  for (const e of estimators) out.push(await fitAndScore(e, fold, score, options, errorScore));
  return out;
}

async function fitAndScore(e: Estimator, fold: Fold, score: ScorerFunction, options: FitOptions, errorScore: 'raise' | number): Promise<FoldResult> {
  const t0 = performance.now();
  try {
    await e.fit(fold.trainX, fold.trainY, options);
  } catch (err) {
    return failure(err, errorScore, (performance.now() - t0) / 1000, options.signal);
  }
  return scoreFitted(e, fold, score, options, errorScore, (performance.now() - t0) / 1000);
}

/** The fitted candidate's score on the fold's test rows; a scorer that throws (one class in a test fold, NaN predictions) counts as errorScore, as a failed fit does. */
async function scoreFitted(e: Estimator, fold: Fold, score: ScorerFunction, options: FitOptions, errorScore: 'raise' | number, fitSeconds: number): Promise<FoldResult> {
  const t1 = performance.now();
  try {
    const value = await score(e, fold.testX, fold.testY, options);
    return { score: value, fitSeconds, scoreSeconds: (performance.now() - t1) / 1000 };
  } catch (err) {
    return { ...failure(err, errorScore, fitSeconds, options.signal), scoreSeconds: (performance.now() - t1) / 1000 };
  }
}

/**
 * The score a Pipeline ending in a LogisticRegression computes from a fold's test shards
 * (LogisticRegression.scoreShards) instead of from predictions on its DataFrame, when the
 * search's scoring is one of those; undefined otherwise.
 */
function shardScoring(scoring: Scoring | undefined, estimator: Estimator): ShardClassifierScoring | undefined {
  if (!(estimator instanceof Pipeline)) return undefined;
  const last = estimator.steps.at(-1)![1];
  if (!(last instanceof LogisticRegression) || !estimator.steps.slice(0, -1).every(([, step]) => step === 'passthrough' || isShardTransformer(step))) return undefined;
  if (scoring === undefined) return 'accuracy'; // its own score
  return scoring === 'accuracy' || scoring === 'neg_log_loss' || scoring === 'roc_auc' ? scoring : undefined;
}

/** The fold's test rows as shards, transformed by the pipeline's fitted steps but the last, where they are. */
async function transformedTestShards(pipeline: Pipeline, fold: Fold, options: FitOptions): Promise<{ shards: Shards; meta: ShardsMeta }> {
  // The test fold may lack a class the training rows have: scoring maps the labels.
  const built = await toShards(fold.testX, fold.testY, { ...options, classify: true, minClasses: 1, caller: 'GridSearchCV' });
  let shards = built.shards;
  try {
    for (const [, step] of pipeline.steps.slice(0, -1)) {
      if (step !== 'passthrough') shards = await throughStep(shards, step as ShardTransformer);
    }
  } catch (err) {
    await shards.release();
    throw err;
  }
  return { shards, meta: built.meta };
}

/** errorScore and the error's message; with 'raise', the error itself. */
function failure(err: unknown, errorScore: 'raise' | number, fitSeconds: number, signal: AbortSignal | undefined): FoldResult {
  // A cancelled search's calls reject with the signal's reason: that is no candidate's failure.
  if (errorScore === 'raise' || signal?.aborted) throw err;
  return { score: errorScore, fitSeconds, scoreSeconds: 0, error: err instanceof Error ? err.message : String(err) };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** Population standard deviation (numpy's default, as scikit-learn reports). */
const std = (xs: number[]) => {
  const m = mean(xs);
  return Math.sqrt(mean(xs.map((x) => (x - m) ** 2)));
};

/** 1 for the largest; ties share the smallest rank (scipy's rankdata 'min'); NaN ranks last. */
export function rankDescending(values: number[]): number[] {
  const key = (v: number) => (Number.isNaN(v) ? -Infinity : v);
  return values.map((v) => 1 + values.filter((w) => key(w) > key(v)).length);
}

function resultsTable(candidates: Array<Record<string, unknown>>, results: FoldResult[][], means: number[], ranks: number[]): pl.DataFrame {
  const columns: Record<string, unknown[]> = {};
  const names = [...new Set(candidates.flatMap((c) => Object.keys(c)))].sort();
  for (const name of names) {
    const values = candidates.map((c) => c[name]);
    const numeric = values.every((v) => typeof v === 'number');
    columns[`param_${name}`] = numeric ? values : values.map((v) => (v === undefined ? null : typeof v === 'string' ? v : valueKey(v)));
  }
  columns.params = candidates.map((c) => valueKey(c));
  const nFolds = results[0]!.length;
  for (let f = 0; f < nFolds; f++) columns[`split${f}_test_score`] = results.map((r) => r[f]!.score);
  columns.mean_test_score = means;
  columns.std_test_score = results.map((r) => std(r.map((x) => x.score)));
  columns.rank_test_score = ranks;
  columns.mean_fit_time = results.map((r) => mean(r.map((x) => x.fitSeconds)));
  columns.std_fit_time = results.map((r) => std(r.map((x) => x.fitSeconds)));
  columns.mean_score_time = results.map((r) => mean(r.map((x) => x.scoreSeconds)));
  columns.std_score_time = results.map((r) => std(r.map((x) => x.scoreSeconds)));
  columns.error = results.map((r) => r.find((x) => x.error)?.error ?? null);
  return pl.DataFrame(columns);
}

/** Every combination of the grid (or of each grid of a list), as scikit-learn's GridSearchCV. */
export class GridSearchCV<E extends Estimator = Estimator> extends BaseSearchCV<E> {
  constructor(estimator: E, readonly paramGrid: ParamGrid | ParamGrid[], options: SearchOptions = {}) {
    super(estimator, options, NAME_GRID);
    expandGrid(paramGrid, NAME_GRID);
  }

  protected candidateParams(): Array<Record<string, unknown>> {
    return expandGrid(this.paramGrid, NAME_GRID);
  }
}

export interface RandomizedSearchOptions extends SearchOptions {
  /** Candidates drawn. Default 10. */
  nIter?: number;
  /** Default 0. */
  seed?: number;
}

/** nIter candidates drawn from lists and distributions (ml.uniform, ml.logUniform, ml.randint), as scikit-learn's RandomizedSearchCV. */
export class RandomizedSearchCV<E extends Estimator = Estimator> extends BaseSearchCV<E> {
  readonly nIter: number;
  readonly seed: number;

  constructor(estimator: E, readonly paramDistributions: ParamDistributions, options: RandomizedSearchOptions = {}) {
    super(estimator, options, NAME_RANDOM);
    this.nIter = options.nIter ?? 10;
    this.seed = options.seed ?? 0;
    sampleParams(paramDistributions, this.nIter, this.seed, NAME_RANDOM);
  }

  protected candidateParams(): Array<Record<string, unknown>> {
    return sampleParams(this.paramDistributions, this.nIter, this.seed, NAME_RANDOM);
  }
}
