// KMeans on LocalShards against scikit-learn 1.9 on the same 400 rows (5 blobs in 3-D, see
// test/fixtures/ml/linear_reference.py). What "equal" means: scikit-learn's result is its best
// of 50 k-means++ starts, i.e. the optimum of these well-separated blobs; our single k-means||
// start (and 'random' with nInit 10) must reach the same partition, so the inertia agrees to
// 1e-9 relative and the centers, matched up to a permutation, to 1e-9 absolute. A different
// local optimum would differ by whole points and fail by far.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pl from 'nodejs-polars';
import { featureVariances, KMeans } from '../../ml/cluster/kmeans.js';
import { MlParamError, MlDataError, NotFittedError } from '../../ml/errors.js';
import { oversample, smallestKeys } from '../../ml/kernels/cluster.js';
import { closeTo, features, reference, shard, shardsOf } from './ml-models-fixture.js';

const blobs = reference.blobs as { X: number[][] };
const sk = reference.kmeans as { inertia: number; centers: number[][] };
const meta = { features: features(3) };

function assertSameClustering(model: KMeans, what: string): void {
  closeTo([model.inertia!], [sk.inertia], 1e-9, 1, `${what} inertia`);
  assert.equal(model.clusterCenters!.length, 5);
  const unmatched = [...model.clusterCenters!];
  for (const center of sk.centers) {
    const i = unmatched.findIndex((c) => c.every((v, j) => Math.abs(v - center[j]!) <= 1e-9));
    assert.ok(i >= 0, `${what}: scikit-learn's center ${center} is not among ours ${JSON.stringify(model.clusterCenters)}`);
    unmatched.splice(i, 1);
  }
  assert.equal(model.converged, true);
  assert.ok(model.nIter! >= 1 && model.nIter! < 300);
}

test('k-means|| then Lloyd over shards reaches scikit-learn\'s optimum (inertia and centers)', async () => {
  const model = await new KMeans({ nClusters: 5, seed: 1 }).fitShards(shardsOf(blobs, [130, 130, 300]), meta);
  assertSameClustering(model, 'k-means||');
});

test('random init (k rows drawn uniformly over the shards) with nInit 10 reaches the same optimum', async () => {
  const model = await new KMeans({ nClusters: 5, init: 'random', nInit: 10, seed: 3 }).fitShards(shardsOf(blobs, [200]), meta);
  assertSameClustering(model, 'random');
});

test('the same seed gives the same centers, bit for bit', async () => {
  const fit = (): Promise<KMeans> => new KMeans({ nClusters: 5, seed: 7, maxIter: 2 }).fitShards(shardsOf(blobs, [50, 250]), meta);
  const [a, b] = [await fit(), await fit()];
  assert.deepEqual(a.clusterCenters, b.clusterCenters);
  assert.equal(a.inertia, b.inertia);
});

test('predict: the nearest center\'s index as an expression, equal to a direct search', async () => {
  const model = await new KMeans({ nClusters: 5, seed: 1 }).fitShards(shardsOf(blobs, []), meta);
  const rows = blobs.X.slice(0, 40);
  const frame = pl.DataFrame(Object.fromEntries(meta.features.map((n, j) => [n, rows.map((r) => r[j]!)])));
  const got = frame.select(model.predictExpr().alias('prediction')).getColumn('prediction').toArray();
  const want = rows.map((r) => {
    const d = model.clusterCenters!.map((c) => c.reduce((s, v, j) => s + (v - r[j]!) ** 2, 0));
    return d.indexOf(Math.min(...d));
  });
  assert.deepEqual(got, want);
  assert.deepEqual(model.onnxSteps(), [{ kind: 'kmeans', centers: model.clusterCenters }]);
  // One cluster: still one label per row (a bare literal would select a single row).
  const one = await new KMeans({ nClusters: 1 }).fitShards(shardsOf(blobs, []), meta);
  assert.deepEqual(frame.select(one.predictExpr().alias('prediction')).getColumn('prediction').toArray(), rows.map(() => 0));
});

test('k-means|| kernels: oversampling probability l d^2 / cost, uniform keys repeat per shard', () => {
  const s = shard(blobs, 0, 100);
  // A cost this small makes every row's probability >= 1 except the center itself (distance 0).
  const all = oversample({ centers: blobs.X[0]!, oversampling: 1, cost: 1e-9, seed: 1, round: 1 }, s);
  assert.equal(all.length, 99);
  assert.equal(oversample({ centers: blobs.X[0]!, oversampling: 1, cost: Infinity, seed: 1, round: 1 }, s).length, 0);
  const a = smallestKeys({ count: 3, seed: 5, round: 0 }, s);
  assert.deepEqual(smallestKeys({ count: 3, seed: 5, round: 0 }, s), a);
  assert.notDeepEqual(smallestKeys({ count: 3, seed: 6, round: 0 }, s).keys, a.keys);
  assert.ok(a.keys[0]! <= a.keys[1]! && a.keys[1]! <= a.keys[2]!);
});

test('stopping at maxIter is reported; clear errors for bad parameters, too few rows, NaN, not fitted', async () => {
  const short = await new KMeans({ nClusters: 5, maxIter: 1, tol: 0, init: 'random' }).fitShards(shardsOf(blobs, []), meta);
  assert.equal(short.nIter, 1);
  assert.equal(short.converged, false);
  assert.throws(() => new KMeans({ nClusters: 0 }), MlParamError);
  assert.throws(() => new KMeans({ init: 'k-means++' as never }), /init must be one of 'k-means\|\|', 'random'/);
  await assert.rejects(new KMeans({ nClusters: 3 }).fitShards(shardsOf({ X: [[1], [2]] }, []), { features: ['a'] }), /2 rows cannot make 3 clusters/);
  await assert.rejects(new KMeans({ nClusters: 1 }).fitShards(shardsOf({ X: [[1], [NaN]] }, []), { features: ['a'] }), MlDataError);
  assert.throws(() => new KMeans().predictExpr(), NotFittedError);
});

test('the variances that scale tol are centred: a feature far from zero keeps its own', async () => {
  const offset = 1e9;
  const X = [[offset + 1, 1], [offset + 2, 2], [offset + 3, 3], [offset + 4, 4], [offset + 5, 5]];
  const { n, variances } = await featureVariances(shardsOf({ X }, [2, 3]));
  assert.equal(n, 5);
  closeTo(variances, [2, 2], 1e-12, 1, 'variances');
});
