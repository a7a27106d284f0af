// L1 and elastic-net by ADMM (Boyd et al. 2011, section 6.3) splitting the smooth part from the
// L1 norm: minimise f(w) + lambda ||z||_1 subject to coef(w) = z. The w-step is a smooth fit of
// f(w) + rho/2 ||coef(w) - z + u||^2 by the distributed solver (loss and gradient summed over
// the shards, warm-started); the z-step soft-thresholds on the client. So every pass over the
// data is a solver's pass, and the result z has exact zeros, as the L1 optimum has.
import { type Objective, type Solution, type SolveOptions } from './optimize.js';

export interface AdmmOptions extends SolveOptions {
  /** The L1 weight lambda (on the mean loss's scale). */
  l1: number;
  /** Which entries of w are coefficients (penalised); the others (intercepts) are not split. */
  isCoef: (i: number) => boolean;
  /** The w-step's solver. */
  inner: (objective: Objective, w0: Float64Array, options: SolveOptions) => Promise<Solution>;
}

export interface AdmmSolution extends Solution {
  /** w with its coefficients replaced by z's (sparse). */
  w: Float64Array;
}

export async function admm(smooth: Objective, w0: Float64Array, options: AdmmOptions): Promise<AdmmSolution> {
  const d = w0.length;
  const coefIdx = Array.from({ length: d }, (_, i) => i).filter(options.isCoef);
  const m = coefIdx.length;
  let w: Float64Array = Float64Array.from(w0);
  let z: Float64Array = new Float64Array(m);
  const u = new Float64Array(m);
  let rho = 1;
  let f = NaN;
  // The w-steps must be solved accurately for ADMM to reach a tight tol: the gradient alone
  // ends them (or a line search that can no longer improve), not a flat f.
  const inner: SolveOptions = { maxIter: 200, tol: Math.min(options.tol * 0.1, 1e-6), ftol: 0 };
  for (let it = 0; it < options.maxIter; it++) {
    const zu = coefIdx.map((_, k) => z[k]! - u[k]!);
    const rhoNow = rho;
    const augmented: Objective = async (v, hessian) => {
      const e = await smooth(v, hessian);
      const g = Float64Array.from(e.g);
      let fa = e.f;
      coefIdx.forEach((i, k) => {
        const diff = v[i]! - zu[k]!;
        fa += 0.5 * rhoNow * diff * diff;
        g[i]! += rhoNow * diff;
        if (e.h) e.h[i * d + i]! += rhoNow;
      });
      return e.h ? { f: fa, g, h: e.h } : { f: fa, g };
    };
    const step = await options.inner(augmented, w, inner);
    w = step.w;
    const zOld = z;
    z = Float64Array.from(coefIdx, (i, k) => softThreshold(w[i]! + u[k]!, options.l1 / rho));
    let primal = 0;
    let dual = 0;
    let wNorm = 0;
    let zNorm = 0;
    let uNorm = 0;
    coefIdx.forEach((i, k) => {
      u[k]! += w[i]! - z[k]!;
      primal += (w[i]! - z[k]!) ** 2;
      dual += (rho * (z[k]! - zOld[k]!)) ** 2;
      wNorm += w[i]! ** 2;
      zNorm += z[k]! ** 2;
      uNorm += (rho * u[k]!) ** 2;
    });
    f = step.f;
    const epsPrimal = Math.sqrt(m) * options.tol + options.tol * Math.sqrt(Math.max(wNorm, zNorm));
    const epsDual = Math.sqrt(m) * options.tol + options.tol * Math.sqrt(uNorm);
    const [r, s] = [Math.sqrt(primal), Math.sqrt(dual)];
    if (r <= epsPrimal && s <= epsDual) return { w: withCoefs(w, coefIdx, z), f, nIter: it + 1, converged: true };
    // Residual balancing (Boyd 3.4.1): keeps both residuals shrinking at the same pace; only the
    // one still above its tolerance asks for a change.
    if (r > epsPrimal && r > 10 * s) { rho *= 2; rescale(u, 0.5); } else if (s > epsDual && s > 10 * r) { rho /= 2; rescale(u, 2); }
  }
  return { w: withCoefs(w, coefIdx, z), f, nIter: options.maxIter, converged: false };
}

function softThreshold(v: number, t: number): number {
  return v > t ? v - t : v < -t ? v + t : 0;
}

function rescale(u: Float64Array, by: number): void {
  for (let k = 0; k < u.length; k++) u[k]! *= by;
}

function withCoefs(w: Float64Array, coefIdx: number[], z: Float64Array): Float64Array {
  const out = Float64Array.from(w);
  coefIdx.forEach((i, k) => { out[i] = z[k]!; });
  return out;
}
