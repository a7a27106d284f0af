// The schedules of the incremental searches, pure: successive halving's rungs, Hyperband's
// brackets (Li et al., 2018), which models go on, and when a model has stopped improving.
import { MlParamError } from '../errors.js';

/** One rung: how many models are trained, and to how many partialFit calls in all. */
export interface Rung { models: number; calls: number }

/** A Hyperband bracket: successive halving from `models` candidates at `calls` calls each. */
export interface Bracket { bracket: number; models: number; calls: number }

/**
 * Successive halving from n models at r calls: at rung i the best floor(n / eta^i) (at least
 * one) go on to round(r * eta^i) calls, until a rung reaches maxIter.
 */
export function halvingRungs(n: number, r: number, maxIter: number, eta: number): Rung[] {
  const rungs: Rung[] = [];
  for (let i = 0; ; i++) {
    const calls = Math.min(maxIter, Math.round(r * eta ** i));
    // The small allowance keeps 27 / 3^3 from flooring to 0 through rounding.
    rungs.push({ models: Math.max(1, Math.floor(n / eta ** i + 1e-9)), calls });
    if (calls >= maxIter) return rungs;
  }
}

/** The largest s with eta^s <= x. */
function floorLog(x: number, eta: number): number {
  let s = 0;
  while (eta ** (s + 1) <= x * (1 + 1e-12)) s++;
  return s;
}

/**
 * Hyperband's brackets for a budget of maxIter calls a model: s = s_max .. 0, bracket s starting
 * ceil((s_max + 1) eta^s / (s + 1)) models at floor(maxIter / eta^s) calls (Li et al.'s
 * algorithm 1; dask-ml's HyperbandSearchCV).
 */
export function hyperbandBrackets(maxIter: number, eta: number): Bracket[] {
  const sMax = floorLog(maxIter, eta);
  const out: Bracket[] = [];
  for (let s = sMax; s >= 0; s--) {
    out.push({ bracket: s, models: Math.ceil(((sMax + 1) * eta ** s) / (s + 1) - 1e-9), calls: Math.max(1, Math.floor(maxIter / eta ** s + 1e-9)) });
  }
  return out;
}

/** The initial calls that make n models halve down to one just as they reach maxIter. */
export function defaultInitialIter(n: number, maxIter: number, eta: number): number {
  return Math.max(1, Math.floor(maxIter / eta ** floorLog(n, eta) + 1e-9));
}

/** partialFit calls the rungs make when no model stops early. */
export function plannedCalls(rungs: readonly Rung[]): number {
  let total = 0;
  let before = 0;
  for (const { models, calls } of rungs) {
    total += models * (calls - before);
    before = calls;
  }
  return total;
}

export interface Scored { id: number; score: number }

/** The k best by score (NaN last), ties to the lower id, so every run chooses the same. */
export function topK(models: readonly Scored[], k: number): Scored[] {
  const key = (s: number) => (Number.isNaN(s) ? -Infinity : s);
  return [...models].sort((a, b) => key(b.score) - key(a.score) || a.id - b.id).slice(0, k);
}

/**
 * Whether a model has stopped improving: its best score in the last `patience` calls is no more
 * than tol above its best before them. `history` is in call order.
 */
export function plateaued(history: ReadonlyArray<{ calls: number; score: number }>, patience: number, tol: number): boolean {
  const last = history.at(-1);
  if (!last) return false;
  const cut = last.calls - patience;
  const before = history.filter((h) => h.calls <= cut).map((h) => h.score).filter((s) => !Number.isNaN(s));
  if (before.length === 0) return false;
  const recent = history.filter((h) => h.calls > cut).map((h) => h.score);
  return Math.max(...recent.map((s) => (Number.isNaN(s) ? -Infinity : s))) <= Math.max(...before) + tol;
}

export function checkPositiveInteger(caller: string, name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) throw new MlParamError(`${caller}: ${name} must be an integer >= 1, got ${value}`);
}

/** The most rungs a schedule may have: an aggressiveness barely above 1 would make millions. */
const MAX_RUNGS = 100;

export function checkAggressiveness(caller: string, eta: number, maxIter: number): void {
  if (!(typeof eta === 'number' && Number.isFinite(eta) && eta > 1)) throw new MlParamError(`${caller}: aggressiveness must be a number > 1, got ${String(eta)}`);
  if (Math.log(maxIter) / Math.log(eta) > MAX_RUNGS) throw new MlParamError(`${caller}: aggressiveness ${eta} is too close to 1 for maxIter ${maxIter} (more than ${MAX_RUNGS} rungs)`);
}
