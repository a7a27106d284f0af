// KMeans over shards: k-means|| initialisation (Bahmani et al. 2012: a few rounds that each
// oversample rows far from the current candidates, on the workers, then weighted k-means++ on
// the client) or k random rows, then Lloyd iterations whose per-center sums and counts are
// summed over the shards. tol is relative to the features' mean variance, as scikit-learn's.
import pl from 'nodejs-polars';
import type { DataFrame } from '../../dataframe/frame.js';
import type { Estimator, FitOptions, Target, ShardFitter, ShardInput } from '../core/estimator.js';
import type { Shards } from '../core/shards.js';
import { toShards, type ShardsMeta } from '../core/to-shards.js';
import type { FittedStep, OnnxExportable } from '../onnx/fitted.js';
import type { KeyedRows, LloydSums } from '../kernels/cluster.js';
import { featureSpread } from '../preprocessing/spread.js';
import { MlParamError, MlDataError } from '../errors.js';
import { constantExpr, fitted, knownParams, nonNegative, oneOf, positiveInteger, requireFeatures } from '../linear/common.js';
import { seededRandom } from './random.js';
import { squaredDistance, weightedKMeansPlusPlus, weightedLloyd } from './weighted-kmeans.js';

export interface KMeansParams {
  nClusters: number;
  init: 'k-means||' | 'random';
  /** Initialisations tried; the one with the lowest inertia is kept (scikit-learn's n_init). */
  nInit: number;
  maxIter: number;
  tol: number;
  seed: number;
  /** k-means|| rounds of oversampling, each drawing about 2 * nClusters rows. */
  initRounds: number;
}

const DEFAULTS: KMeansParams = { nClusters: 8, init: 'k-means||', nInit: 1, maxIter: 300, tol: 1e-4, seed: 0, initRounds: 2 };
const NAME = 'KMeans';

export class KMeans implements Estimator, OnnxExportable, ShardFitter {
  readonly shardInput: ShardInput = { y: 'refused', classify: false };
  readonly params: Readonly<KMeansParams>;
  clusterCenters: number[][] | undefined;
  /** Sum of squared distances of the rows to their nearest center. */
  inertia: number | undefined;
  nIter: number | undefined;
  /** false when maxIter Lloyd iterations ran out before the centers settled. */
  converged: boolean | undefined;
  featureNames: string[] | undefined;

  constructor(params: Partial<KMeansParams> = {}) {
    knownParams(NAME, params, DEFAULTS);
    const p = { ...DEFAULTS, ...params };
    positiveInteger(NAME, 'nClusters', p.nClusters);
    oneOf(NAME, 'init', p.init, ['k-means||', 'random']);
    positiveInteger(NAME, 'nInit', p.nInit);
    positiveInteger(NAME, 'maxIter', p.maxIter);
    positiveInteger(NAME, 'initRounds', p.initRounds);
    nonNegative(NAME, 'tol', p.tol);
    if (!Number.isInteger(p.seed)) throw new MlParamError(`${NAME}: seed must be an integer, got ${p.seed}`);
    this.params = p;
  }

  getParams(): Record<string, unknown> {
    return { ...this.params };
  }

  withParams(params: Record<string, unknown>): this {
    return new KMeans({ ...this.params, ...params }) as this;
  }

  /** y is not used (as scikit-learn's); give none. */
  async fit(X: DataFrame, y?: Target, options: FitOptions = {}): Promise<this> {
    if (y !== undefined) throw new MlDataError(`${NAME}: fit takes no y (clustering is unsupervised)`);
    const { shards, meta } = await toShards(X, undefined, { ...options, caller: NAME });
    try {
      return await this.fitShards(shards, meta);
    } finally {
      await shards.release();
    }
  }

  async fitShards(shards: Shards, meta: ShardsMeta): Promise<this> {
    const k = this.params.nClusters;
    const { n, variances } = await featureVariances(shards);
    if (n < k) throw new MlDataError(`${NAME}: ${n} rows cannot make ${k} clusters (nClusters)`);
    if (!variances.every(Number.isFinite)) throw new MlDataError(`${NAME}: the features hold NaN or infinite values (missing values?); impute them first (ml.SimpleImputer)`);
    const tol = this.params.tol * (variances.reduce((a, b) => a + b, 0) / variances.length);
    const random = seededRandom(this.params.seed);
    let best: { centers: number[][]; inertia: number; nIter: number; converged: boolean } | undefined;
    for (let run = 0; run < this.params.nInit; run++) {
      const seed = Math.floor(random() * 2 ** 31);
      const start = this.params.init === 'random' ? await randomRows(shards, k, seed, 0) : await kMeansParallel(shards, k, seed, this.params.initRounds);
      const result = await lloyd(shards, start, this.params.maxIter, tol);
      if (!best || result.inertia < best.inertia) best = result;
    }
    Object.assign(this, { clusterCenters: best!.centers, inertia: best!.inertia, nIter: best!.nIter, converged: best!.converged, featureNames: [...meta.features] });
    return this;
  }

  /** Squared distance to each center, one expression per center. */
  distanceExprs(): pl.Expr[] {
    const centers = fitted(NAME, this.clusterCenters, 'distanceExprs');
    return centers.map((c) => this.featureNames!.reduce<pl.Expr>((acc, f, j) => acc.add(pl.col(f).cast(pl.Float64).sub(pl.lit(c[j]!)).pow(2)), pl.lit(0)));
  }

  /** The index of the nearest center (the first on ties, as scikit-learn's labels). */
  predictExpr(): pl.Expr {
    const d = this.distanceExprs();
    const last = d.length - 1;
    if (last === 0) return constantExpr(this.featureNames![0]!, 0);
    const nearest = (i: number): pl.Expr => d.slice(i + 1).map((e) => d[i]!.ltEq(e)).reduce((a, b) => a.and(b));
    let chain = pl.when(nearest(0)).then(pl.lit(0));
    for (let i = 1; i < last; i++) chain = chain.when(nearest(i)).then(pl.lit(i)) as never;
    return chain.otherwise(pl.lit(last)).cast(pl.Float64);
  }

  /** One column, `prediction`: each row's cluster index. */
  predict(X: DataFrame): DataFrame {
    fitted(NAME, this.clusterCenters);
    requireFeatures(NAME, X, this.featureNames!);
    return X.select(this.predictExpr().alias('prediction'));
  }

  onnxSteps(): FittedStep[] {
    const centers = fitted(NAME, this.clusterCenters, 'onnxSteps');
    return [{ kind: 'kmeans', centers: centers.map((c) => [...c]) }];
  }
}

/** k rows uniformly at random, without replacement: those with the smallest random keys over all shards. */
async function randomRows(shards: Shards, count: number, seed: number, round: number): Promise<number[][]> {
  const parts = await shards.map<KeyedRows>('cluster/smallest-keys', { count, seed, round });
  const keyed = parts.flatMap((part) => part.rows.map((row, i) => [part.keys[i]!, row] as const));
  return keyed.sort((a, b) => a[0] - b[0]).slice(0, count).map(([, row]) => row);
}

async function kMeansParallel(shards: Shards, k: number, seed: number, rounds: number): Promise<number[][]> {
  const candidates = await randomRows(shards, 1, seed, 0);
  for (let round = 1; round <= rounds; round++) {
    const { cost } = await shards.sum<{ counts: number[]; cost: number }>('cluster/nearest-counts', { centers: candidates.flat() });
    if (!(cost > 0)) break; // every row is a candidate already
    const drawn = await shards.map<number[][]>('cluster/oversample', { centers: candidates.flat(), oversampling: 2 * k, cost, seed, round });
    candidates.push(...drawn.flat());
  }
  const { counts } = await shards.sum<{ counts: number[]; cost: number }>('cluster/nearest-counts', { centers: candidates.flat() });
  if (candidates.length <= k) {
    // Fewer distinct far rows than clusters: fill up with random rows.
    candidates.push(...(await randomRows(shards, k - candidates.length + 1, seed, rounds + 1)));
    return candidates.slice(0, k);
  }
  const random = seededRandom(seed);
  return weightedLloyd(candidates, counts, weightedKMeansPlusPlus(candidates, counts, k, random));
}

async function lloyd(shards: Shards, start: number[][], maxIter: number, tol: number): Promise<{ centers: number[][]; inertia: number; nIter: number; converged: boolean }> {
  let centers = start;
  for (let it = 1; it <= maxIter; it++) {
    const sums = await shards.sum<LloydSums>('cluster/lloyd', { centers: centers.flat() });
    const p = centers[0]!.length;
    // A center no row is nearest to stays where it is.
    const next = centers.map((c, i) => (sums.counts[i]! > 0 ? c.map((_, j) => sums.sums[i * p + j]! / sums.counts[i]!) : c));
    const shift = next.reduce((s, c, i) => s + squaredDistance(c, centers[i]!), 0);
    centers = next;
    if (shift <= tol || it === maxIter) {
      // The inertia of the final centers (with the labels they give), as scikit-learn reports it.
      const final = await shards.sum<LloydSums>('cluster/lloyd', { centers: centers.flat() });
      return { centers, inertia: final.inertia, nIter: it, converged: shift <= tol };
    }
  }
  throw new Error('internal: maxIter must be >= 1');
}

/**
 * Rows and per-feature (population) variances, centred (spread.ts): sklearn scales tol by their
 * mean. NaN where a feature has missing values (KMeans refuses them).
 */
export async function featureVariances(shards: Shards): Promise<{ n: number; variances: number[] }> {
  const n = shards.nRows;
  if (n === 0) return { n, variances: new Array<number>(shards.nFeatures).fill(0) };
  const { count, variance } = await featureSpread(shards);
  return { n, variances: variance.map((v, j) => (count[j] === n ? v : NaN)) };
}
