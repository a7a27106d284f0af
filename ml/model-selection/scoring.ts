// Scorers for the searches, by scikit-learn's names: bigger is better (losses negated). Each
// runs the fitted estimator's predictions and the metric on the cluster, over the test rows.
import type { DataFrame } from '../../dataframe/frame.js';
import type { Classifier, Estimator, FitOptions, Predictor } from '../core/estimator.js';
import { MlParamError } from '../errors.js';
import * as metrics from '../metrics/index.js';

/** A custom scorer: the fitted estimator, the test rows and their labels (a one-column frame); bigger is better. */
export type ScorerFunction = (estimator: Estimator, X: DataFrame, y: DataFrame, options: FitOptions) => Promise<number>;

export type ScoringName =
  | 'accuracy' | 'roc_auc' | 'neg_log_loss' | 'f1' | 'precision' | 'recall'
  | 'r2' | 'neg_mean_squared_error' | 'neg_mean_absolute_error';

export type Scoring = ScoringName | ScorerFunction;

const predict = (e: Estimator, X: DataFrame) => (e as Predictor).predict(X);
const proba = (e: Estimator, X: DataFrame) => (e as Classifier).predictProba(X);

const SCORERS: Record<ScoringName, ScorerFunction> = {
  accuracy: (e, X, y, o) => metrics.accuracyScore(y, predict(e, X), o),
  roc_auc: (e, X, y, o) => metrics.rocAucScore(y, proba(e, X), o),
  neg_log_loss: async (e, X, y, o) => -(await metrics.logLoss(y, proba(e, X), o)),
  f1: (e, X, y, o) => metrics.f1Score(y, predict(e, X), o),
  precision: (e, X, y, o) => metrics.precisionScore(y, predict(e, X), o),
  recall: (e, X, y, o) => metrics.recallScore(y, predict(e, X), o),
  r2: (e, X, y, o) => metrics.r2Score(y, predict(e, X), o),
  neg_mean_squared_error: async (e, X, y, o) => -(await metrics.meanSquaredError(y, predict(e, X), o)),
  neg_mean_absolute_error: async (e, X, y, o) => -(await metrics.meanAbsoluteError(y, predict(e, X), o)),
};

const NEEDS_PROBA = new Set<string>(['roc_auc', 'neg_log_loss']);

/**
 * The scorer for `scoring`: a name above, a function, or (undefined) the estimator's own score
 * (accuracy for classifiers, R2 for regressors, as scikit-learn).
 */
export function scorer(scoring: Scoring | undefined, estimator: Estimator, caller: string): ScorerFunction {
  if (scoring === undefined) {
    if (typeof (estimator as Partial<Predictor>).score !== 'function') throw new MlParamError(`${caller}: the estimator has no score(); give options.scoring`);
    return (e, X, y, o) => (e as Predictor).score(X, y, o);
  }
  if (typeof scoring === 'function') return scoring;
  const named = Object.hasOwn(SCORERS, scoring) ? SCORERS[scoring] : undefined;
  if (!named) throw new MlParamError(`${caller}: unknown scoring "${String(scoring)}"; use one of ${Object.keys(SCORERS).join(', ')} or a function`);
  const needs = NEEDS_PROBA.has(scoring) ? 'predictProba' : 'predict';
  if (typeof (estimator as unknown as Record<string, unknown>)[needs] !== 'function') throw new MlParamError(`${caller}: scoring "${scoring}" needs an estimator with ${needs}()`);
  return named;
}
