// The client-side solvers on problems with known answers: Rosenbrock's valley (L-BFGS and
// Newton, minimum at (1, 1)), and a lasso whose soft-thresholded optimum is known (ADMM).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lbfgs, newton, type Objective } from '../../ml/linear/optimize.js';
import { admm } from '../../ml/linear/admm.js';

const rosenbrock: Objective = async (w, hessian) => {
  const [x, y] = [w[0]!, w[1]!];
  const f = (1 - x) ** 2 + 100 * (y - x * x) ** 2;
  const g = Float64Array.of(-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x));
  if (!hessian) return { f, g };
  return { f, g, h: Float64Array.of(2 - 400 * (y - 3 * x * x), -400 * x, -400 * x, 200) };
};

test('L-BFGS and Newton find Rosenbrock\'s minimum from (-1.2, 1) and say they converged', async () => {
  for (const solve of [lbfgs, newton]) {
    const result = await solve(rosenbrock, Float64Array.of(-1.2, 1), { maxIter: 500, tol: 1e-9 });
    assert.equal(result.converged, true, solve.name);
    assert.ok(Math.abs(result.w[0]! - 1) < 1e-6 && Math.abs(result.w[1]! - 1) < 1e-6, `${solve.name}: ${result.w}`);
    assert.ok(result.nIter > 5 && result.nIter < 500);
  }
  const cut = await lbfgs(rosenbrock, Float64Array.of(-1.2, 1), { maxIter: 3, tol: 1e-9 });
  assert.deepEqual([cut.nIter, cut.converged], [3, false]);
});

test('ADMM: the lasso 0.5 ||w - c||^2 + lambda ||w||_1 gives soft-thresholding, zeros exact, the intercept free', async () => {
  const c = [3, -0.5, 0.2, -2, 7];
  // w[4] plays an intercept: not penalised, so it stays at 7.
  const smooth: Objective = async (w, hessian) => {
    const g = w.map((v, i) => v - c[i]!);
    const f = g.reduce((s, v) => s + 0.5 * v * v, 0);
    if (!hessian) return { f, g };
    const h = new Float64Array(25);
    for (let i = 0; i < 5; i++) h[i * 5 + i] = 1;
    return { f, g, h };
  };
  for (const inner of [lbfgs, newton]) {
    const result = await admm(smooth, new Float64Array(5), { maxIter: 1000, tol: 1e-10, l1: 1, isCoef: (i) => i < 4, inner });
    assert.equal(result.converged, true);
    assert.deepEqual(Array.from(result.w.subarray(1, 3)), [0, 0]);
    for (const [i, want] of [[0, 2], [3, -1], [4, 7]] as const) assert.ok(Math.abs(result.w[i]! - want) < 1e-8, `${inner.name} w[${i}] = ${result.w[i]} (want ${want})`);
  }
});
