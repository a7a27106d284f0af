// HistGradientBoosting on a LocalCluster against scikit-learn 1.9 and LightGBM 4.7 with the same
// parameters (test/fixtures/ml/gbdt_reference.py: generated data with a known signal, train and
// test rows by a fixed rule): test scores within the tolerances; the same model to the
// bit on 1 worker and on 2, and after a worker is killed mid-fit; early stopping; the searches.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pl from 'nodejs-polars';
import { fromPolars, ml, readParquet, type Client, type DataFrame } from '../../index.js';
import { useCluster, withCluster } from '../helpers/cluster.js';
import { waitUntil } from '../helpers/wait.js';

const fixtures = new URL('../../../test/fixtures/ml/', import.meta.url);
interface Scores { roc_auc?: number; accuracy?: number; log_loss?: number; r2?: number; mse?: number }
const reference = JSON.parse(readFileSync(new URL('gbdt_reference.json', fixtures), 'utf8')) as {
  generated: { results: Record<'binary_categorical' | 'binary_numeric' | 'multiclass_numeric' | 'regression_numeric', Record<'sklearn' | 'lightgbm', Scores>> };
  flights: { rows_used: number; results: Record<'sklearn' | 'lightgbm', Scores> };
};
const FLIGHTS = new URL('../../../node_modules/vega-datasets/data/flights-3m.parquet', import.meta.url).pathname;
const data = pl.readParquet(new URL('gbdt_data.parquet', fixtures).pathname);
const FEATURES = ['x0', 'x1', 'x2', 'x3', 'x4', 'cat'];
/** The reference's parameters (scikit-learn's defaults, early stopping off); 30 iterations for multi-class and regression. */
const SAME = { maxIter: 100, learningRate: 0.1, maxLeafNodes: 31, minSamplesLeaf: 20, l2Regularization: 0, maxBins: 255, earlyStopping: false } as const;
const SHORT = { ...SAME, maxIter: 30 } as const;

/** Tasks of a group done on the client's cluster so far. */
async function done(client: Client, group: string): Promise<number> {
  return (await client.history()).progress.filter((g) => g.group === group).reduce((n, g) => n + g.done, 0);
}

/** The shards (and those derived from them) without Shards.collective: a fit grows its trees round by round. */
function roundByRound(shards: ml.Shards): ml.Shards {
  return Object.assign(Object.create(shards) as ml.Shards, { collective: undefined, derive: (...a: Parameters<ml.Shards['derive']>) => roundByRound(shards.derive(...a)) });
}

/** One partition where the shards' count does not matter: a round is then one task, and the fits take half as long. */
function rows(split: 0 | 1, target: string, partitions: number): DataFrame {
  return fromPolars(data.filter(pl.col('split').eq(split)).select(...FEATURES, target), { partitions });
}

describe('HistGradientBoosting on a cluster', () => {
  const fx = useCluster({ workers: 2, threads: 1 });

  const binary = async (categorical: boolean) => {
    const client = fx.client;
    const model = await new ml.HistGradientBoostingClassifier({ ...SAME, categoricalFeatures: categorical ? ['cat'] : [] }).fit(rows(0, 'yb', 1), 'yb', { client });
    const test = rows(1, 'yb', 1).persist({ client });
    const auc = await ml.metrics.rocAucScore(test.select('yb'), model.predictProba(test.drop('yb')), { client });
    return { model, test, auc };
  };

  for (const categorical of [false, true]) {
    it(`binary${categorical ? ', cat as categories' : ''}: test AUC within 0.003 of scikit-learn's and LightGBM's`, { timeout: 120_000 }, async () => {
      const ref = reference.generated.results[categorical ? 'binary_categorical' : 'binary_numeric'];
      const { model, test, auc } = await binary(categorical);
      assert.equal(model.nIter, 100);
      assert.equal(model.ensemble!.trees.length, 100);
      assert.ok(model.ensemble!.trees.every((t) => t.value.length <= 2 * 31 - 1), 'at most 31 leaves a tree');
      for (const lib of ['sklearn', 'lightgbm'] as const) assert.ok(Math.abs(auc - ref[lib].roc_auc!) <= 0.003, `AUC ${auc} vs ${lib} ${ref[lib].roc_auc}`);
      const accuracy = await model.score(test, 'yb', { client: fx.client });
      assert.ok(Math.abs(accuracy - ref.sklearn.accuracy!) <= 0.01, `accuracy ${accuracy} vs scikit-learn ${ref.sklearn.accuracy}`);
      if (categorical) assert.ok(model.ensemble!.trees.some((t) => t.leftCategories.some((c) => c !== null)), 'some splits are on categories');
      // Its ONNX export, scored by predictOnnx on the workers, gives the model's own probabilities.
      const own = (await model.predictProba(test).compute({ client: fx.client })).getColumn('proba_1').toArray() as number[];
      const onnx = (await ml.predictOnnx(test, ml.toOnnx(model), { outputs: ['proba'] }).compute({ client: fx.client })).getColumn('proba_1').toArray() as number[];
      assert.equal(onnx.length, own.length);
      const worst = Math.max(...own.map((p, i) => Math.abs(p - onnx[i]!)));
      assert.ok(worst < 1e-6, `ONNX and the model's probabilities differ by up to ${worst}`);
      // The signal is in x0..x3 and cat; every feature is used, x0 (1.5 sin x0) the most.
      const importances = model.featureImportances;
      assert.ok(Math.abs(importances.reduce((a, b) => a + b, 0) - 1) < 1e-12);
      assert.equal(importances.indexOf(Math.max(...importances)), 0, `importances ${importances.join(', ')}`);
    });
  }

  it('flights-3m (its first 500,000 rows): test AUC within 0.003 of scikit-learn\'s and LightGBM\'s', { timeout: 180_000 }, async () => {
    const client = fx.client;
    const ref = reference.flights;
    // The reference script's features and split: hour, ISO weekday, month, distance; test rows where the row index % 5 == 0.
    const flights = pl.readParquet(FLIGHTS).head(ref.rows_used).withRowCount('i').select(
      pl.col('i'), pl.col('date').date.hour().cast(pl.Float64).alias('hour'), pl.col('date').date.weekday().cast(pl.Float64).alias('weekday'),
      pl.col('date').date.month().cast(pl.Float64).alias('month'), pl.col('distance').cast(pl.Float64), pl.col('delay').gt(15).cast(pl.Int32).alias('late'),
    );
    const part = (test: boolean) => fromPolars(flights.filter(test ? pl.col('i').modulo(5).eq(0) : pl.col('i').modulo(5).neq(0)).drop('i'), { partitions: 2 });
    const model = await new ml.HistGradientBoostingClassifier(SAME).fit(part(false), 'late', { client });
    const test = part(true).persist({ client });
    const auc = await ml.metrics.rocAucScore(test.select('late'), model.predictProba(test.drop('late')), { client });
    for (const lib of ['sklearn', 'lightgbm'] as const) assert.ok(Math.abs(auc - ref.results[lib].roc_auc!) <= 0.003, `AUC ${auc} vs ${lib} ${ref.results[lib].roc_auc}`);
  });

  it('multi-class: log loss and accuracy near scikit-learn\'s', { timeout: 180_000 }, async () => {
    const client = fx.client;
    const ref = reference.generated.results.multiclass_numeric.sklearn;
    const model = await new ml.HistGradientBoostingClassifier(SHORT).fit(rows(0, 'ym', 1), 'ym', { client });
    assert.deepEqual(model.classes, [0, 1, 2]);
    assert.equal(model.ensemble!.trees.length, 90, 'a tree per class and iteration');
    const test = rows(1, 'ym', 1).persist({ client });
    const logLoss = await ml.metrics.logLoss(test.select('ym'), model.predictProba(test.drop('ym')), { client });
    const accuracy = await model.score(test, 'ym', { client });
    assert.ok(Math.abs(logLoss - ref.log_loss!) <= 0.01, `log loss ${logLoss} vs ${ref.log_loss}`);
    assert.ok(Math.abs(accuracy - ref.accuracy!) <= 0.015, `accuracy ${accuracy} vs ${ref.accuracy}`);
  });

  it('regression: R2 near scikit-learn\'s', { timeout: 120_000 }, async () => {
    const client = fx.client;
    const ref = reference.generated.results.regression_numeric.sklearn;
    const model = await new ml.HistGradientBoostingRegressor(SHORT).fit(rows(0, 'yr', 1), 'yr', { client });
    const r2 = await model.score(rows(1, 'yr', 1), 'yr', { client });
    assert.ok(Math.abs(r2 - ref.r2!) <= 0.01, `R2 ${r2} vs ${ref.r2}`);
  });

  it('early stopping: stops once the validation loss no longer improves by tol', { timeout: 120_000 }, async () => {
    const model = await new ml.HistGradientBoostingClassifier({ maxIter: 300, learningRate: 0.3, earlyStopping: true, nIterNoChange: 5 }).fit(rows(0, 'yb', 1), 'yb', { client: fx.client });
    const scores = model.validationScores!;
    assert.ok(model.nIter! < 300, `stopped early, after ${model.nIter}`);
    assert.equal(scores.length, model.nIter! + 1, 'a score before each iteration and after the last');
    const reference = scores.at(-6)! + 1e-7;
    assert.ok(scores.slice(-5).every((s) => s <= reference), 'none of the last 5 beat the one before them');
    assert.ok(scores.slice(0, -5).some((s, i) => i > 0 && s > scores[i - 1]!), 'it improved before');
  });

  it('the same model on 1 worker (3 threads) as on 2, to the bit, grown by the workers among themselves or round by round (12 shards\' histograms summed by a tree reduction)', { timeout: 120_000 }, async () => {
    const params = { ...SAME, maxIter: 22, categoricalFeatures: ['cat'] };
    const before = await done(fx.client, 'ml-gbdt-grow');
    const recycled = await done(fx.client, 'ml-recycle');
    const two = await new ml.HistGradientBoostingClassifier(params).fit(rows(0, 'yb', 12), 'yb', { client: fx.client });
    // Two blocks of iterations (20 and 2), a task on each worker for each.
    assert.equal((await done(fx.client, 'ml-gbdt-grow')) - before, 4, 'the workers grew the trees');
    // Its 12 states and 12 shards went back to their workers' pools; the next fit's are made in those buffers.
    assert.equal((await done(fx.client, 'ml-recycle')) - recycled, 24, 'the fit gave its buffers back');
    const again = await new ml.HistGradientBoostingClassifier(params).fit(rows(0, 'yb', 12), 'yb', { client: fx.client });
    assert.deepEqual(again.ensemble, two.ensemble);
    // Round by round, the client choosing the splits: 12 results a round, two sum tasks of up
    // to 8, whose two sums the client adds.
    const sums = await done(fx.client, 'ml-sum');
    const { shards, meta } = await ml.toShards(rows(0, 'yb', 12), 'yb', { client: fx.client, classify: true });
    try {
      const byRounds = await new ml.HistGradientBoostingClassifier(params).fitShards(roundByRound(shards), meta);
      assert.ok((await done(fx.client, 'ml-sum')) - sums >= 2 * 12, 'sum tasks ran');
      assert.deepEqual(byRounds.ensemble, two.ensemble);
    } finally {
      await shards.release({ reuse: true });
    }
    assert.equal((shards as unknown as { givenBack: number }).givenBack, 12, 'each shard\'s buffer went back to its worker\'s pool');
    // One worker of 3 threads: each block's task has 3 members (4 shards each), linked to one another in the one process.
    await withCluster({ workers: 1, threads: 3 }, async (_cluster, client) => {
      const one = await new ml.HistGradientBoostingClassifier(params).fit(rows(0, 'yb', 12), 'yb', { client });
      assert.equal(await done(client, 'ml-gbdt-grow'), 2, 'one task a block on the one worker');
      assert.equal(await done(client, 'ml-gbdt-round'), 0, 'no round run by the client');
      assert.deepEqual(one.ensemble, two.ensemble);
    });
  });

  it('a worker killed with SIGKILL mid-fit: the same model', { timeout: 180_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubedask-gbdt-kill-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    // From a file, so that lost partitions can be read again.
    data.filter(pl.col('split').eq(0)).select(...FEATURES, 'yb').writeParquet(join(dir, 'train.parquet'));
    const params = { ...SAME, maxIter: 60 };
    await withCluster({ workers: 3, threads: 1 }, async (cluster, client) => {
      const source = () => readParquet(join(dir, 'train.parquet'), { partitionRows: 4_000 });
      const quiet = await new ml.HistGradientBoostingClassifier(params).fit(source(), 'yb', { client });
      const grown = await done(client, 'ml-gbdt-grow');
      const recycled = await done(client, 'ml-recycle');
      assert.ok(recycled > 0, 'a fit that went well gives its buffers back');
      const running = new ml.HistGradientBoostingClassifier(params).fit(source(), 'yb', { client });
      // Killed once the first of two blocks (20 and 40 iterations) has come back (a task on each of the 3 workers):
      // the next block's tasks fail, the client replays its rounds on every shard (the lost
      // ones rebuilt) and goes on round by round.
      let victim = '';
      await waitUntil(async () => {
        const second = (await done(client, 'ml-gbdt-grow')) - grown >= 3;
        victim = second ? (await client.clusterInfo()).workers.find((w) => w.inMemory > 0)?.name ?? '' : '';
        return victim !== '';
      }, 'the fit to be in its second block', 90_000);
      const rounds = await done(client, 'ml-gbdt-round');
      process.kill(cluster.workerPids[victim]!, 'SIGKILL');
      const interrupted = await running;
      assert.ok((await done(client, 'ml-gbdt-round')) > rounds, 'the rest went round by round');
      assert.deepEqual(interrupted.ensemble, quiet.ensemble);
      // A lost task might still have been writing into a state or reading a shard: nothing given back.
      assert.equal(await done(client, 'ml-recycle'), recycled, 'the fit that lost a worker gave nothing back');
    });
  });

  it('in GridSearchCV (a parameter grid) and HyperbandSearchCV (maxIter the budget)', { timeout: 180_000 }, async () => {
    const client = fx.client;
    const train = rows(0, 'yb', 1).persist({ client });
    const grid = await new ml.GridSearchCV(new ml.HistGradientBoostingClassifier({ maxIter: 10, earlyStopping: false }), { maxLeafNodes: [3, 15] }, { cv: 2, scoring: 'roc_auc' }).fit(train, 'yb', { client });
    assert.deepEqual(grid.bestParams, { maxLeafNodes: 15 });
    assert.ok(grid.bestEstimator instanceof ml.HistGradientBoostingClassifier && grid.bestEstimator.nIter === 10);
    const hyperband = () => new ml.HyperbandSearchCV(new ml.HistGradientBoostingClassifier(), { learningRate: ml.logUniform(0.01, 0.5), maxLeafNodes: [7, 31] }, { maxIter: 9, scoring: 'neg_log_loss', seed: 1 });
    const state = fx.cluster.scheduler.core.state;
    const held = () => Object.entries(state.counts()).filter(([k]) => k !== 'workers' && k !== 'memoryBytes').reduce((n, [, v]) => n + v, 0);
    await train.count({ client });
    const before = held();
    const hb = await hyperband().fit(train, 'yb', { client });
    // Every model's boosting state on the workers let go (the dropped ones' as they dropped).
    await waitUntil(() => held() <= before, `the scheduler back to the ${before} tasks it held before the search`);
    const calls = hb.cvResults!.getColumn('partial_fit_calls').toArray() as number[];
    assert.ok(Math.max(...calls) === 9 && Math.min(...calls) < 9, `budgets ${calls.join(', ')}`);
    const best = hb.bestEstimator as ml.HistGradientBoostingClassifier;
    assert.equal(best.nIter, calls[hb.bestIndex!]);
    assert.ok(hb.bestScore! > -0.69, `the best model beats a constant's log loss: ${hb.bestScore}`);
  });
});
