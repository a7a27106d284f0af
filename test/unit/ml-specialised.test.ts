// The generated (unrolled) GLM and KMeans loops give the same bits as the plain loops they
// replace: each kernel is run on small shapes (generated code) and on shapes past the unroll
// limit (the generic loops), and both are checked, to the bit, against the straightforward
// loop written here in the kernels' order of arithmetic. The scalers' shard transforms give the
// bits of their Polars expressions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { glmSums } from '../../ml/kernels/linear.js';
import { lloydSums, nearestCounts, oversample, shardRandom } from '../../ml/kernels/cluster.js';
import { nearestLoop, singleScoreLoop } from '../../ml/kernels/specialised.js';
import { runDeriveKernel } from '../../ml/kernels/derive.js';
import type { Shard } from '../../ml/core/matrix.js';
import pl from 'nodejs-polars';
import { LocalShards } from '../../ml/core/shards.js';
import { MinMaxScaler } from '../../ml/preprocessing/min-max-scaler.js';
import { StandardScaler } from '../../ml/preprocessing/standard-scaler.js';

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function randomShard(rows: number, cols: number, seed: number, labels: (r: () => number) => number): Shard {
  const r = lcg(seed);
  const data = Float64Array.from({ length: rows * cols }, () => (r() - 0.5) * 6);
  return { x: { rows, cols, data }, y: Float64Array.from({ length: rows }, () => labels(r)) };
}

/** The plain loop: loss and gradient of the binomial or Poisson GLM. */
function glmReference(shard: Shard, w: number[], fitIntercept: boolean, binomial: boolean): { loss: number; grad: number[] } {
  const { rows, cols: p, data } = shard.x;
  const grad = new Array<number>(w.length).fill(0);
  let loss = 0;
  for (let i = 0; i < rows; i++) {
    let z = fitIntercept ? w[p]! : 0;
    for (let j = 0; j < p; j++) z += w[j]! * data[i * p + j]!;
    const yi = shard.y![i]!;
    let r: number;
    if (binomial) {
      const e = Math.exp(-Math.abs(z));
      loss += (z > 0 ? z : 0) + Math.log1p(e) - yi * z;
      r = (z >= 0 ? 1 / (1 + e) : e / (1 + e)) - yi;
    } else {
      const mu = Math.exp(z);
      loss += mu - yi * z;
      r = mu - yi;
    }
    for (let j = 0; j < p; j++) grad[j]! += r * data[i * p + j]!;
    if (fitIntercept) grad[p]! += r;
  }
  return { loss, grad };
}

/** The plain loop: each row's nearest center (first on ties) and the squared distance. */
function nearestReference(shard: Shard, centers: number[]): Array<[number, number]> {
  const { rows, cols: p, data } = shard.x;
  const k = centers.length / p;
  const out: Array<[number, number]> = [];
  for (let i = 0; i < rows; i++) {
    let best = 0;
    let bestD = Infinity;
    for (let c = 0; c < k; c++) {
      let d = 0;
      for (let j = 0; j < p; j++) d += (data[i * p + j]! - centers[c * p + j]!) ** 2;
      if (d < bestD) { bestD = d; best = c; }
    }
    out.push([best, bestD]);
  }
  return out;
}

// 3 and 7 features are unrolled; 600 features are past the limit (the generic loops).
for (const p of [3, 7, 600]) {
  test(`GLM loss and gradient over ${p} features equal the plain loop to the bit`, () => {
    assert.equal(singleScoreLoop(p, true, 'binomial') === undefined, p > 512);
    const shard = randomShard(300, p, p, (r) => (r() < 0.3 ? 1 : 0));
    const counts = randomShard(300, p, p + 1, (r) => Math.floor(r() * 4));
    const r = lcg(7);
    for (const fitIntercept of [true, false]) {
      const w = Array.from({ length: p + (fitIntercept ? 1 : 0) }, () => (r() - 0.5) / Math.sqrt(p));
      for (const [family, data] of [['binomial', shard], ['poisson', counts]] as const) {
        const got = glmSums({ family, w, k: 1, fitIntercept, hessian: false }, data);
        const want = glmReference(data, w, fitIntercept, family === 'binomial');
        assert.equal(got.loss, want.loss, `${family} loss (fitIntercept ${fitIntercept})`);
        assert.deepEqual(got.grad, want.grad, `${family} gradient (fitIntercept ${fitIntercept})`);
      }
    }
  });
}

for (const [p, k] of [[2, 3], [4, 8], [3, 33], [40, 20]] as const) {
  test(`KMeans passes over ${p} features and ${k} centers equal the plain loop to the bit`, () => {
    assert.equal(nearestLoop(p, k, 'lloyd') === undefined, p * k > 512);
    const shard = randomShard(500, p, p * k, () => 0);
    const r = lcg(k);
    const centers = Array.from({ length: k * p }, () => (r() - 0.5) * 6);
    // Two equal centers: ties go to the first.
    for (let j = 0; j < p; j++) centers[p + j] = centers[j]!;
    const nearest = nearestReference(shard, centers);
    const sums = new Array<number>(k * p).fill(0);
    const counts = new Array<number>(k).fill(0);
    let inertia = 0;
    nearest.forEach(([c, d], i) => {
      counts[c]! += 1;
      inertia += d;
      for (let j = 0; j < p; j++) sums[c * p + j]! += shard.x.data[i * p + j]!;
    });
    assert.equal(counts[1], 0, 'the tied second center gets no row');
    assert.deepEqual(lloydSums({ centers }, shard), { sums, counts, inertia });
    assert.deepEqual(nearestCounts({ centers }, shard), { counts, cost: inertia });
    const params = { centers, oversampling: 2 * k, cost: inertia / 3, seed: 11, round: 1 };
    // One draw per row, in order, from the shard's seeded stream.
    const random = shardRandom(params.seed, params.round, shard.x);
    const want = nearest.flatMap(([, d], i) => (random() < (params.oversampling * d) / params.cost ? [Array.from(shard.x.data.subarray(i * p, (i + 1) * p))] : []));
    assert.ok(want.length > 0 && want.length < shard.x.rows, `${want.length} rows drawn`);
    assert.deepEqual(oversample(params, shard), want);
  });
}

test('the scalers applied to shards give the bits of their Polars expressions', async () => {
  const rows = 400;
  const source = randomShard(rows, 3, 9, () => 0);
  source.x.data[5] = NaN;
  source.x.data[7] = -0;
  const columns = ['a', 'b', 'c'];
  const frame = pl.DataFrame(Object.fromEntries(columns.map((c, j) => [c, Float64Array.from({ length: rows }, (_, i) => source.x.data[i * 3 + j]!)])));
  const meta = { features: columns };
  for (const scaler of [new StandardScaler(), new StandardScaler({ withMean: false }), new StandardScaler({ withStd: false }), new MinMaxScaler({ featureRange: [-1, 3] })]) {
    await scaler.fitShards(new LocalShards([source]), meta);
    const { kernel, params } = scaler.shardTransform();
    const got = runDeriveKernel(kernel, params, source, 0).x.data;
    const want = frame.select(...scaler.outputExprs());
    columns.forEach((c, j) => {
      const values = want.getColumn(c).toArray() as number[];
      values.forEach((v, i) => assert.ok(Object.is(got[i * 3 + j], v), `${scaler.constructor.name} ${JSON.stringify(scaler.getParams())} row ${i} ${c}: ${got[i * 3 + j]} vs ${v}`));
    });
  }
});
