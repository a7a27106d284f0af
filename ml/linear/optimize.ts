// The client side of a distributed fit: each evaluation of the objective is one pass over the
// shards (loss and gradient, and the Hessian for Newton, summed on the workers); these solvers
// only see the sums, so they run the same on LocalShards and on a cluster.
import { choleskySolve, cholesky, dot, maxAbs } from './linalg.js';

export interface Evaluation {
  f: number;
  g: Float64Array;
  /** Row-major d x d, when asked for. */
  h?: Float64Array;
}

/** f(w), its gradient and, when `hessian`, its Hessian: one pass over the shards. */
export type Objective = (w: Float64Array, hessian: boolean) => Promise<Evaluation>;

export interface SolveOptions {
  maxIter: number;
  /** Stop when the largest gradient component is at most tol (scipy's gtol, as scikit-learn passes it). */
  tol: number;
  /** L-BFGS also stops when f decreases by less than this, relatively (default scipy's 64 eps; 0: never). */
  ftol?: number;
}

export interface Solution {
  w: Float64Array;
  f: number;
  nIter: number;
  converged: boolean;
}

// As scipy's L-BFGS-B (factr 64): a relative decrease of f below this stops, as converged.
const FTOL = 64 * Number.EPSILON;
const MEMORY = 10;

/** L-BFGS (two-loop recursion) with a backtracking Armijo line search. */
export async function lbfgs(objective: Objective, w0: Float64Array, options: SolveOptions): Promise<Solution> {
  let w: Float64Array = Float64Array.from(w0);
  let cur = await objective(w, false);
  const s: Float64Array[] = [];
  const y: Float64Array[] = [];
  for (let it = 0; it < options.maxIter; it++) {
    if (maxAbs(cur.g) <= options.tol) return { w, f: cur.f, nIter: it, converged: true };
    const d = lbfgsDirection(cur.g, s, y);
    // The first step has no curvature yet: scale it to a unit move.
    const step0 = s.length === 0 ? Math.min(1, 1 / Math.max(maxAbs(cur.g), 1e-300)) : 1;
    const next = await lineSearch(objective, w, cur, d, step0, false);
    if (!next) return { w, f: cur.f, nIter: it, converged: maxAbs(cur.g) <= options.tol };
    const sk = sub(next.w, w);
    const yk = sub(next.e.g, cur.g);
    if (dot(sk, yk) > 1e-12 * dot(yk, yk)) {
      s.push(sk);
      y.push(yk);
      if (s.length > MEMORY) { s.shift(); y.shift(); }
    }
    const decrease = cur.f - next.e.f;
    w = next.w;
    cur = next.e;
    if (decrease <= (options.ftol ?? FTOL) * Math.max(Math.abs(cur.f), Math.abs(cur.f + decrease), 1)) return { w, f: cur.f, nIter: it + 1, converged: true };
  }
  return { w, f: cur.f, nIter: options.maxIter, converged: maxAbs(cur.g) <= options.tol };
}

/** Newton's method: the Hessian summed over the shards, a Cholesky solve, the same line search. */
export async function newton(objective: Objective, w0: Float64Array, options: SolveOptions): Promise<Solution> {
  let w: Float64Array = Float64Array.from(w0);
  let cur = await objective(w, true);
  for (let it = 0; it < options.maxIter; it++) {
    if (maxAbs(cur.g) <= options.tol) return { w, f: cur.f, nIter: it, converged: true };
    const d = newtonDirection(cur);
    const next = await lineSearch(objective, w, cur, d, 1, true);
    if (!next) return { w, f: cur.f, nIter: it, converged: maxAbs(cur.g) <= options.tol };
    w = next.w;
    cur = next.e;
  }
  return { w, f: cur.f, nIter: options.maxIter, converged: maxAbs(cur.g) <= options.tol };
}

function newtonDirection(e: Evaluation): Float64Array {
  const n = e.g.length;
  const h = Float64Array.from(e.h!);
  // A Hessian that is only semi-definite (separable data, no penalty) gets a growing ridge.
  let ridge = 0;
  for (;;) {
    if (ridge > 0) for (let i = 0; i < n; i++) h[i * n + i] = e.h![i * n + i]! + ridge;
    const l = cholesky(h, n);
    if (l) return choleskySolve(l, n, e.g.map((v) => -v));
    ridge = ridge === 0 ? 1e-10 * Math.max(1, maxAbs(e.h!)) : ridge * 10;
  }
}

function lbfgsDirection(g: Float64Array, s: Float64Array[], y: Float64Array[]): Float64Array {
  const q = Float64Array.from(g);
  const alpha: number[] = [];
  for (let i = s.length - 1; i >= 0; i--) {
    const a = dot(s[i]!, q) / dot(y[i]!, s[i]!);
    alpha[i] = a;
    for (let j = 0; j < q.length; j++) q[j]! -= a * y[i]![j]!;
  }
  if (s.length > 0) {
    const last = s.length - 1;
    const gamma = dot(s[last]!, y[last]!) / dot(y[last]!, y[last]!);
    for (let j = 0; j < q.length; j++) q[j]! *= gamma;
  }
  for (let i = 0; i < s.length; i++) {
    const b = dot(y[i]!, q) / dot(y[i]!, s[i]!);
    for (let j = 0; j < q.length; j++) q[j]! += s[i]![j]! * (alpha[i]! - b);
  }
  for (let j = 0; j < q.length; j++) q[j] = -q[j]!;
  return q;
}

/**
 * Backtracking until Armijo's sufficient decrease holds. Near the optimum f stops changing in
 * floating point before the gradient is small, so a step that leaves f equal to rounding and
 * shrinks the directional derivative is taken too. null: no step helps.
 */
async function lineSearch(objective: Objective, w: Float64Array, cur: Evaluation, d: Float64Array, step0: number, hessian: boolean): Promise<{ w: Float64Array; e: Evaluation } | null> {
  let slope = dot(cur.g, d);
  if (!(slope < 0)) {
    // Not a descent direction (a stale curvature pair): fall back to steepest descent.
    for (let j = 0; j < d.length; j++) d[j] = -cur.g[j]!;
    slope = dot(cur.g, d);
    if (!(slope < 0)) return null;
  }
  let step = step0;
  for (let tries = 0; tries < 60; tries++) {
    const wn = w.map((v, j) => v + step * d[j]!);
    const e = await objective(wn, hessian);
    if (Number.isFinite(e.f)) {
      if (e.f <= cur.f + 1e-4 * step * slope) return { w: wn, e };
      const flat = Math.abs(e.f - cur.f) <= 4 * Number.EPSILON * Math.max(Math.abs(cur.f), 1);
      if (flat && Math.abs(dot(e.g, d)) < Math.abs(slope)) return { w: wn, e };
    }
    step /= 2;
  }
  return null;
}

function sub(a: Float64Array, b: Float64Array): Float64Array {
  return a.map((v, i) => v - b[i]!);
}
