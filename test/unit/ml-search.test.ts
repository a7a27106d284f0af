// The searches' parts that need no cluster: candidates from grids and distributions, ranks, and
// options checked before anything runs (the rest is in test/integration/ml-search.test.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ml } from '../../index.js';
import { Stub } from '../helpers/ml-search-stub.js';
import { expandGrid, sampleParams } from '../../ml/model-selection/params.js';
import { rankDescending } from '../../ml/model-selection/search.js';

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

test('options are checked before anything runs', () => {
  const stub = new Stub() as never;
  assert.throws(() => new ml.GridSearchCV(stub, { q: [1] }, { cv: 1 }), /nSplits must be an integer >= 2/);
  assert.throws(() => new ml.GridSearchCV(stub, { q: [1] }, { cv: 'x' as never }), /cv must be a number of folds, a KFold or \{ testFold: column \}/);
  assert.throws(() => new ml.GridSearchCV(stub, { q: [1] }, { concurrency: 0 }), /concurrency must be an integer >= 1/);
  assert.throws(() => new ml.GridSearchCV({} as never, { q: [1] }), /must be an estimator/);
  assert.throws(() => new ml.GridSearchCV(stub, { q: [1] }, { scoring: 'roc_auc' }), /scoring "roc_auc" needs an estimator with predictProba/);
});
