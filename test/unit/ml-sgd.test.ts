// SGDClassifier / SGDRegressor: one ordered pass over the shards equals scikit-learn 1.9's
// partial_fit on the same rows in the same order (shuffle=False; test/fixtures/ml/
// linear_reference.py), the state (weights, t) carried from partition to partition, an empty
// partition included. SGD is deterministic here, so the tolerance is tighter than the issue's
// 1e-4: 1e-6 relative (values under 1e-2: 1e-8 absolute). What remains is rounding: scikit-learn
// keeps the weights as a vector times a running scale, we scale the vector at each step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pl from 'nodejs-polars';
import { SGDClassifier, SGDRegressor } from '../../ml/sgd/sgd.js';
import { sgdEpoch } from '../../ml/kernels/sgd.js';
import { MlParamError, MlDataError } from '../../ml/errors.js';
import { LocalShards } from '../../ml/core/shards.js';
import { closeTo, features, reference, shard, shardsOf } from './ml-models-fixture.js';

const REL = 1e-6;
const FLOOR = 1e-2;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function camel(params: any): Record<string, unknown> {
  const out: Record<string, unknown> = { loss: params.loss ?? 'squared_error', alpha: params.alpha };
  if (params.learning_rate) out.learningRate = params.learning_rate;
  if (params.eta0 !== undefined) out.eta0 = params.eta0;
  if (params.penalty === null) out.penalty = 'none';
  return out;
}

test('SGDClassifier (log_loss, hinge; optimal, invscaling, constant): a pass over 3 partitions equals scikit-learn\'s partial_fit', async () => {
  const cuts = reference.sgd_chunks.map((c: number[]) => c[1]).slice(0, -1); // [90, 90]: the middle partition empty
  for (const sk of reference.sgd_classifier_fits) {
    const model = new SGDClassifier(camel(sk.params));
    await model.partialFitShards(shardsOf(reference.standardized, cuts, [0, 1]), { features: features(4), classes: [0, 1] });
    const what = JSON.stringify(sk.params);
    closeTo(model.coef!.flat(), sk.coef.flat(), REL, FLOOR, `${what} coef`);
    closeTo(model.intercept!, sk.intercept, REL, FLOOR, `${what} intercept`);
    assert.equal(model.t, sk.t, `${what} t`);
  }
});

test('SGDClassifier on 3 classes: one-vs-rest, classes given up front, equals scikit-learn', async () => {
  const sk = reference.sgd_multi_fit;
  const data = { X: reference.multi.X.slice(0, 240), y: reference.multi.y.slice(0, 240) };
  const model = new SGDClassifier(camel(sk.params));
  // The first partition's batch lacks class 5: classes are given, as scikit-learn's partial_fit wants.
  const batchClasses = [1, 3, 5];
  await model.partialFitShards(shardsOf(data, [90], batchClasses), { features: features(4), classes: batchClasses }, [5, 3, 1]);
  assert.deepEqual(model.classes, [1, 3, 5]);
  closeTo(model.coef!.flat(), sk.coef.flat(), REL, FLOOR, 'coef');
  closeTo(model.intercept!, sk.intercept, REL, FLOOR, 'intercept');
  const probs = pl.DataFrame({ x0: [0.5], x1: [-1], x2: [2], x3: [0] }).select(...model.probaExprs().map((e, k) => e.alias(`proba_${k}`)));
  assert.ok(Math.abs(probs.row(0).reduce((a: number, b: number) => a + b, 0) - 1) < 1e-12, 'one-vs-rest probabilities sum to 1');
});

test('SGDRegressor: two partialFit calls over partitions in order equal scikit-learn\'s', async () => {
  const [first, second] = reference.sgd_regressor_chunks as number[][];
  for (const sk of reference.sgd_regressor_fits) {
    const model = new SGDRegressor(camel(sk.params));
    const data = reference.regression_standardized;
    // Two partialFit calls, each over one partition (a one-shard pass needs no mapShard).
    await model.partialFitShards(new LocalShards([shard(data, first![0]!, first![1]!)]), { features: features(3) });
    await model.partialFitShards(new LocalShards([shard(data, second![0]!, second![1]!)]), { features: features(3) });
    closeTo(model.coef!, sk.coef, REL, FLOOR, `${JSON.stringify(sk.params)} coef`);
    closeTo([model.intercept!], sk.intercept, REL, FLOOR, `${JSON.stringify(sk.params)} intercept`);
    assert.equal(model.t, sk.t);
    assert.equal(model.nIter, 2);
    assert.deepEqual(model.onnxSteps(), [{ kind: 'linear-regressor', coef: model.coef, intercept: model.intercept, link: 'identity' }]);
  }
});

test('the kernel returns new weights and leaves its input alone; an empty partition changes nothing', () => {
  const params = { loss: 'log_loss' as const, penalty: 'l2' as const, alpha: 1e-3, learningRate: 'optimal' as const, eta0: 0.01, powerT: 0.5, fitIntercept: true, coef: [[0, 0]], intercept: [0], positive: [1], t: 1 };
  const empty = sgdEpoch(params, { x: { rows: 0, cols: 2, data: new Float64Array(0) }, y: new Float64Array(0) });
  assert.deepEqual(empty, { coef: [[0, 0]], intercept: [0], t: 1 });
  const moved = sgdEpoch(params, { x: { rows: 1, cols: 2, data: Float64Array.of(1, 2) }, y: Float64Array.of(1) });
  assert.equal(moved.t, 2);
  assert.ok(moved.coef[0]![0]! > 0 && moved.intercept[0]! > 0);
  assert.deepEqual(params.coef, [[0, 0]]);
});

test('clear errors: unknown class, one class, no probabilities for hinge, ONNX of one-vs-rest', async () => {
  const model = new SGDClassifier({ loss: 'log_loss' });
  await model.partialFitShards(shardsOf(reference.standardized, [90], [0, 1]), { features: features(4), classes: [0, 1] });
  await assert.rejects(model.partialFitShards(shardsOf({ X: [[1, 2, 3, 4]], y: [7] }, [], [7]), { features: features(4), classes: [7] }), /class 7, unknown to the model \(classes 0, 1\)/);
  await assert.rejects(model.partialFitShards(shardsOf({ X: [[1, 2, 3, 4]], y: [0] }, [], [0]), { features: ['a', 'b', 'c', 'd'], classes: [0] }), /fitted on x0, x1, x2, x3/);
  await assert.rejects(new SGDClassifier().partialFitShards(shardsOf({ X: [[1]], y: [0] }, [], [0]), { features: ['a'], classes: [0] }), MlDataError);
  const hinge = new SGDClassifier({ loss: 'hinge' });
  await hinge.partialFitShards(shardsOf(reference.standardized, [], [0, 1]), { features: features(4), classes: [0, 1] });
  assert.throws(() => hinge.probaExprs(), /needs loss 'log_loss'/);
  assert.throws(() => hinge.onnxSteps(), /only a binary model with loss 'log_loss'/);
  assert.throws(() => new SGDRegressor({ learningRate: 'constant', eta0: 0 }), MlParamError);
  assert.throws(() => new SGDClassifier({ loss: 'squared_error' as never }), /loss must be one of 'log_loss', 'hinge'/);
});
