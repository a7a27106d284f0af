// BOHB's candidate generator (Falkner et al., 2018, as HpBandSter's config generator), pure:
// results so far, each a candidate's score after some partialFit calls (its budget), split at
// the largest budget that has enough of them into the best topNPercent and the rest; a product
// kernel density estimate over each (Gaussian for numbers, Aitchison-Aitken for list choices,
// on the unit cube); new candidates are the draws around good results that maximise
// l(x) / g(x). Until a budget has enough results, and for a randomFraction of draws always,
// candidates are drawn from the distributions as a random search would.
import { drawParams, isDistribution, type Distribution, type ParamDistributions } from './params.js';

export interface BohbOptions {
  /** The share (percent) of a budget's results that make the good density. Default 15. */
  topNPercent: number;
  /** Results a density needs at least; default (and minimum) the parameter count + 1. */
  minPointsInModel?: number;
  /** Draws from the good density scored for each new candidate. Default 64. */
  numSamples: number;
  /** The share of candidates drawn at random all the same. Default 1/3. */
  randomFraction: number;
  /** Draws spread this many bandwidths around a good result. Default 3. */
  bandwidthFactor: number;
  /** The smallest bandwidth. Default 1e-3. */
  minBandwidth: number;
}

export const BOHB_DEFAULTS: BohbOptions = { topNPercent: 15, numSamples: 64, randomFraction: 1 / 3, bandwidthFactor: 3, minBandwidth: 1e-3 };

/** A result: a candidate's score after `budget` partialFit calls. */
export interface Observation { params: Record<string, unknown>; budget: number; score: number }

type Dim =
  | { key: string; kind: 'number'; dist: Distribution }
  | { key: string; kind: 'choice'; values: readonly unknown[] };

/** The search space as the model sees it: one dimension per parameter, in sorted key order. */
export function dimensions(distributions: ParamDistributions): Dim[] {
  return Object.keys(distributions).sort().map((key) => {
    const d = distributions[key]!;
    return isDistribution(d) ? { key, kind: 'number', dist: d } : { key, kind: 'choice', values: d as readonly unknown[] };
  });
}

/** A candidate's place in the unit cube (a choice: its index). */
function encode(dims: readonly Dim[], params: Record<string, unknown>): number[] {
  return dims.map((d) => {
    const v = params[d.key];
    if (d.kind === 'choice') return Math.max(0, d.values.findIndex((x) => Object.is(x, v) || JSON.stringify(x) === JSON.stringify(v)));
    const { kind, low, high } = d.dist;
    const x = Number(v);
    if (kind === 'logUniform') return (Math.log(x) - Math.log(low)) / (Math.log(high) - Math.log(low));
    if (kind === 'randint') return (x - low + 0.5) / (high - low);
    return (x - low) / (high - low);
  });
}

function decode(dims: readonly Dim[], u: readonly number[]): Record<string, unknown> {
  return Object.fromEntries(dims.map((d, j) => {
    if (d.kind === 'choice') return [d.key, d.values[u[j]!]];
    return [d.key, d.dist.sample(Math.min(1 - 1e-12, Math.max(0, u[j]!)))];
  }));
}

interface Kde { data: number[][]; bw: number[] }

/**
 * Scott's normal reference bandwidth per dimension (statsmodels' 'normal_reference', numpy's
 * population standard deviation), at least minBandwidth; for a choice at most (c-1)/c, past
 * which Aitchison-Aitken's kernel would favour the other choices (HpBandSter does not cap it).
 */
function kde(dims: readonly Dim[], data: number[][], minBandwidth: number): Kde {
  const n = data.length;
  const bw = dims.map((d, j) => {
    const xs = data.map((row) => row[j]!);
    const mean = xs.reduce((a, b) => a + b, 0) / n;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
    const h = Math.max(minBandwidth, 1.06 * sd * n ** (-1 / (4 + dims.length)));
    return d.kind === 'choice' ? Math.min(h, (d.values.length - 1) / d.values.length) : h;
  });
  return { data, bw };
}

function density(dims: readonly Dim[], model: Kde, x: readonly number[]): number {
  let total = 0;
  for (const row of model.data) {
    let p = 1;
    dims.forEach((d, j) => {
      const h = model.bw[j]!;
      if (d.kind === 'choice') {
        const c = d.values.length;
        p *= c === 1 ? 1 : row[j] === x[j] ? 1 - h : h / (c - 1);
      } else {
        const z = (x[j]! - row[j]!) / h;
        p *= Math.exp(-0.5 * z * z) / (h * Math.sqrt(2 * Math.PI));
      }
    });
    total += p;
  }
  return total / model.data.length;
}

/** A standard normal draw (Box-Muller). */
function normal(next: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
}

/** The good and bad densities, from the largest budget with enough results; undefined before. */
export function fitDensities(dims: readonly Dim[], observations: readonly Observation[], options: BohbOptions): { good: Kde; bad: Kde; budget: number } | undefined {
  const minPoints = Math.max(dims.length + 1, options.minPointsInModel ?? 0);
  const budgets = [...new Set(observations.map((o) => o.budget))].sort((a, b) => b - a);
  for (const budget of budgets) {
    // Best first; NaN (a failed model) counts as the worst.
    const at = observations.filter((o) => o.budget === budget)
      .sort((a, b) => (Number.isNaN(b.score) ? -Infinity : b.score) - (Number.isNaN(a.score) ? -Infinity : a.score));
    const nGood = Math.max(minPoints, Math.floor((options.topNPercent * at.length) / 100));
    const nBad = Math.max(minPoints, Math.floor(((100 - options.topNPercent) * at.length) / 100));
    if (at.length - nGood < minPoints) continue;
    const points = at.map((o) => encode(dims, o.params));
    return { good: kde(dims, points.slice(0, nGood), options.minBandwidth), bad: kde(dims, points.slice(nGood, nGood + nBad), options.minBandwidth), budget };
  }
  return undefined;
}

/** The next candidate: from the densities (when there are enough results and the draw is not a random one), else at random. */
export function proposeCandidate(distributions: ParamDistributions, observations: readonly Observation[], options: BohbOptions, next: () => number): { params: Record<string, unknown>; fromModel: boolean } {
  const dims = dimensions(distributions);
  const model = next() < options.randomFraction ? undefined : fitDensities(dims, observations, options);
  if (!model) return { params: drawParams(distributions, next), fromModel: false };
  let best: number[] | undefined;
  let bestRatio = -Infinity;
  for (let i = 0; i < options.numSamples; i++) {
    const datum = model.good.data[Math.floor(next() * model.good.data.length)]!;
    const x = dims.map((d, j) => {
      const h = model.good.bw[j]!;
      if (d.kind === 'choice') return next() < 1 - h ? datum[j]! : Math.floor(next() * d.values.length);
      // A normal draw around the good result, truncated to the unit interval (redrawn; clipped after 100 tries).
      for (let t = 0; t < 100; t++) {
        const v = datum[j]! + options.bandwidthFactor * h * normal(next);
        if (v >= 0 && v <= 1) return v;
      }
      return Math.min(1, Math.max(0, datum[j]!));
    });
    const ratio = Math.max(density(dims, model.good, x), 1e-32) / Math.max(density(dims, model.bad, x), 1e-32);
    if (ratio > bestRatio) [best, bestRatio] = [x, ratio];
  }
  return { params: decode(dims, best!), fromModel: true };
}
