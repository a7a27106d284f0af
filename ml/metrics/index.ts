// ml.metrics: scikit-learn's metrics over (yTrue, yPred), both lazy DataFrames of the same
// partitions (a model's predict or predictProba beside the test set's label column). The pair
// becomes shards on the workers (yPred as x, yTrue as y); each metric adds up small per-shard
// summaries there (pair counts, error sums, sorted distinct scores): no rows come here.
import type { DataFrame } from '../../dataframe/frame.js';
import type { FitOptions } from '../core/estimator.js';
import type { Shards } from '../core/shards.js';
import { toShards } from '../core/to-shards.js';
import { MlDataError } from '../errors.js';
import { dtypeName } from '../../dataframe/schema.js';
import { accuracyFromPairs, aucFromScoreCounts, confusionFromPairs, prfFromPairs, probabilityEps, r2From, type ClassificationOptions } from './from-counts.js';

export type { Average, ClassificationOptions } from './from-counts.js';
export type MetricOptions = FitOptions;
export type ClassificationMetricOptions = FitOptions & ClassificationOptions;

export async function accuracyScore(yTrue: DataFrame, yPred: DataFrame, options: MetricOptions = {}): Promise<number> {
  return accuracyFromPairs(await pairs(yTrue, yPred, options, 'accuracyScore'));
}

export async function precisionScore(yTrue: DataFrame, yPred: DataFrame, options: ClassificationMetricOptions = {}): Promise<number> {
  return prfFromPairs(await pairs(yTrue, yPred, options, 'precisionScore'), 'precision', options, 'precisionScore');
}

export async function recallScore(yTrue: DataFrame, yPred: DataFrame, options: ClassificationMetricOptions = {}): Promise<number> {
  return prfFromPairs(await pairs(yTrue, yPred, options, 'recallScore'), 'recall', options, 'recallScore');
}

export async function f1Score(yTrue: DataFrame, yPred: DataFrame, options: ClassificationMetricOptions = {}): Promise<number> {
  return prfFromPairs(await pairs(yTrue, yPred, options, 'f1Score'), 'f1', options, 'f1Score');
}

/** Rows: true labels, columns: predicted, over `labels` (default: the sorted union of both). */
export async function confusionMatrix(yTrue: DataFrame, yPred: DataFrame, options: MetricOptions & { labels?: number[] } = {}): Promise<number[][]> {
  return confusionFromPairs(await pairs(yTrue, yPred, options, 'confusionMatrix'), options.labels).matrix;
}

/**
 * Binary ROC AUC, exact (tied scores count half, as scikit-learn's), yPred a score or the
 * probability of the larger label (a two-column predictProba frame: its last column).
 */
export async function rocAucScore(yTrue: DataFrame, yPred: DataFrame, options: MetricOptions = {}): Promise<number> {
  const caller = 'rocAucScore';
  return withShards(yTrue, lastColumn(yPred, caller), options, caller, async (shards) => {
    const labels = await trueLabels(shards);
    if (labels.length > 2) throw new MlDataError(`${caller}: yTrue has ${labels.length} labels (${labels.join(', ')}); only binary ROC AUC is computed`);
    return aucFromScoreCounts(await shards.map('metrics/scores', { column: 0, posLabel: labels.at(-1) }), caller);
  });
}

/**
 * Mean -log p(true label), probabilities clipped to [eps, 1 - eps] (eps of yPred's dtype:
 * Float32's for Float32 columns, else Float64's, as scikit-learn). yPred: the probability of the larger label (one column), or one column per
 * label in sorted order (predictProba's proba_0 ...).
 */
export async function logLoss(yTrue: DataFrame, yPred: DataFrame, options: MetricOptions & { labels?: number[] } = {}): Promise<number> {
  const caller = 'logLoss';
  return withShards(yTrue, yPred, options, caller, async (shards) => {
    const classes = options.labels ? [...options.labels].sort((a, b) => a - b) : await trueLabels(shards);
    if (classes.length < 2) throw new MlDataError(`${caller}: yTrue has one label (${classes[0]}); give options.labels with all of them`);
    const k = yPred.columns.length;
    if (k === 1 ? classes.length !== 2 : k !== classes.length) {
      throw new MlDataError(`${caller}: yTrue has ${classes.length} labels (${classes.join(', ')}) but yPred has ${k} column${k > 1 ? 's' : ''}; give one probability column per label, in sorted label order`);
    }
    const { n, loss } = await shards.sum<Record<string, number>>('metrics/log-loss', { classes, eps: probabilityEps(yPred.columns.map((c) => dtypeName(yPred.schema[c]!))) });
    return loss! / n!;
  }, true);
}

export async function meanSquaredError(yTrue: DataFrame, yPred: DataFrame, options: MetricOptions = {}): Promise<number> {
  const { n, se } = await regression(yTrue, yPred, options, 'meanSquaredError');
  return se / n;
}

export async function meanAbsoluteError(yTrue: DataFrame, yPred: DataFrame, options: MetricOptions = {}): Promise<number> {
  const { n, ae } = await regression(yTrue, yPred, options, 'meanAbsoluteError');
  return ae / n;
}

export async function r2Score(yTrue: DataFrame, yPred: DataFrame, options: MetricOptions = {}): Promise<number> {
  const { se, ss } = await regression(yTrue, yPred, options, 'r2Score', true);
  return r2From(se, ss!);
}

async function pairs(yTrue: DataFrame, yPred: DataFrame, options: FitOptions, caller: string): Promise<Record<string, number>> {
  return withShards(yTrue, oneColumn(yPred, caller), options, caller, (shards) => shards.sum<Record<string, number>>('metrics/pairs', {}));
}

async function regression(yTrue: DataFrame, yPred: DataFrame, options: FitOptions, caller: string, withSs = false): Promise<{ n: number; se: number; ae: number; ss?: number }> {
  return withShards(yTrue, oneColumn(yPred, caller), options, caller, async (shards) => {
    const { n, se, ae, sy } = await shards.sum<Record<string, number>>('metrics/regression', {});
    if (!withSs) return { n: n!, se: se!, ae: ae! };
    const { ss } = await shards.sum<Record<string, number>>('metrics/regression', { mean: sy! / n! });
    return { n: n!, se: se!, ae: ae!, ss: ss! };
  });
}

/** The pair on the workers as shards, checked first; released whatever happens. */
async function withShards<T>(yTrue: DataFrame, yPred: DataFrame, options: FitOptions, caller: string, fn: (shards: Shards) => Promise<T>, manyColumns = false): Promise<T> {
  if (yTrue.columns.length !== 1) throw new MlDataError(`${caller}: yTrue must have one column, it has ${yTrue.columns.length} (${yTrue.columns.join(', ')})`);
  if (!manyColumns) oneColumn(yPred, caller);
  if (yTrue.npartitions !== yPred.npartitions) throw new MlDataError(`${caller}: yTrue has ${yTrue.npartitions} partitions where yPred has ${yPred.npartitions}: give both from the same parent DataFrame`);
  const { shards } = await toShards(yPred, yTrue, { ...options, caller });
  try {
    if (shards.nRows === 0) throw new MlDataError(`${caller}: no rows`);
    if ((await shards.sum<number>('metrics/nan', {})) > 0) throw new MlDataError(`${caller}: yPred has nulls or NaN`);
    return await fn(shards);
  } finally {
    await shards.release();
  }
}

function oneColumn(yPred: DataFrame, caller: string): DataFrame {
  if (yPred.columns.length !== 1) throw new MlDataError(`${caller}: yPred must have one column, it has ${yPred.columns.length} (${yPred.columns.join(', ')})`);
  return yPred;
}

/** A score column: the only one, or the last of a binary predictProba's two. */
function lastColumn(yPred: DataFrame, caller: string): DataFrame {
  if (yPred.columns.length === 2) return yPred.select(yPred.columns[1]!);
  return oneColumn(yPred, caller);
}

/** The distinct labels of yTrue, sorted. */
async function trueLabels(shards: Shards): Promise<number[]> {
  return Object.keys(await shards.sum<Record<string, number>>('metrics/labels', {})).map(Number).sort((a, b) => a - b);
}
