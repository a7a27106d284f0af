// Incremental and ParallelPostFit: what they check and hand to the wrapped estimator. Their
// fit puts data on the workers (toShards), covered where the cluster part lands; predicting
// per partition on a cluster is in test/integration/ml-models-predict.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pl from 'nodejs-polars';
import { Incremental } from '../../ml/wrappers/incremental.js';
import { ParallelPostFit } from '../../ml/wrappers/parallel-post-fit.js';
import { KMeans } from '../../ml/cluster/kmeans.js';
import { LogisticRegression } from '../../ml/linear/logistic-regression.js';
import { SGDClassifier, SGDRegressor } from '../../ml/sgd/sgd.js';
import { LinearRegression } from '../../ml/linear/linear-regression.js';
import { PoissonRegression } from '../../ml/linear/poisson-regression.js';
import { MlDataError, MlParamError, MlError, NotFittedError } from '../../ml/errors.js';
import { fromPolars } from '../../dataframe/sources.js';
import { features, reference, shardsOf } from './ml-models-fixture.js';

test('Incremental takes only estimators that learn by partialFit; withParams keeps the template', () => {
  assert.throws(() => new Incremental(new LogisticRegression() as never), (e: Error) => e instanceof MlParamError && /partialFit/.test(e.message));
  assert.throws(() => new Incremental(new SGDClassifier(), { nEpochs: 0 }), /nEpochs must be an integer > 0/);
  const inc = new Incremental(new SGDClassifier({ alpha: 0.01 }), { nEpochs: 2 });
  const other = inc.withParams({ nEpochs: 3 });
  assert.equal(other.getParams().nEpochs, 3);
  assert.equal(other.estimator, inc.estimator);
  assert.throws(() => inc.predict(fromPolars(pl.DataFrame({ x0: [1] }))), NotFittedError);
});

test('ParallelPostFit scores with an estimator fitted elsewhere, on empty input too; a missing method is named', async () => {
  const classes = [0, 1];
  const model = await new LogisticRegression().fitShards(shardsOf(reference.binary, [], classes), { features: features(4), classes });
  const wrapped = new ParallelPostFit(model);
  assert.deepEqual(wrapped.classes, [0, 1]);
  const frame = fromPolars(pl.DataFrame({ x0: [0.5], x1: [1], x2: [-2], x3: [5] }), { partitions: 1 });
  assert.deepEqual(wrapped.predictProba(frame).columns, ['proba_0', 'proba_1']);
  assert.deepEqual(wrapped.onnxSteps(), model.onnxSteps());
  // A partition with no rows gives no rows, of the right columns.
  const empty = pl.DataFrame({ x0: pl.Series('x0', [], pl.Float64), x1: pl.Series('x1', [], pl.Float64), x2: pl.Series('x2', [], pl.Float64), x3: pl.Series('x3', [], pl.Float64) });
  const scored = empty.select(...model.probaExprs().map((e, k) => e.alias(`proba_${k}`)), model.predictExpr().alias('prediction'));
  assert.deepEqual([scored.height, scored.columns], [0, ['proba_0', 'proba_1', 'prediction']]);
  assert.throws(() => new ParallelPostFit(new KMeans()).predictProba(frame), (e: Error) => e instanceof MlError && /KMeans has no predictProba/.test(e.message));
  assert.throws(() => new ParallelPostFit({} as never), MlParamError);
  const refit = new ParallelPostFit(new LogisticRegression()).withParams({ C: 3 });
  assert.equal((refit.estimator.getParams() as { C: number }).C, 3);
});

test('bad input to fit is refused in the estimator\'s own name, before any task (no client needed)', async () => {
  const frame = fromPolars(pl.DataFrame({ x: [1, 2, 3, 4], s: ['a', 'b', 'c', 'd'], y: [0, 1, 0, 1] }), { partitions: 2 });
  const fits: Array<[string, () => Promise<unknown>]> = [
    ['LinearRegression', () => new LinearRegression().fit(frame, 'y')],
    ['LogisticRegression', () => new LogisticRegression().fit(frame, 'y')],
    ['PoissonRegression', () => new PoissonRegression().fit(frame, 'y')],
    ['KMeans', () => new KMeans({ nClusters: 2 }).fit(frame.drop('y'))],
    ['SGDClassifier', () => new SGDClassifier().partialFit(frame, 'y', { classes: [0, 1] })],
    ['SGDRegressor', () => new SGDRegressor().fit(frame, 'y')],
    ['Incremental', () => new Incremental(new SGDClassifier()).fit(frame, 'y')],
  ];
  for (const [name, fit] of fits) {
    await assert.rejects(fit(), (e: Error) => e instanceof MlDataError && e.message.startsWith(`${name}: feature column "s" (String) is not numeric`), name);
  }
});
