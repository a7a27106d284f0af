// Fitted models of the ml-models part scoring a DataFrame on a cluster: predict, predictProba
// and score are selects of Polars expressions that run in each partition's plan on the workers,
// empty partitions included (dask-ml's ParallelPostFit fails on those). The models are fitted on
// LocalShards here, so this needs no toShards; the values are checked against the same
// expressions evaluated in this process, and against the fitted numbers directly.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pl from 'nodejs-polars';
import { fromPolars, ml } from '../../index.js';
import { useCluster } from '../helpers/cluster.js';
import { closeTo, features, reference, shardsOf } from '../unit/ml-models-fixture.js';

describe('ml-models predict on a cluster', () => {
  const fx = useCluster({ workers: 2, threads: 1 });
  const names = features(4);
  const rows: number[][] = reference.multi.X.slice(0, 30);
  const local = pl.DataFrame({ ...Object.fromEntries(names.map((n, j) => [n, rows.map((r) => r[j]!)])), y: reference.multi.y.slice(0, 30) });
  // Three partitions of 10 rows; the filter empties the middle one.
  const frame = fromPolars(local.withColumns(pl.Series('part', rows.map((_, i) => Math.floor(i / 10)))), { partitions: 3 }).filter(pl.col('part').neq(1));
  const kept = local.filter(pl.Series(rows.map((_, i) => Math.floor(i / 10) !== 1)));

  it('ParallelPostFit(LogisticRegression): labels and probabilities per partition, the empty one included', async () => {
    const classes = [1, 3, 5];
    const model = await new ml.LogisticRegression().fitShards(shardsOf(reference.multi, [150], classes), { features: names, classes });
    const wrapped = new ml.ParallelPostFit(model);
    assert.equal(frame.npartitions, 3);
    const proba = await wrapped.predictProba(frame).compute({ client: fx.client });
    assert.equal(proba.height, 20);
    const expected = kept.select(...model.probaExprs().map((e, k) => e.alias(`proba_${k}`)));
    // Equal to the last bits or so: the workers' Polars may fuse the arithmetic differently.
    assert.deepEqual(proba.columns, ['proba_0', 'proba_1', 'proba_2']);
    for (const c of proba.columns) closeTo(proba.getColumn(c).toArray() as number[], expected.getColumn(c).toArray() as number[], 1e-12, 1, c);
    const labels = (await wrapped.predict(frame).compute({ client: fx.client })).getColumn('prediction').toArray() as number[];
    const direct = kept.rows().map((r) => {
      const z = model.coef!.map((c, k) => c.reduce((s, v, j) => s + v * (r[j] as number), model.intercept![k]!));
      return classes[z.indexOf(Math.max(...z))];
    });
    assert.deepEqual(labels, direct);
    const accuracy = await wrapped.score(frame, 'y', { client: fx.client });
    assert.equal(accuracy, labels.filter((l, i) => l === kept.getColumn('y').get(i)).length / labels.length);
  });

  it('KMeans labels and LinearRegression R2 over the same partitions', async () => {
    const kmeans = await new ml.KMeans({ nClusters: 3 }).fitShards(shardsOf({ X: reference.multi.X }, [100]), { features: names });
    const labels = await kmeans.predict(frame).compute({ client: fx.client });
    assert.deepEqual(labels.toRecords(), kept.select(kmeans.predictExpr().alias('prediction')).toRecords());
    const linear = await new ml.LinearRegression().fitShards(shardsOf(reference.multi, []), { features: names });
    const r2 = await linear.score(frame, 'y', { client: fx.client });
    const y = kept.getColumn('y').toArray() as number[];
    const yhat = kept.select(linear.predictExpr().alias('p')).getColumn('p').toArray() as number[];
    const mean = y.reduce((a, b) => a + b) / y.length;
    const want = 1 - y.reduce((s, v, i) => s + (v - yhat[i]!) ** 2, 0) / y.reduce((s, v) => s + (v - mean) ** 2, 0);
    assert.ok(Math.abs(r2 - want) < 1e-9, `R2 ${r2} vs ${want}`);
  });
});
