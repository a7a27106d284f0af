// The main job's machine learning on the cleaned flights (flights.ts): will a flight be late?
// Features hour, weekday, month and distance; a scaler and a logistic regression fitted on the
// cluster, their C searched by a cross-validated grid, an SGD classifier's step sizes by
// Hyperband, the grid's best exported to ONNX and every flight scored with it, written as
// Parquet. Each step is a function of the frames it is given; the command prints and times them.
import pl from 'nodejs-polars';
import type { Client } from '../client.js';
import type { DataFrame } from '../../dataframe/frame.js';
import * as ml from '../../ml/index.js';

export const MODEL_FEATURES = ['hour', 'weekday', 'month', 'distance'];
export const LABEL = 'late';
/** The grid over C (inverse regularisation), as the search bench's. */
export const C_GRID = [0.001, 0.01, 0.1, 1, 10, 100];
export const FOLDS = 3;
export const HYPERBAND_MAX_ITER = 27;
export const HYPERBAND_SPACE = { alpha: ml.logUniform(1e-6, 1e-1), eta0: ml.logUniform(1e-4, 1), learningRate: ['optimal', 'invscaling', 'constant'] };

/** The model's table: the features as Float64 and the label, from cleaned flights. */
export function modelTable(clean: DataFrame): DataFrame {
  return clean.select(...MODEL_FEATURES.map((f) => pl.col(f).cast(pl.Float64)), pl.col(LABEL));
}

const pipeline = () => new ml.Pipeline([['scale', new ml.StandardScaler()], ['clf', new ml.LogisticRegression()]]);

export interface Evaluation { accuracy: number; auc: number }

/** Accuracy and ROC AUC of a fitted classifier on the held-out rows. */
export async function evaluate(model: ml.Classifier, test: DataFrame, client: Client): Promise<Evaluation> {
  const X = test.select(...MODEL_FEATURES);
  const y = test.select(LABEL);
  const [accuracy, auc] = await Promise.all([
    model.score(X, y, { client }),
    ml.metrics.rocAucScore(y, model.predictProba(X).select('proba_1'), { client }),
  ]);
  return { accuracy, auc };
}

/** StandardScaler + LogisticRegression fitted on the training rows. */
export async function fitBaseline(train: DataFrame, client: Client): Promise<ml.Pipeline> {
  return pipeline().fit(train, LABEL, { client });
}

/** The grid over C, FOLDS-fold cross-validated by ROC AUC, the best refitted on all training rows. */
export async function searchGrid(train: DataFrame, client: Client): Promise<ml.GridSearchCV<ml.Pipeline>> {
  return new ml.GridSearchCV(pipeline(), { clf__C: C_GRID }, { cv: FOLDS, scoring: 'roc_auc' }).fit(train, LABEL, { client });
}

/**
 * Hyperband over an SGD classifier's step sizes (log loss, on the features the fitted scaler
 * scaled: SGD needs them scaled), scored by log loss on 15 % of the training rows held out.
 */
export async function searchHyperband(train: DataFrame, scaler: ml.StandardScaler, client: Client): Promise<ml.HyperbandSearchCV<ml.SGDClassifier>> {
  const scaled = scaledTable(train, scaler).persist({ client });
  try {
    return await new ml.HyperbandSearchCV(new ml.SGDClassifier({ loss: 'log_loss' }), HYPERBAND_SPACE, { maxIter: HYPERBAND_MAX_ITER, scoring: 'neg_log_loss' })
      .fit(scaled, LABEL, { client });
  } finally {
    for (const b of scaled.bindings.values()) b.future?.release();
  }
}

/** The table with its features scaled by a fitted scaler (names kept), the label beside them. */
export function scaledTable(table: DataFrame, scaler: ml.StandardScaler): DataFrame {
  return table.select(...scaler.outputExprs(), pl.col(LABEL));
}

/** Every cleaned flight scored by the ONNX model on the workers: its columns and p_late. */
export function scoreFlights(clean: DataFrame, model: Uint8Array): DataFrame {
  const input = clean.withColumns(...MODEL_FEATURES.map((f) => pl.col(f).cast(pl.Float32)));
  return ml.predictOnnx(input, model, { inputs: MODEL_FEATURES, outputs: ['proba'] })
    .select('date', 'origin', 'distance', 'delay', LABEL, pl.col('proba_1').alias('p_late'));
}
