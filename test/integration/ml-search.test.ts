// GridSearchCV and RandomizedSearchCV on a LocalCluster, against scikit-learn 1.9's GridSearchCV
// on the same folds (test/fixtures/ml/search_reference.py, PredefinedSplit on a fold column):
// the same best parameters, every mean and fold score within 0.001, the same ranks.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pl from 'nodejs-polars';
import { fromPolars, ml, readParquet } from '../../index.js';
import { useCluster, withCluster } from '../helpers/cluster.js';
import { waitUntil } from '../helpers/wait.js';
import { fits, Stub } from '../helpers/ml-search-stub.js';

interface Search { mean_test_score: number[]; std_test_score: number[]; rank_test_score: number[]; splits: number[][]; best_params: Record<string, number>; best_score: number }
const reference = JSON.parse(readFileSync(new URL('../../../test/fixtures/ml/search_reference.json', import.meta.url), 'utf8')) as {
  X: number[][]; y: number[]; fold: number[]; grid: { clf__C: number[] }; searches: Record<'roc_auc' | 'accuracy' | 'neg_log_loss', Search>;
};

const TOL = 1e-3;
const k = reference.X[0]!.length;
const names = Array.from({ length: k }, (_, j) => `x${j}`);

function frame(): pl.DataFrame {
  const cols: Record<string, unknown> = {};
  names.forEach((name, j) => { cols[name] = reference.X.map((row) => row[j]!); });
  return pl.DataFrame({ ...cols, y: reference.y, fold: pl.Series('fold', reference.fold, pl.Int32) });
}

const pipeline = () => new ml.Pipeline([['scale', new ml.StandardScaler()], ['clf', new ml.LogisticRegression({ tol: 1e-10, maxIter: 1000 })]]);

function closeAll(actual: number[], expected: number[], what: string): void {
  actual.forEach((a, i) => assert.ok(Math.abs(a - expected[i]!) <= TOL, `${what}[${i}]: ${a} vs scikit-learn ${expected[i]}`));
}

describe('searches on a cluster', () => {
  const fx = useCluster({ workers: 2, threads: 1 });

  for (const scoring of ['roc_auc', 'accuracy', 'neg_log_loss'] as const) {
    it(`GridSearchCV (${scoring}) picks scikit-learn's best C on the same folds, scores within ${TOL}`, { timeout: 120_000 }, async () => {
      const client = fx.client;
      const sk = reference.searches[scoring];
      const df = fromPolars(frame(), { partitions: 3 }).persist({ client });
      const shardTasks = () => fx.cluster.scheduler.core.state.groupProgress().find((g) => g.group === 'ml-shard')?.total ?? 0;
      const before = shardTasks();
      const search = await new ml.GridSearchCV(pipeline(), reference.grid, { cv: { testFold: 'fold' }, scoring }).fit(df, 'y', { client });
      // The six candidates differ only in the classifier: each fold's training shards are built
      // once (3 folds x 3 partitions), not once per candidate (54), and so are its test shards,
      // which every candidate is scored on (3 x 3, not 6 x 3 x 3); the refit once more (3).
      assert.equal(shardTasks() - before, 3 * 3 + 3 * 3 + 3);
      const r = search.cvResults!;
      assert.deepEqual(r.getColumn('param_clf__C').toArray(), reference.grid.clf__C);
      closeAll(r.getColumn('mean_test_score').toArray() as number[], sk.mean_test_score, 'mean_test_score');
      closeAll(r.getColumn('std_test_score').toArray() as number[], sk.std_test_score, 'std_test_score');
      for (let f = 0; f < 3; f++) closeAll(r.getColumn(`split${f}_test_score`).toArray() as number[], sk.splits[f]!, `split${f}`);
      assert.deepEqual(r.getColumn('rank_test_score').toArray(), sk.rank_test_score);
      assert.deepEqual(search.bestParams, sk.best_params);
      assert.ok(Math.abs(search.bestScore! - sk.best_score) <= TOL);
      assert.deepEqual(r.getColumn('error').toArray(), reference.grid.clf__C.map(() => null));
      // Refitted on every row (the fold column left out), and used by predict and score.
      const best = search.bestEstimator!;
      assert.equal((best.namedSteps.clf as ml.LogisticRegression).getParams().C, sk.best_params.clf__C);
      assert.deepEqual((best.namedSteps.clf as ml.LogisticRegression).featureNames, names);
      const scored = await search.score(df.drop('fold'), 'y', { client });
      assert.ok(Number.isFinite(scored));
      const predicted = await search.predict(df.drop('fold', 'y')).compute({ client });
      assert.equal(predicted.height, reference.y.length);
    });
  }

  it('warm starts along the grid reach the same scores with fewer solver rounds', { timeout: 120_000 }, async () => {
    const client = fx.client;
    const df = fromPolars(frame(), { partitions: 3 }).persist({ client });
    const glmTasks = () => fx.cluster.scheduler.core.state.groupProgress().find((g) => g.group === 'ml-linear-glm')?.total ?? 0;
    const run = async (warmStart: boolean) => {
      const before = glmTasks();
      // The default tol (1e-4), as a search would run: a warm start saves most where rounds stop early.
      const defaults = new ml.Pipeline([['scale', new ml.StandardScaler()], ['clf', new ml.LogisticRegression()]]);
      const s = await new ml.GridSearchCV(defaults, reference.grid, { cv: { testFold: 'fold' }, scoring: 'neg_log_loss', refit: false, warmStart }).fit(df, 'y', { client });
      return { rounds: glmTasks() - before, means: s.cvResults!.getColumn('mean_test_score').toArray() as number[], fitTimes: s.cvResults!.getColumn('mean_fit_time').toArray() as number[] };
    };
    const cold = await run(false);
    const warm = await run(true);
    warm.means.forEach((m, i) => assert.ok(Math.abs(m - cold.means[i]!) < 1e-4, `candidate ${i}: ${m} warm, ${cold.means[i]} cold`));
    assert.ok(warm.rounds < cold.rounds, `solver rounds: ${warm.rounds} warm, ${cold.rounds} cold (deterministic: the same data, the same rounds)`);
    assert.ok(warm.fitTimes.every((t) => t > 0));
  });

  it('RandomizedSearchCV: the same candidates for a seed, drawn from lists and distributions; KFold folds; a failing candidate scores NaN with its error', { timeout: 120_000 }, async () => {
    const client = fx.client;
    const df = fromPolars(frame().drop('fold'), { partitions: 3 }).persist({ client });
    const space = { clf__C: ml.logUniform(1e-3, 10), clf__penalty: ['l2', 'none'] };
    const a = await new ml.RandomizedSearchCV(pipeline(), space, { nIter: 4, seed: 7, cv: 3, concurrency: 2 }).fit(df, 'y', { client });
    const b = new ml.RandomizedSearchCV(pipeline(), space, { nIter: 4, seed: 7 });
    assert.deepEqual(a.candidates, (b as unknown as { candidateParams(): unknown[] }).candidateParams());
    for (const c of a.candidates!) {
      assert.ok((c.clf__C as number) >= 1e-3 && (c.clf__C as number) < 10);
      assert.ok(['l2', 'none'].includes(c.clf__penalty as string));
    }
    const means = a.cvResults!.getColumn('mean_test_score').toArray() as number[];
    assert.equal(a.bestScore, Math.max(...means));
    assert.ok(a.bestScore! > 0.6, `accuracy ${a.bestScore}`);

    // Refused before any fit: an unknown scorer, a candidate the estimator refuses.
    assert.throws(() => new ml.GridSearchCV(pipeline(), { clf__C: [1] }, { scoring: 'nope' as never }), /unknown scoring "nope"/);
    await assert.rejects(new ml.GridSearchCV(pipeline(), { clf__maxIter: [0] }).fit(df, 'y', { client }), /maxIter/);
    // Fits that throw on the cluster score NaN (errorScore's default) with their message; when
    // every one does, the search fails saying so, and with errorScore 'raise' the first error stops it.
    const nulls = df.withColumns(pl.lit(null).cast(pl.Float64).alias('x0'));
    const all = await new ml.GridSearchCV(pipeline(), { clf__C: [1, 10] }, { cv: 2 }).fit(nulls, 'y', { client }).then(() => undefined, (err: Error) => err);
    assert.ok(all instanceof Error);
    assert.match(all.message, /every fit failed or scored NaN; the first error: LogisticRegression: the features hold NaN/);
    await assert.rejects(new ml.GridSearchCV(pipeline(), { clf__C: [1] }, { cv: 2, errorScore: 'raise' }).fit(nulls, 'y', { client }), /features hold NaN/);
  });

  it('fits run at most `concurrency` at once; a failing one scores NaN with its message; the best is refitted', { timeout: 60_000 }, async () => {
    const client = fx.client;
    const df = fromPolars(pl.DataFrame({ a: [1, 2, 3, 4, 5, 6], y: [0, 1, 0, 1, 0, 1] }));
    fits.mostRunning = 0;
    const grid = { quality: [0.25, 0.875, 0.5], fail: [false] };
    const search = await new ml.GridSearchCV(new Stub() as never, [grid, { quality: [0.99], fail: [true] }, { quality: [0.98], scoreFails: [true] }], { cv: 3, concurrency: 2 }).fit(df, 'y', { client });
    assert.equal(fits.mostRunning, 2);
    const r = search.cvResults!;
    assert.deepEqual(r.columns.slice(0, 4), ['param_fail', 'param_quality', 'param_scoreFails', 'params']);
    assert.deepEqual(r.getColumn('mean_test_score').toArray().map((x) => (Number.isNaN(x) ? 'NaN' : x)), [0.25, 0.875, 0.5, 'NaN', 'NaN']);
    assert.deepEqual(r.getColumn('rank_test_score').toArray(), [3, 1, 2, 4, 4]);
    assert.deepEqual(r.getColumn('error').toArray(), [null, null, null, 'stub told to fail (quality 0.99)', 'stub scorer told to fail']);
    assert.deepEqual(search.bestParams, { fail: false, quality: 0.875 });
    assert.equal(search.bestScore, 0.875);
    assert.ok((search.bestEstimator as unknown as Stub).fitted);
    assert.deepEqual((search.bestEstimator as unknown as Stub).params, { quality: 0.875, fail: false });

    const noRefit = await new ml.GridSearchCV(new Stub() as never, grid, { cv: 2, refit: false }).fit(df, 'y', { client });
    assert.equal(noRefit.bestEstimator, undefined);
    assert.throws(() => noRefit.predict(df), /not fitted; call fit\(\) before predict/);
    await assert.rejects(new ml.GridSearchCV(new Stub() as never, { fail: [true] }, { cv: 2, errorScore: 'raise' }).fit(df, 'y', { client }), /stub told to fail/);
    await assert.rejects(new ml.GridSearchCV(new Stub() as never, { scoreFails: [true] }, { cv: 2, errorScore: 'raise' }).fit(df, 'y', { client }), /stub scorer told to fail/);
  });

  it('cancelling a GridSearchCV rejects with the signal\'s reason and lets go of every task it made', { timeout: 120_000 }, async () => {
    const client = fx.client;
    const df = fromPolars(pl.concat(Array.from({ length: 20 }, () => frame())).drop('fold'), { partitions: 4 }).persist({ client });
    await df.count({ client }); // every partition in memory before counting what the scheduler holds
    const state = fx.cluster.scheduler.core.state;
    const held = () => Object.entries(state.counts()).filter(([key]) => key !== 'workers' && key !== 'memoryBytes').reduce((n, [, v]) => n + v, 0);
    await waitUntil(() => { const c = state.counts(); return c.memory > 0 && c.processing + c.queued + c.waiting === 0; }, 'the data persisted');
    const before = held();
    const glm = () => state.groupProgress().find((g) => g.group === 'ml-linear-glm')?.done ?? 0;
    const start = glm();
    const abort = new AbortController();
    const grid = { clf__C: [0.001, 0.01, 0.1, 1, 10, 100] };
    const running = new ml.GridSearchCV(pipeline(), grid, { cv: 3, warmStart: false }).fit(df, 'y', { client, signal: abort.signal });
    await waitUntil(() => glm() - start > 20, 'the search to be fitting');
    abort.abort(new Error('the user cancelled'));
    await assert.rejects(running, /the user cancelled/);
    await waitUntil(() => held() <= before, `the scheduler back to the ${before} tasks it held before the search`);
    // An aborted signal stops a plain fit before it starts.
    await assert.rejects(pipeline().fit(df, 'y', { client, signal: AbortSignal.abort() }), { name: 'AbortError' });
  });

  it('elastic: the fits\' backlog is work the autoscaler counts (without it, their rounds stay pinned to their shards)', { timeout: 120_000 }, async () => {
    const client = fx.client;
    const df = fromPolars(pl.concat(Array.from({ length: 10 }, () => frame())).drop('fold'), { partitions: 4 }).persist({ client });
    await df.count({ client });
    const state = fx.cluster.scheduler.core.state;
    // Whether the only work in the scheduler now is fit rounds (no fold filtering, no shard building).
    const onlyFitting = () => {
      const active = state.groupProgress().filter((g) => g.queued + g.processing + g.waiting > 0).map((g) => g.group);
      return active.length > 0 && active.every((g) => g === 'ml-linear-glm');
    };
    // The most workers the scheduler recommends while only fit rounds run, for a target far below
    // any round's duration (the rounds take about a millisecond): one worker per task a worker could take.
    const mostRecommended = async (elastic: boolean) => {
      let most = 0;
      let samples = 0;
      let running = true;
      const search = new ml.GridSearchCV(pipeline(), { clf__C: [0.001, 0.01, 0.1, 1, 10, 100] }, { cv: 3, concurrency: 8, warmStart: false, refit: false, elastic })
        .fit(df, 'y', { client }).finally(() => { running = false; });
      await waitUntil(() => {
        if (onlyFitting()) {
          samples++;
          most = Math.max(most, ...state.adaptive({ targetDurationMs: 1e-6, groups: [] }).groups.map((g) => g.target));
        }
        return !running;
      }, 'the search to end', 90_000);
      assert.ok(samples > 0, 'sampled while only fit rounds ran');
      return { most, search: await search };
    };
    const pinned = await mostRecommended(false);
    const elastic = await mostRecommended(true);
    assert.ok(pinned.most <= 2, `pinned: at most the 2 workers' own threads are counted, got ${pinned.most}`);
    assert.ok(elastic.most > 2, `elastic: the queued fit rounds are counted, more than the workers' threads, got ${elastic.most}`);
    assert.deepEqual(elastic.search.cvResults!.getColumn('mean_test_score').toArray(), pinned.search.cvResults!.getColumn('mean_test_score').toArray());
  });

  it('a worker killed with SIGKILL during a search: the same results', { timeout: 180_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubedask-search-kill-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    // Copies of the data, so that the search runs long enough to be interrupted; from a file, so lost partitions can be read again.
    pl.concat(Array.from({ length: 100 }, () => frame())).writeParquet(join(dir, 'data.parquet'));
    const search = () => new ml.GridSearchCV(pipeline(), reference.grid, { cv: { testFold: 'fold' }, scoring: 'neg_log_loss' });
    await withCluster({ workers: 3, threads: 1 }, async (cluster, client) => {
      const source = () => readParquet(join(dir, 'data.parquet'), { partitionRows: 8_000 });
      const quiet = await search().fit(source(), 'y', { client });
      const running = search().fit(source(), 'y', { client });
      let victim = '';
      await waitUntil(async () => {
        const h = await client.history();
        const fitting = h.progress.filter((g) => g.group === 'ml-linear-glm').reduce((n, g) => n + g.done, 0) > 2 * (quiet.cvResults!.height);
        victim = fitting ? (await client.clusterInfo()).workers.find((w) => w.inMemory > 0)?.name ?? '' : '';
        return victim !== '';
      }, 'the search to be fitting', 90_000);
      process.kill(cluster.workerPids[victim]!, 'SIGKILL');
      const interrupted = await running;
      for (const column of ['mean_test_score', 'split0_test_score', 'split1_test_score', 'split2_test_score', 'rank_test_score']) {
        assert.deepEqual(interrupted.cvResults!.getColumn(column).toArray(), quiet.cvResults!.getColumn(column).toArray(), column);
      }
      assert.deepEqual(interrupted.bestParams, quiet.bestParams);
      assert.deepEqual((interrupted.bestEstimator!.namedSteps.clf as ml.LogisticRegression).coef, (quiet.bestEstimator!.namedSteps.clf as ml.LogisticRegression).coef);
    });
  });
});
