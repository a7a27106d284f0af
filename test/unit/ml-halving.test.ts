// The incremental searches' pure parts: successive halving's rungs, Hyperband's brackets, which
// models go on, the plateau rule, BOHB's density model; and options checked before anything runs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ml } from '../../index.js';
import { defaultInitialIter, halvingRungs, hyperbandBrackets, plannedCalls, plateaued, topK } from '../../ml/model-selection/halving.js';
import { BOHB_DEFAULTS, dimensions, fitDensities, proposeCandidate, type Observation } from '../../ml/model-selection/bohb.js';
import { mulberry32 } from '../../ml/model-selection/params.js';
import { limiter } from '../../ml/model-selection/incremental-search.js';
import { LocalShards } from '../../ml/core/shards.js';

test("Hyperband's brackets for maxIter 81 and eta 3 are Li et al.'s table", () => {
  assert.deepEqual(hyperbandBrackets(81, 3).map((b) => [b.bracket, b.models, b.calls]), [[4, 81, 1], [3, 34, 3], [2, 15, 9], [1, 8, 27], [0, 5, 81]]);
  // Bracket 4's rungs: 81 x 1, 27 x 3, 9 x 9, 3 x 27, 1 x 81.
  assert.deepEqual(halvingRungs(81, 1, 81, 3), [{ models: 81, calls: 1 }, { models: 27, calls: 3 }, { models: 9, calls: 9 }, { models: 3, calls: 27 }, { models: 1, calls: 81 }]);
  assert.equal(plannedCalls(halvingRungs(81, 1, 81, 3)), 81 + 27 * 2 + 9 * 6 + 3 * 18 + 54);
  // A budget that is not a power of eta: the last rung is capped at maxIter.
  assert.deepEqual(hyperbandBrackets(10, 3).map((b) => [b.bracket, b.models, b.calls]), [[2, 9, 1], [1, 5, 3], [0, 3, 10]]);
  assert.deepEqual(halvingRungs(9, 1, 10, 3).map((r) => r.calls), [1, 3, 9, 10]);
  assert.deepEqual(hyperbandBrackets(1, 3), [{ bracket: 0, models: 1, calls: 1 }]);
});

test('successive halving keeps at least one model, and by default reaches one model at maxIter', () => {
  assert.deepEqual(halvingRungs(4, 1, 27, 3).map((r) => r.models), [4, 1, 1, 1]);
  assert.equal(defaultInitialIter(10, 100, 3), 11); // 10 -> 3 -> 1 models at 11, 33, 99(100)
  assert.deepEqual(halvingRungs(10, 11, 100, 3), [{ models: 10, calls: 11 }, { models: 3, calls: 33 }, { models: 1, calls: 99 }, { models: 1, calls: 100 }]);
  assert.equal(defaultInitialIter(1, 5, 3), 5);
});

test('the best go on: ties to the lower id, NaN last', () => {
  const scored = [{ id: 0, score: 0.5 }, { id: 1, score: Number.NaN }, { id: 2, score: 0.9 }, { id: 3, score: 0.5 }];
  assert.deepEqual(topK(scored, 3).map((s) => s.id), [2, 0, 3]);
  assert.deepEqual(topK(scored, 10).map((s) => s.id), [2, 0, 3, 1]);
});

test('a model plateaus when its last patience calls gained no more than tol', () => {
  const h = (pairs: Array<[number, number]>) => pairs.map(([calls, score]) => ({ calls, score }));
  assert.equal(plateaued(h([[2, 0.5], [4, 0.6]]), 2, 0.01), false, 'improving');
  assert.equal(plateaued(h([[2, 0.5], [4, 0.505]]), 2, 0.01), true, 'gained less than tol');
  assert.equal(plateaued(h([[2, 0.5]]), 2, 0.01), false, 'nothing before the window');
  assert.equal(plateaued(h([[2, 0.7], [4, 0.5], [6, 0.69]]), 4, 0.001), true, 'below its best before the window');
  assert.equal(plateaued(h([[2, 0.5], [4, Number.NaN]]), 2, 0), true, 'NaN is no gain');
});

test("BOHB: random until a budget has enough results, then candidates near the good ones", () => {
  const space = { a: ml.uniform(0, 1), b: ml.logUniform(1e-4, 1), kind: ['x', 'y', 'z'] };
  const next = mulberry32(7);
  const options = { ...BOHB_DEFAULTS, randomFraction: 0 };
  assert.equal(proposeCandidate(space, [], options, next).fromModel, false);
  // The score peaks at a = 0.8, b = 0.01, kind y; 40 results at budget 3 and a few at 9.
  const score = (p: Record<string, unknown>) => -(((p.a as number) - 0.8) ** 2) - (Math.log10(p.b as number) + 2) ** 2 / 4 - (p.kind === 'y' ? 0 : 0.5);
  const rnd = mulberry32(1);
  const observations: Observation[] = Array.from({ length: 40 }, () => {
    const params = { a: rnd(), b: 10 ** (-4 + 4 * rnd()), kind: ['x', 'y', 'z'][Math.floor(rnd() * 3)] };
    return { params, budget: 3, score: score(params) };
  });
  observations.push(...observations.slice(0, 3).map((o) => ({ ...o, budget: 9 })));
  // Budget 9 has too few results (3 < 4 parameters + 1 + ...): the model is budget 3's.
  assert.equal(fitDensities(dimensions(space), observations, options)?.budget, 3);
  const proposals = Array.from({ length: 30 }, () => proposeCandidate(space, observations, options, next));
  assert.ok(proposals.every((p) => p.fromModel));
  const mean = (xs: number[]) => xs.reduce((x, y) => x + y, 0) / xs.length;
  const random = observations.slice(0, 40).map((o) => score(o.params));
  assert.ok(mean(proposals.map((p) => score(p.params))) > mean(random) + 0.2, 'proposals score better than random draws');
  for (const { params } of proposals) {
    assert.ok((params.a as number) >= 0 && (params.a as number) < 1 && (params.b as number) >= 1e-4 && (params.b as number) < 1);
    assert.ok(['x', 'y', 'z'].includes(params.kind as string));
  }
  // The same seed, the same proposals.
  const again = (seed: number) => Array.from({ length: 5 }, ((n) => () => proposeCandidate(space, observations, options, n))(mulberry32(seed)));
  assert.deepEqual(again(3), again(3));
});

test('incremental searches check their options before any data is read', () => {
  const sgd = new ml.SGDClassifier({ loss: 'log_loss' });
  const space = { alpha: ml.logUniform(1e-5, 1) };
  assert.throws(() => new ml.HyperbandSearchCV(new ml.LogisticRegression() as never, space), /HyperbandSearchCV: the estimator must learn with partialFit/);
  assert.throws(() => new ml.HyperbandSearchCV(sgd, space, { aggressiveness: 1 }), /aggressiveness must be a number > 1/);
  assert.throws(() => new ml.HyperbandSearchCV(sgd, space, { maxIter: 0 }), /maxIter must be an integer >= 1/);
  assert.throws(() => new ml.HyperbandSearchCV(sgd, space, { scoring: 'r2' }), /scoring "r2" is for regressors/);
  assert.throws(() => new ml.HyperbandSearchCV(sgd, space, { scoring: 'roc_auc' as never }), /scoring must be one of accuracy, neg_log_loss/);
  assert.throws(() => new ml.HyperbandSearchCV(sgd, {}), /paramDistributions is empty/);
  assert.throws(() => new ml.SuccessiveHalvingSearchCV(sgd, space, { nInitialIter: 10, maxIter: 5 }), /nInitialIter \(10\) must be at most maxIter \(5\)/);
  assert.throws(() => new ml.IncrementalSearchCV(sgd, space, { patience: 0 }), /patience must be an integer >= 1/);
  assert.throws(() => new ml.IncrementalSearchCV(sgd, space, { testSize: 1 }), /testSize must be a share between 0 and 1/);
  assert.throws(() => new ml.BOHBSearchCV(sgd, space, { topNPercent: 100 }), /topNPercent must be between 0 and 100/);
  assert.throws(() => new ml.BOHBSearchCV(sgd, space, { randomFraction: 2 }), /randomFraction must be between 0 and 1/);
  assert.throws(() => new ml.HyperbandSearchCV(sgd, space, { aggressiveness: 1 + 1e-9 }), /aggressiveness 1\.000000001 is too close to 1 for maxIter 81/);
  assert.throws(() => new ml.HyperbandSearchCV(new ml.SGDClassifier(), space, { scoring: 'neg_log_loss' }), /scoring "neg_log_loss" needs probabilities, so every candidate's loss must be 'log_loss' \(got hinge\)/);
  assert.throws(() => new ml.HyperbandSearchCV(new ml.SGDClassifier(), { ...space, loss: ['log_loss', 'hinge'] }, { scoring: 'neg_log_loss' }), /got log_loss, hinge/);
  assert.doesNotThrow(() => new ml.HyperbandSearchCV(new ml.SGDClassifier(), { ...space, loss: ['log_loss'] }, { scoring: 'neg_log_loss' }));
  const hb = new ml.HyperbandSearchCV(sgd, space, { maxIter: 27 });
  assert.deepEqual(hb.plannedMetadata.brackets.map((b) => [b.bracket, b.nModels, b.partialFitCalls]), [[3, 27, 81], [2, 12, 78], [1, 6, 90], [0, 4, 108]]);
  assert.equal(hb.plannedMetadata.partialFitCalls, 357);
});

test('a regressor\'s R2 on shards stays exact for a target with a large mean (merged by Chan\'s formula)', async () => {
  const rows = 1000;
  const shard = (offset: number) => {
    const x = new Float64Array(rows);
    const y = new Float64Array(rows);
    for (let i = 0; i < rows; i++) {
      x[i] = ((i * 37) % 101) / 50 - 1;
      y[i] = 1e8 + 2 * x[i]! + (((i * 53) % 17) - 8) / 16 + offset;
    }
    return { x: { rows, cols: 1, data: x }, y };
  };
  const shards = new LocalShards([shard(0), shard(0.5), shard(-0.25)]);
  const meta = { features: ['x'] };
  const model = new ml.SGDRegressor({ learningRate: 'constant', eta0: 1e-3, penalty: 'none' });
  await model.partialFitShard(shards, 0, meta);
  const r2 = await model.scoreShards(shards, meta, 'r2');
  // The same R2 computed in two passes (scikit-learn centres y first).
  const all = [shard(0), shard(0.5), shard(-0.25)];
  const ys = all.flatMap((s) => Array.from(s.y));
  const predicted = all.flatMap((s) => Array.from(s.x.data, (v) => model.intercept! + model.coef![0]! * v));
  const mean = ys.reduce((a, b) => a + b, 0) / ys.length;
  const sse = ys.reduce((a, y, i) => a + (y - predicted[i]!) ** 2, 0);
  const sst = ys.reduce((a, y) => a + (y - mean) ** 2, 0);
  const expected = 1 - sse / sst;
  assert.ok(Math.abs(r2 - expected) <= 1e-9 * Math.max(1, Math.abs(expected)), `${r2} vs ${expected}`);
});

test('the searches\' call limiter: at most n at once; waiters by priority, then in arrival order', async () => {
  const slot = limiter(1);
  const order: string[] = [];
  let release!: () => void;
  const first = slot(() => new Promise<void>((resolve) => { release = resolve; }), 0);
  const queued = ([['a', 0], ['b', 5], ['c', 2], ['d', 5]] as const).map(([name, p]) => slot(async () => { order.push(name); }, p));
  release();
  await Promise.all([first, ...queued]);
  assert.deepEqual(order, ['b', 'd', 'c', 'a']);
});
