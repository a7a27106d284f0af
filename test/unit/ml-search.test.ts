// The searches' bookkeeping without a cluster: candidates from grids and distributions, fits at
// most `concurrency` at once, failing fits, ranks, the results table and refit. The estimator
// here is a stand-in whose fit and score touch no data.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pl from 'nodejs-polars';
import { fromPolars, ml } from '../../index.js';
import type { DataFrame } from '../../dataframe/frame.js';
import { expandGrid, sampleParams } from '../../ml/model-selection/params.js';
import { rankDescending } from '../../ml/model-selection/search.js';

let running = 0;
let mostRunning = 0;

/** Scores `quality` (minus the fold's number / 100, so folds differ); fails when `fail` is set. */
class Stub {
  fitted = false;
  constructor(readonly params: Record<string, unknown> = { quality: 0, fail: false }) {}
  getParams() { return { ...this.params }; }
  withParams(p: Record<string, unknown>) { return new Stub({ ...this.params, ...p }) as this; }
  async fit(): Promise<this> {
    running++;
    mostRunning = Math.max(mostRunning, running);
    await new Promise((resolve) => setImmediate(resolve));
    running--;
    if (this.params.fail) throw new Error(`stub told to fail (quality ${String(this.params.quality)})`);
    this.fitted = true;
    return this;
  }
  predict(X: DataFrame) { return X; }
  async score(): Promise<number> { return this.params.quality as number; }
}

const df = fromPolars(pl.DataFrame({ a: [1, 2, 3, 4, 5, 6], y: [0, 1, 0, 1, 0, 1] }));

test('a grid is every combination, keys sorted, the last varying fastest; lists of grids one after another', () => {
  assert.deepEqual(expandGrid({ b: [1, 2], a: ['x', 'y'] }, 't'), [{ a: 'x', b: 1 }, { a: 'x', b: 2 }, { a: 'y', b: 1 }, { a: 'y', b: 2 }]);
  assert.deepEqual(expandGrid([{ a: [1] }, { b: [2, 3] }], 't'), [{ a: 1 }, { b: 2 }, { b: 3 }]);
  assert.throws(() => expandGrid({ a: [] }, 'G'), /G: paramGrid's "a" must be a non-empty list/);
  assert.throws(() => expandGrid([], 'G'), /paramGrid is empty/);
});

test('sampled candidates: the same for a seed, within their distributions; a grid of lists without repeats', () => {
  const space = { c: ml.logUniform(1e-3, 1e3), n: ml.randint(2, 5), u: ml.uniform(-1, 1), k: ['a', 'b'] };
  const a = sampleParams(space, 50, 3, 't');
  assert.deepEqual(a, sampleParams(space, 50, 3, 't'));
  assert.notDeepEqual(a, sampleParams(space, 50, 4, 't'));
  for (const p of a) {
    assert.ok((p.c as number) >= 1e-3 && (p.c as number) < 1e3);
    assert.ok([2, 3, 4].includes(p.n as number));
    assert.ok((p.u as number) >= -1 && (p.u as number) < 1);
    assert.ok(['a', 'b'].includes(p.k as string));
  }
  assert.ok(a.some((p) => (p.c as number) < 1) && a.some((p) => (p.c as number) > 1), 'log-uniform spans the decades');
  const lists = sampleParams({ x: [1, 2, 3], y: [4, 5] }, 4, 0, 't');
  assert.equal(new Set(lists.map((p) => JSON.stringify(p))).size, 4);
  assert.equal(sampleParams({ x: [1, 2, 3], y: [4, 5] }, 100, 0, 't').length, 6, 'the whole grid when nIter exceeds it');
  assert.throws(() => ml.logUniform(0, 1), /low must be > 0/);
  assert.throws(() => ml.uniform(2, 1), /finite low < high/);
  assert.throws(() => sampleParams({ x: [1] }, 0, 0, 'R'), /R: nIter must be an integer >= 1/);
});

test('ranks: 1 for the best, ties share the smallest, NaN last', () => {
  assert.deepEqual(rankDescending([0.5, 0.9, 0.5, Number.NaN, 0.7]), [3, 1, 3, 5, 2]);
});

test('fits run at most `concurrency` at once; a failing one scores NaN with its message; the best is refitted', async () => {
  mostRunning = 0;
  const grid = { quality: [0.25, 0.875, 0.5], fail: [false] };
  const search = await new ml.GridSearchCV(new Stub() as never, [grid, { quality: [0.99], fail: [true] }], { cv: 3, concurrency: 2 }).fit(df, 'y');
  assert.equal(mostRunning, 2);
  const r = search.cvResults!;
  assert.deepEqual(r.columns.slice(0, 3), ['param_fail', 'param_quality', 'params']);
  assert.deepEqual(r.getColumn('mean_test_score').toArray().map((x) => (Number.isNaN(x) ? 'NaN' : x)), [0.25, 0.875, 0.5, 'NaN']);
  assert.deepEqual(r.getColumn('rank_test_score').toArray(), [3, 1, 2, 4]);
  assert.deepEqual(r.getColumn('error').toArray(), [null, null, null, 'stub told to fail (quality 0.99)']);
  assert.deepEqual(search.bestParams, { fail: false, quality: 0.875 });
  assert.equal(search.bestScore, 0.875);
  assert.ok((search.bestEstimator as unknown as Stub).fitted);
  assert.deepEqual((search.bestEstimator as unknown as Stub).params, { quality: 0.875, fail: false });

  const noRefit = await new ml.GridSearchCV(new Stub() as never, grid, { cv: 2, refit: false }).fit(df, 'y');
  assert.equal(noRefit.bestEstimator, undefined);
  assert.throws(() => noRefit.predict(df), /not fitted; call fit\(\) before predict/);
  await assert.rejects(new ml.GridSearchCV(new Stub() as never, { fail: [true] }, { cv: 2, errorScore: 'raise' }).fit(df, 'y'), /stub told to fail/);
});

test('options are checked before anything runs', () => {
  const stub = new Stub() as never;
  assert.throws(() => new ml.GridSearchCV(stub, { q: [1] }, { cv: 1 }), /nSplits must be an integer >= 2/);
  assert.throws(() => new ml.GridSearchCV(stub, { q: [1] }, { cv: 'x' as never }), /cv must be a number of folds, a KFold or \{ testFold: column \}/);
  assert.throws(() => new ml.GridSearchCV(stub, { q: [1] }, { concurrency: 0 }), /concurrency must be an integer >= 1/);
  assert.throws(() => new ml.GridSearchCV({} as never, { q: [1] }), /must be an estimator/);
  assert.throws(() => new ml.GridSearchCV(stub, { q: [1] }, { scoring: 'roc_auc' }), /scoring "roc_auc" needs an estimator with predictProba/);
});
