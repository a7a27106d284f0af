// The incremental searches on a LocalCluster. A problem with a known optimum (y = X w + noise,
// whose best R2 is 0.9 by construction): Hyperband and BOHB come within 0.01 of it with fewer
// partialFit calls than random search over as many models with the same maxIter. The scores the
// searches compute on the validation shards equal the estimators' own on the same rows; the
// same search gives the same models every run, also when a worker is killed; patience stops
// models; a failing model scores errorScore; cancelling a search lets go of all its tasks.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pl from 'nodejs-polars';
import { ml, readParquet, type DataFrame } from '../../index.js';
import { useCluster, withCluster } from '../helpers/cluster.js';
import { waitUntil } from '../helpers/wait.js';
import { mulberry32 } from '../../ml/model-selection/params.js';

const W = [1, -2, 0.5, 0, 1.5];
/** The noise that makes the best R2 0.9: var(X w) = 7.5 = 0.9 (7.5 + sigma^2). */
const SIGMA = Math.sqrt(7.5 / 9);
const OPTIMUM = 0.9;
const MARGIN = 0.01;

/** n rows of standard normal features x0 .. x4, y = 0.5 + X w + noise, and `label` = y > 0.5. */
function problem(n: number, seed: number): pl.DataFrame {
  const next = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  const cols = W.map(() => new Float64Array(n));
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let t = 0.5;
    W.forEach((w, j) => { const x = normal(); cols[j]![i] = x; t += w * x; });
    y[i] = t + SIGMA * normal();
  }
  const label = Array.from(y, (v) => (v > 0.5 ? 1 : 0));
  return pl.DataFrame({ ...Object.fromEntries(cols.map((c, j) => [`x${j}`, c])), y, label: pl.Series('label', label, pl.Int32) });
}

const SPACE = { alpha: ml.logUniform(1e-6, 10), eta0: ml.logUniform(1e-6, 1), learningRate: ['constant', 'invscaling'] };
const features = (df: DataFrame) => df.drop('label');

describe('incremental searches on a cluster', () => {
  const fx = useCluster({ workers: 2, threads: 1 });
  const dir = mkdtempSync(join(tmpdir(), 'kubedask-hyperband-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'problem.parquet');
  problem(40_000, 1).writeParquet(file);
  const source = () => readParquet(file, { partitionRows: 5_000 });

  it(`Hyperband and BOHB reach the known optimum (R2 ${OPTIMUM}) within ${MARGIN} with fewer partialFit calls than random search`, { timeout: 180_000 }, async () => {
    const client = fx.client;
    const X = features(source()).persist({ client });
    const hyperband = await new ml.HyperbandSearchCV(new ml.SGDRegressor(), SPACE, { maxIter: 27 }).fit(X, 'y', { client });
    const bohb = await new ml.BOHBSearchCV(new ml.SGDRegressor(), SPACE, { maxIter: 27 }).fit(X, 'y', { client });
    const models = hyperband.metadata!.nModels;
    const random = await new ml.IncrementalSearchCV(new ml.SGDRegressor(), SPACE, { nInitialParameters: models, maxIter: 27 }).fit(X, 'y', { client });
    for (const [name, s] of [['Hyperband', hyperband], ['BOHB', bohb], ['random search', random]] as const) {
      assert.ok(Math.abs(s.bestScore! - OPTIMUM) <= MARGIN, `${name}: best R2 ${s.bestScore} within ${MARGIN} of ${OPTIMUM}`);
    }
    assert.equal(bohb.metadata!.nModels, models);
    assert.equal(random.metadata!.partialFitCalls, models * 27);
    // What the plan said is what ran (no patience: no model stops early).
    assert.deepEqual(hyperband.metadata, hyperband.plannedMetadata);
    for (const s of [hyperband, bohb]) assert.ok(s.metadata!.partialFitCalls < random.metadata!.partialFitCalls / 3, `${s.metadata!.partialFitCalls} calls vs random search's ${random.metadata!.partialFitCalls}`);
    assert.ok(bohb.modelBased! > 0, 'BOHB drew some candidates from its density model');
    // Each bracket's best went all the way; the rest were halved.
    const r = hyperband.cvResults!;
    assert.equal(r.height, models);
    assert.deepEqual(r.filter(pl.col('stopped').eq(pl.lit('maxIter'))).getColumn('bracket').toArray().sort(), [0, 0, 0, 0, 1, 1, 2, 3]);
    assert.equal(Math.max(...(r.getColumn('partial_fit_calls').toArray() as number[])), 27);
    assert.deepEqual(hyperband.bestParams, JSON.parse(r.filter(pl.col('rank_test_score').eq(1)).getColumn('params').get(0) as string));
    // Scored once a rung: brackets 3 (27 + 9 + 3 + 1 models), 2 (12 + 4 + 1), 1 (6 + 2) and 0 (4).
    assert.equal(hyperband.history!.length, 40 + 17 + 8 + 4);

    // The validation score is the estimator's own on the held-out rows (the search's split: testSize 0.15, seed 0).
    const [, valid] = ml.trainTestSplit(X, { testSize: 0.15, seed: 0 });
    const own = await hyperband.bestEstimator!.score(valid.drop('y'), valid.select('y'), { client });
    assert.ok(Math.abs(own - hyperband.bestScore!) < 1e-9, `${own} vs ${hyperband.bestScore}`);

    // The same search, the same models, to the bit.
    const again = await new ml.HyperbandSearchCV(new ml.SGDRegressor(), SPACE, { maxIter: 27 }).fit(X, 'y', { client });
    assert.deepEqual(again.cvResults!.getColumn('test_score').toArray(), r.getColumn('test_score').toArray());
    assert.deepEqual(again.bestEstimator!.coef, hyperband.bestEstimator!.coef);
  });

  it('a classifier: neg_log_loss on the validation shards equals logLoss of its probabilities; patience stops models early', { timeout: 120_000 }, async () => {
    const client = fx.client;
    const X = source().drop('y').persist({ client });
    const sgd = new ml.SGDClassifier({ loss: 'log_loss' });
    const s = await new ml.SuccessiveHalvingSearchCV(sgd, { alpha: ml.logUniform(1e-5, 1) }, { nInitialParameters: 9, maxIter: 40, scoring: 'neg_log_loss', patience: 4, tol: 0.01 }).fit(X, 'label', { client });
    const stopped = s.cvResults!.getColumn('stopped').toArray() as string[];
    assert.ok(stopped.includes('plateau'), `some model plateaued: ${stopped.join(', ')}`);
    assert.ok(s.metadata!.partialFitCalls < s.plannedMetadata.partialFitCalls, `${s.metadata!.partialFitCalls} calls, ${s.plannedMetadata.partialFitCalls} planned`);
    // Scored every 4 calls: each model's scorings are at most 4 calls apart.
    for (const id of new Set(s.history!.map((h) => h.modelId))) {
      const calls = s.history!.filter((h) => h.modelId === id).map((h) => h.partialFitCalls);
      calls.forEach((c, i) => assert.ok(c - (calls[i - 1] ?? 0) <= 4 && c > (calls[i - 1] ?? 0), `model ${id} scored at ${calls.join(', ')}`));
    }
    const [, valid] = ml.trainTestSplit(X, { testSize: 0.15, seed: 0 });
    const proba = s.bestEstimator!.predictProba(valid.drop('label'));
    const expected = -(await ml.metrics.logLoss(valid.select('label'), proba.select('proba_1'), { client }));
    assert.ok(Math.abs(expected - s.bestScore!) < 1e-9, `${s.bestScore} vs logLoss ${expected}`);
    const accuracy = await new ml.SuccessiveHalvingSearchCV(sgd, { alpha: [1e-4] }, { nInitialParameters: 1, maxIter: 3 }).fit(X, 'label', { client });
    const own = await accuracy.bestEstimator!.score(valid.drop('label'), valid.select('label'), { client });
    assert.ok(Math.abs(own - accuracy.bestScore!) < 1e-12, `accuracy ${accuracy.bestScore} vs score ${own}`);
  });

  it('a model whose partialFit fails scores errorScore and stops; errorScore raise stops the search', { timeout: 120_000 }, async () => {
    const client = fx.client;
    const X = features(source()).persist({ client });
    // eta0 1e300 without a penalty overflows the weights at once.
    const space = { eta0: [1e300, 1e-3], learningRate: ['constant'], penalty: ['none'] };
    const s = await new ml.IncrementalSearchCV(new ml.SGDRegressor(), space, { nInitialParameters: 2, maxIter: 3 }).fit(X, 'y', { client });
    const r = s.cvResults!.sort('param_eta0');
    assert.deepEqual(r.getColumn('stopped').toArray(), ['maxIter', 'error']);
    assert.match(r.getColumn('error').get(1) as string, /SGDRegressor: the weights overflowed/);
    assert.ok(Number.isNaN(r.getColumn('test_score').get(1) as number));
    assert.equal(s.bestParams!.eta0, 1e-3);
    await assert.rejects(new ml.IncrementalSearchCV(new ml.SGDRegressor(), space, { nInitialParameters: 2, maxIter: 3, errorScore: 'raise' }).fit(X, 'y', { client }), /the weights overflowed/);
    await assert.rejects(new ml.IncrementalSearchCV(new ml.SGDRegressor(), { eta0: [1e300], learningRate: ['constant'], penalty: ['none'] }, { nInitialParameters: 1, maxIter: 3 }).fit(X, 'y', { client }), /every model failed or scored NaN; the first error: SGDRegressor: the weights overflowed/);
    await assert.rejects(new ml.HyperbandSearchCV(new ml.SGDRegressor(), SPACE).fit(X, 'nope', { client }), /y names column "nope"/);
    // A numeric errorScore ranks a failed model, but with every model failed there is no result.
    await assert.rejects(new ml.IncrementalSearchCV(new ml.SGDRegressor(), { eta0: [1e300], learningRate: ['constant'], penalty: ['none'] }, { nInitialParameters: 1, maxIter: 3, errorScore: 0 }).fit(X, 'y', { client }), /every model failed/);
    // A parameter no candidate can take fails before any data is read.
    await assert.rejects(new ml.HyperbandSearchCV(new ml.SGDRegressor(), { ...SPACE, alpha: [-1] }).fit(X, 'y', { client }), /SGDRegressor: alpha must be/);
  });

  it('cancelling a search stops it and lets go of every task it made', { timeout: 120_000 }, async () => {
    const client = fx.client;
    const X = features(source()).persist({ client });
    await X.count({ client }); // every partition in memory before counting what the scheduler holds
    const state = fx.cluster.scheduler.core.state;
    const held = () => Object.entries(state.counts()).filter(([k]) => k !== 'workers' && k !== 'memoryBytes').reduce((n, [, v]) => n + v, 0);
    await waitUntil(() => { const c = state.counts(); return c.memory > 0 && c.processing + c.queued + c.waiting === 0; }, 'the data persisted');
    const before = held();
    const epochs = () => state.groupProgress().find((g) => g.group === 'ml-sgd-epoch')?.done ?? 0;
    const start = epochs();
    const abort = new AbortController();
    const running = new ml.HyperbandSearchCV(new ml.SGDRegressor(), SPACE, { maxIter: 243 }).fit(X, 'y', { client, signal: abort.signal });
    await waitUntil(() => epochs() - start > 50, 'the search to be training');
    abort.abort();
    await assert.rejects(running, { name: 'AbortError' });
    const done = epochs();
    await waitUntil(() => held() <= before, `the scheduler back to the ${before} tasks it held before the search`);
    assert.ok(done - start < 400, `stopped early: ${done - start} partialFit calls of ${new ml.HyperbandSearchCV(new ml.SGDRegressor(), SPACE, { maxIter: 243 }).plannedMetadata.partialFitCalls} planned`);
  });
});

describe('an incremental search with a worker killed', () => {
  it('a worker killed with SIGKILL during Hyperband: the same models', { timeout: 180_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubedask-hyperband-kill-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'problem.parquet');
    problem(120_000, 2).writeParquet(file);
    await withCluster({ workers: 3, threads: 1 }, async (cluster, client) => {
      const search = () => new ml.HyperbandSearchCV(new ml.SGDRegressor(), SPACE, { maxIter: 27, seed: 5 });
      const source = () => features(readParquet(file, { partitionRows: 10_000 }));
      const quiet = await search().fit(source(), 'y', { client });
      const epochs = async () => (await client.history()).progress.filter((g) => g.group === 'ml-sgd-epoch').reduce((n, g) => n + g.done, 0);
      const start = await epochs();
      const running = search().fit(source(), 'y', { client });
      let finished = false;
      void running.then(() => { finished = true; }, () => {});
      let victim = '';
      await waitUntil(async () => {
        const training = (await epochs()) - start > 60;
        victim = training ? (await client.clusterInfo()).workers.find((w) => w.inMemory > 0)?.name ?? '' : '';
        return victim !== '';
      }, 'the search to be training', 90_000);
      assert.equal(finished, false, 'the kill lands while the search runs');
      process.kill(cluster.workerPids[victim]!, 'SIGKILL');
      const interrupted = await running;
      for (const column of ['test_score', 'partial_fit_calls', 'rank_test_score', 'stopped']) {
        assert.deepEqual(interrupted.cvResults!.getColumn(column).toArray(), quiet.cvResults!.getColumn(column).toArray(), column);
      }
      assert.deepEqual(interrupted.bestParams, quiet.bestParams);
      assert.deepEqual(interrupted.bestEstimator!.coef, quiet.bestEstimator!.coef);
    });
  });
});
