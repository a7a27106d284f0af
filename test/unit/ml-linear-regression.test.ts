// LinearRegression and PoissonRegression on LocalShards against scikit-learn 1.9 on the same
// data (test/fixtures/ml/linear_reference.py): coefficients and intercepts within 1e-4 relative
// (values under 1e-2 within 1e-6 absolute); both optima are unique.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pl from 'nodejs-polars';
import { LinearRegression } from '../../ml/linear/linear-regression.js';
import { PoissonRegression } from '../../ml/linear/poisson-regression.js';
import { MlDataError } from '../../ml/errors.js';
import { solveSymmetric, symmetricEigen } from '../../ml/linear/linalg.js';
import { closeTo, features, reference, shardsOf } from './ml-models-fixture.js';

test('LinearRegression equals scikit-learn\'s, with and without intercept, over unequal and empty shards', async () => {
  for (const sk of reference.regression_fits) {
    const model = await new LinearRegression({ fitIntercept: sk.params.fit_intercept }).fitShards(shardsOf(reference.regression, [40, 40, 149]), { features: features(3) });
    closeTo(model.coef!, sk.coef, 1e-4, 1e-2, 'coef');
    closeTo([model.intercept!], [sk.intercept], 1e-4, 1e-2, 'intercept');
    assert.deepEqual(model.onnxSteps(), [{ kind: 'linear-regressor', coef: model.coef, intercept: model.intercept, link: 'identity' }]);
  }
});

test('LinearRegression with collinear features gives the minimum-norm solution (as lstsq)', async () => {
  // x1 = 2 * x0: any split of the slope fits; the minimum-norm one splits it 1 : 2.
  const X = [[1, 2], [2, 4], [3, 6], [4, 8]];
  const y = [3, 5, 7, 9]; // 1 + 2 x0
  const model = await new LinearRegression().fitShards(shardsOf({ X, y }, [2]), { features: ['a', 'b'] });
  closeTo(model.coef!, [0.4, 0.8], 1e-9, 1, 'coef');
  closeTo([model.intercept!], [1], 1e-9, 1, 'intercept');
});

test('linear algebra: Jacobi eigenvalues and the pseudo-inverse solve', () => {
  const a = [4, 1, 0, 1, 3, 1, 0, 1, 2];
  const { values, vectors } = symmetricEigen(a, 3);
  for (let k = 0; k < 3; k++) {
    const v = [0, 1, 2].map((i) => vectors[i * 3 + k]!);
    const av = [0, 1, 2].map((i) => a[i * 3]! * v[0]! + a[i * 3 + 1]! * v[1]! + a[i * 3 + 2]! * v[2]!);
    closeTo(av, v.map((x) => x * values[k]!), 1e-12, 1, `A v = lambda v (${k})`);
  }
  closeTo(solveSymmetric(a, 3, [1, 2, 3]), [2 / 9, 1 / 9, 13 / 9], 1e-12, 1, 'solve');
});

test('PoissonRegression equals scikit-learn\'s PoissonRegressor at two alphas, with L-BFGS and Newton', async () => {
  for (const sk of reference.poisson_fits) {
    for (const solver of ['lbfgs', 'newton'] as const) {
      const model = await new PoissonRegression({ alpha: sk.params.alpha, solver, tol: 1e-10, maxIter: 1000 }).fitShards(shardsOf(reference.poisson, [70, 70]), { features: features(3) });
      assert.equal(model.converged, true);
      closeTo(model.coef!, sk.coef, 1e-4, 1e-2, `${solver} coef`);
      closeTo([model.intercept!], [sk.intercept], 1e-4, 1e-2, `${solver} intercept`);
    }
  }
});

test('predict is exp of the linear score (Poisson) or the score (linear), as expressions', async () => {
  const poisson = await new PoissonRegression({ alpha: 0.01 }).fitShards(shardsOf(reference.poisson, []), { features: features(3) });
  const linear = await new LinearRegression().fitShards(shardsOf(reference.regression, []), { features: features(3) });
  for (const [model, data, link] of [[poisson, reference.poisson, Math.exp], [linear, reference.regression, (z: number) => z]] as const) {
    const rows: number[][] = data.X.slice(0, 4);
    const frame = pl.DataFrame(Object.fromEntries(features(3).map((n, j) => [n, rows.map((r) => r[j]!)])));
    const got = frame.select(model.predictExpr().alias('prediction')).getColumn('prediction').toArray() as number[];
    const want = rows.map((r) => link(r.reduce((s, v, j) => s + v * model.coef![j]!, model.intercept!)));
    closeTo(got, want, 1e-12, 1, 'prediction');
  }
  assert.deepEqual(poisson.onnxSteps(), [{ kind: 'linear-regressor', coef: poisson.coef, intercept: poisson.intercept, link: 'log' }]);
});

test('PoissonRegression refuses negative counts and NaN targets, naming them', async () => {
  await assert.rejects(new PoissonRegression().fitShards(shardsOf({ X: [[1], [2]], y: [1, -1] }, []), { features: ['a'] }), (e: Error) => e instanceof MlDataError && /y must be >= 0 \(counts\), got -1/.test(e.message));
  await assert.rejects(new PoissonRegression().fitShards(shardsOf({ X: [[1], [2]], y: [1, NaN] }, [1]), { features: ['a'] }), /got NaN/);
  await assert.rejects(new LinearRegression().fitShards(shardsOf({ X: [[1], [NaN]], y: [1, 2] }, []), { features: ['a'] }), /NaN/);
});
