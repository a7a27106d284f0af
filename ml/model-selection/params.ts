// The candidates of a search: every combination of a grid (scikit-learn's ParameterGrid), or
// draws from lists and distributions (ParameterSampler), reproducible from a seed.
import { MlParamError } from '../errors.js';

export type ParamGrid = Record<string, readonly unknown[]>;

/** A distribution to draw a parameter from: `sample` gets a uniform draw in [0, 1). */
export interface Distribution {
  readonly kind: 'uniform' | 'logUniform' | 'randint';
  readonly low: number;
  readonly high: number;
  sample(u: number): number;
}

export type ParamDistributions = Record<string, readonly unknown[] | Distribution>;

/** Uniform on [low, high) (scipy's uniform(loc=low, scale=high-low)). */
export function uniform(low: number, high: number): Distribution {
  bounds('uniform', low, high);
  return { kind: 'uniform', low, high, sample: (u) => low + u * (high - low) };
}

/** Log-uniform on [low, high), both > 0 (scipy's loguniform): for scales such as C or alpha. */
export function logUniform(low: number, high: number): Distribution {
  bounds('logUniform', low, high);
  if (!(low > 0)) throw new MlParamError(`logUniform: low must be > 0, got ${low}`);
  const [a, b] = [Math.log(low), Math.log(high)];
  return { kind: 'logUniform', low, high, sample: (u) => Math.exp(a + u * (b - a)) };
}

/** Integers low, ..., high - 1, each as likely (scipy's randint). */
export function randint(low: number, high: number): Distribution {
  if (!Number.isSafeInteger(low) || !Number.isSafeInteger(high)) throw new MlParamError(`randint: low and high must be integers, got ${low} and ${high}`);
  bounds('randint', low, high);
  return { kind: 'randint', low, high, sample: (u) => low + Math.min(high - low - 1, Math.floor(u * (high - low))) };
}

function bounds(what: string, low: number, high: number): void {
  if (!Number.isFinite(low) || !Number.isFinite(high) || !(low < high)) throw new MlParamError(`${what}: needs finite low < high, got ${low} and ${high}`);
}

export function isDistribution(x: unknown): x is Distribution {
  return typeof (x as Partial<Distribution> | null)?.sample === 'function';
}

/**
 * Every combination, one grid or several (a list: their candidates one grid after the other),
 * the last parameter varying fastest. Keys sorted first, as scikit-learn does, so the order of
 * the candidates does not depend on how the object was written.
 */
export function expandGrid(grid: ParamGrid | readonly ParamGrid[], caller: string): Array<Record<string, unknown>> {
  const grids = Array.isArray(grid) ? grid : [grid as ParamGrid];
  if (grids.length === 0) throw new MlParamError(`${caller}: paramGrid is empty`);
  const out: Array<Record<string, unknown>> = [];
  for (const g of grids) {
    if (g === null || typeof g !== 'object') throw new MlParamError(`${caller}: paramGrid must be an object of parameter -> list of values (or a list of such objects), got ${String(g)}`);
    const keys = Object.keys(g).sort();
    for (const k of keys) {
      const values = g[k];
      if (!Array.isArray(values) || values.length === 0) throw new MlParamError(`${caller}: paramGrid's "${k}" must be a non-empty list of values, got ${JSON.stringify(values)}`);
    }
    let combos: Array<Record<string, unknown>> = [{}];
    for (const k of keys) combos = combos.flatMap((c) => (g[k] as unknown[]).map((v) => ({ ...c, [k]: v })));
    out.push(...combos);
  }
  return out;
}

/**
 * nIter candidates drawn with a seeded generator: lists uniformly, distributions by their
 * sample. When every entry is a list, the grid is sampled without repeats (all of it when it
 * has at most nIter candidates), as scikit-learn's ParameterSampler.
 */
export function sampleParams(distributions: ParamDistributions, nIter: number, seed: number, caller: string): Array<Record<string, unknown>> {
  if (!Number.isInteger(nIter) || nIter < 1) throw new MlParamError(`${caller}: nIter must be an integer >= 1, got ${nIter}`);
  const keys = checkDistributions(distributions, caller);
  const next = mulberry32(seed);
  if (keys.every((k) => Array.isArray(distributions[k]))) {
    const grid = expandGrid(distributions as ParamGrid, caller);
    // A partial Fisher-Yates shuffle: the first nIter of a random order, without repeats.
    const n = Math.min(nIter, grid.length);
    for (let i = 0; i < n; i++) {
      const j = i + Math.floor(next() * (grid.length - i));
      [grid[i], grid[j]] = [grid[j]!, grid[i]!];
    }
    return grid.slice(0, n);
  }
  return Array.from({ length: nIter }, () => drawParams(distributions, next));
}

/** The parameter names, sorted, once each entry is checked to be a non-empty list or a distribution. */
export function checkDistributions(distributions: ParamDistributions, caller: string): string[] {
  if (distributions === null || typeof distributions !== 'object' || Array.isArray(distributions)) throw new MlParamError(`${caller}: paramDistributions must be an object of parameter -> list of values or distribution`);
  const keys = Object.keys(distributions).sort();
  if (keys.length === 0) throw new MlParamError(`${caller}: paramDistributions is empty`);
  for (const k of keys) {
    const d = distributions[k];
    if (!isDistribution(d) && (!Array.isArray(d) || d.length === 0)) throw new MlParamError(`${caller}: paramDistributions' "${k}" must be a non-empty list or a distribution (ml.uniform, ml.logUniform, ml.randint), got ${JSON.stringify(d)}`);
  }
  return keys;
}

/** One candidate: each parameter (in sorted key order) drawn from its list or distribution. */
export function drawParams(distributions: ParamDistributions, next: () => number): Record<string, unknown> {
  return Object.fromEntries(Object.keys(distributions).sort().map((k) => {
    const d = distributions[k]!;
    return [k, isDistribution(d) ? d.sample(next()) : (d as unknown[])[Math.floor(next() * (d as unknown[]).length)]];
  }));
}

/** A small seeded generator of uniform draws in [0, 1) (mulberry32): the same candidates on every machine. */
export function mulberry32(seed: number): () => number {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new MlParamError(`seed must be an integer >= 0, got ${seed}`);
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
