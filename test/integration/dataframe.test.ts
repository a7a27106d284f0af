// The DataFrame on a LocalCluster, checked against single-process nodejs-polars on the same
// data: generated data with nulls, skewed keys, over a million groups and empty partitions,
// and flights-3m. One cluster serves the suite; the worker-kill test has its own.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pl from 'nodejs-polars';
import { ENTRY_KIND, fromPolars, readParquet, type DataFrame } from '../../index.js';
import { useCluster, withCluster } from '../helpers/cluster.js';
import { assertFramesEqual } from '../helpers/frames.js';
import { seededRandom } from '../helpers/random.js';
import { waitUntil } from '../helpers/wait.js';

const FLIGHTS = join(import.meta.dirname, '../../../node_modules/vega-datasets/data/flights-3m.parquet');
const ROWS = 1_200_000;

/** Deterministic data: ids, ~1.1 M distinct keys, a key where 90 % of rows share one value, floats and ints with nulls. */
function generated(rows = ROWS): pl.DataFrame {
  const rand = seededRandom(12345);
  const id = new Array<number>(rows), many = new Array<number>(rows), skew = new Array<string | null>(rows);
  const x = new Array<number | null>(rows), n = new Array<number | null>(rows);
  for (let i = 0; i < rows; i++) {
    id[i] = i;
    many[i] = Math.floor(rand() * rows * 4);
    const r = rand();
    skew[i] = r < 0.9 ? 'hot' : r < 0.95 ? null : `k${i % 1000}`;
    x[i] = rand() < 0.1 ? null : Math.round(rand() * 1e6) / 100;
    n[i] = rand() < 0.1 ? null : Math.floor(rand() * 100);
  }
  return pl.DataFrame([
    pl.Series('id', id, pl.Int64), pl.Series('many', many, pl.Int64), pl.Series('skew', skew, pl.String),
    pl.Series('x', x, pl.Float64), pl.Series('n', n, pl.Int32),
  ]);
}

describe('DataFrame on a cluster, against single-process Polars', () => {
  const fixture = useCluster({ workers: 2, threads: 1 });
  const local = generated();
  let dir = '';
  let files: DataFrame;
  let frames: DataFrame;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kubedask-df-'));
    // Three files, read in partitions of 150,000 rows.
    for (let i = 0; i < 3; i++) local.slice(i * 400_000, 400_000).writeParquet(join(dir, `part-${i}.parquet`));
    files = readParquet(join(dir, 'part-*.parquet'), { partitionRows: 150_000 });
    frames = fromPolars(local, { partitions: 5 });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const run = (df: DataFrame) => df.compute({ client: fixture.client });

  it('reads Parquet files in row ranges: the same rows in the same order', async () => {
    assert.equal(files.npartitions, 9);
    assertFramesEqual(await run(files), local, { sortBy: [] });
  });

  it('fuses filter, withColumns, select, drop and rename into one task per partition, with empty partitions', async () => {
    const derive = (df: pl.DataFrame | DataFrame) => (df as DataFrame)
      .filter(pl.col('id').lt(500_000).and(pl.col('x').isNotNull()))
      .withColumns(pl.col('x').mul(2).alias('x2'), pl.when(pl.col('n').gt(50)).then(pl.lit('big')).otherwise(pl.lit('small')).alias('size'))
      .drop('many')
      .rename({ skew: 'k' })
      .select('id', 'k', 'x2', 'size');
    const ours = derive(files);
    assert.match(ours.explain(), /Map \(fused/);
    // Partitions past row 500,000 come out empty.
    assertFramesEqual(await run(ours), derive(local as never) as unknown as pl.DataFrame, { sortBy: [] });
  });

  it('float literals reach the workers unchanged: an equality filter on computed values finds every row', async () => {
    // Values whose 17-digit form Polars' JSON parser would read one ulp off (exact-json.ts).
    const values = Array.from({ length: 200 }, (_, i) => Math.sqrt(i + 2) / 7);
    const df = fromPolars(pl.DataFrame({ v: values }), { partitions: 4 });
    const found = await run(df.filter(pl.col('v').isIn(pl.lit(values.slice(0, 180))).or(values.slice(180).map((v) => pl.col('v').eq(v)).reduce((a, b) => a.or(b)))));
    assert.equal(found.height, 200);
    const scaled = await run(df.select(pl.col('v').mul(values[3]!).add(values[5]!).alias('w')));
    assert.deepEqual(scaled.getColumn('w').toArray(), values.map((v) => v * values[3]! + values[5]!));
  });

  const decomposable = () => [
    pl.len().alias('rows'), pl.col('x').count().alias('xs'), pl.col('x').sum().alias('sum'), pl.col('n').min().alias('min'),
    pl.col('n').max().alias('max'), pl.col('x').mean().alias('mean'), pl.col('x').std().alias('std'), pl.col('x').var().alias('var'),
    pl.col('id').first().alias('first'), pl.col('id').last().alias('last'), pl.col('n').cast(pl.Float64).mul(2).mean().alias('expr_mean'),
  ];

  it('aggregates decomposable functions in two phases over skewed keys and nulls', async () => {
    const ours = await run(files.groupBy('skew').agg(...decomposable()));
    assertFramesEqual(ours, local.groupBy('skew').agg(...decomposable()), { sortBy: ['skew'] });
  });

  it('aggregates over a million groups, in one partition and in several (by hash)', async () => {
    const aggs = () => [pl.len().alias('rows'), pl.col('x').mean().alias('mean')];
    const expected = local.groupBy('many').agg(...aggs());
    assert.ok(expected.height > 1_000_000, `${expected.height} groups`);
    assertFramesEqual(await run(frames.groupBy('many').agg(...aggs())), expected, { sortBy: ['many'] });
    const spread = frames.groupBy('many').partitions(4).agg(...aggs());
    assert.equal(spread.npartitions, 4);
    assertFramesEqual(await run(spread), expected, { sortBy: ['many'] });
  });

  it('aggregates what does not decompose (nUnique, median) after a shuffle by the keys', async () => {
    const aggs = () => [pl.col('n').nUnique().alias('distinct'), pl.col('x').median().alias('median'), pl.len().alias('rows')];
    assertFramesEqual(await run(files.groupBy('skew').agg(...aggs())), local.groupBy('skew').agg(...aggs()), { sortBy: ['skew'] });
  });

  it('aggregates without keys, counts and describes', async () => {
    const totals = () => [pl.col('x').sum().alias('s'), pl.col('n').max().alias('m'), pl.col('x').std().alias('sd'), pl.len().alias('rows')];
    assertFramesEqual(await run(files.select(...totals())), local.select(...totals()));
    assert.throws(() => files.withColumns(pl.col('x').sub(pl.col('x').mean()).alias('centered')), /mean\(\) looks across rows/);
    assert.throws(() => files.filter(pl.col('id').cumSum().gt(10)), /CumSum looks across rows/);
    const count = await frames.count({ client: fixture.client });
    assert.deepEqual(count.toRecords()[0], Object.fromEntries(local.columns.map((c) => [c, local.height - local.getColumn(c).nullCount()])));
    const described = await frames.describe({ client: fixture.client });
    const mean = described.filter(pl.col('statistic').eq(pl.lit('mean'))).getColumn('x').get(0) as number;
    assert.ok(Math.abs(mean - (local.getColumn('x').mean() as number)) < 1e-6, `mean ${mean}`);
    const std = described.filter(pl.col('statistic').eq(pl.lit('std'))).getColumn('x').get(0) as number;
    assert.ok(Math.abs(std - (local.select(pl.col('x').std()).getColumn('x').get(0) as number)) < 1e-6, `std ${std}`);
  });

  it('unique keeps the first row of each subset value, as a single process does', async () => {
    assertFramesEqual(await run(files.unique('skew')), local.unique({ subset: 'skew', keep: 'first', maintainOrder: true }), { sortBy: ['skew'] });
    assertFramesEqual(await run(files.select('skew', 'n').unique()), local.select('skew', 'n').unique(), {});
  });

  it('head and repartition keep row order; persist keeps partitions on the workers', async () => {
    assertFramesEqual(await run(files.head(7)), local.head(7), { sortBy: [] });
    const more = files.repartition({ partitions: 20 });
    assert.equal(more.npartitions, 20);
    assertFramesEqual(await run(more), local, { sortBy: [] });
    assertFramesEqual(await run(files.repartition({ partitions: 2 })), local, { sortBy: [] });
    const byKey = files.repartition({ by: 'skew', partitions: 3 });
    assertFramesEqual(await run(byKey), local, { sortBy: ['id'] });
    const kept = files.filter(pl.col('n').gt(90)).persist({ client: fixture.client });
    assert.equal(kept.npartitions, 9);
    const expected = local.filter(pl.col('n').gt(90));
    assertFramesEqual(await run(kept), expected, { sortBy: [] });
    assertFramesEqual(await run(kept.groupBy('skew').agg(pl.len().alias('rows'))), expected.groupBy('skew').agg(pl.len().alias('rows')), { sortBy: ['skew'] });
  });

  it('computes per-origin statistics over flights-3m as Polars does', async () => {
    const query = (df: pl.LazyDataFrame | DataFrame) => (df as DataFrame)
      .filter(pl.col('delay').isNotNull())
      .withColumns(pl.col('delay').gt(15).alias('late'))
      .groupBy('origin')
      .agg(pl.len().alias('flights'), pl.col('delay').mean().alias('mean_delay'), pl.col('delay').std().alias('sd'), pl.col('late').mean().alias('late_share'));
    const ours = readParquet(FLIGHTS, { columns: ['delay', 'origin'] });
    const expected = await (query(pl.scanParquet(FLIGHTS) as never) as unknown as pl.LazyDataFrame).collect();
    assertFramesEqual(await run(query(ours)), expected, { sortBy: ['origin'] });
  });
});

describe('DataFrame when a worker dies', () => {
  it('a worker killed with SIGKILL during a shuffle: the query still returns the right result', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubedask-df-kill-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    await withCluster({ workers: 3, threads: 1 }, async (cluster, client) => {
      // From a file, so that what the dead worker held can be computed again.
      const local = generated(600_000);
      local.writeParquet(join(dir, 'data.parquet'));
      const aggs = () => [pl.len().alias('rows'), pl.col('x').median().alias('median')];
      const query = readParquet(join(dir, 'data.parquet'), { partitionRows: 50_000 }).groupBy('many').partitions(6).agg(...aggs());
      const result = query.compute({ client });
      // Kill a worker once it holds some of the shuffle's pieces and work is still going on.
      let victim = '';
      await waitUntil(async () => {
        const info = await client.clusterInfo();
        const holder = info.workers.find((w) => w.inMemory > 1 && w.processing > 0) ?? info.workers.find((w) => w.inMemory > 1);
        victim = holder?.name ?? '';
        return victim !== '';
      }, 'a worker to hold shuffle pieces', 60_000);
      process.kill(cluster.workerPids[victim]!, 'SIGKILL');
      assertFramesEqual(await result, local.groupBy('many').agg(...aggs()), { sortBy: ['many'] });
      assert.ok((await client.clusterInfo()).workers.every((w) => w.name !== victim), 'the killed worker is gone');
    });
  });

  it('a worker killed once the shuffle\'s barrier stands: its splits are recomputed, the barrier runs again, the result is right', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubedask-df-kill-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    await withCluster({ workers: 3, threads: 1 }, async (cluster, client) => {
      const local = generated(1_200_000);
      local.writeParquet(join(dir, 'data.parquet'));
      const aggs = () => [pl.len().alias('rows'), pl.col('x').median().alias('median'), pl.col('n').nUnique().alias('distinct')];
      const query = readParquet(join(dir, 'data.parquet'), { partitionRows: 100_000 }).groupBy('many').partitions(12).agg(...aggs());
      const result = query.compute({ client });
      const barrierRuns = async () => {
        const h = await client.history();
        const g = h.groups.indexOf('aggregate-barrier');
        return h.stream.group.filter((x, i) => x === g && h.stream.kind[i] === ENTRY_KIND.compute).length;
      };
      await waitUntil(async () => (await barrierRuns()) >= 1, 'the barrier to stand', 60_000);
      const info = await client.clusterInfo();
      const victim = info.workers.find((w) => w.inMemory > 0)!.name;
      process.kill(cluster.workerPids[victim]!, 'SIGKILL');
      assertFramesEqual(await result, local.groupBy('many').agg(...aggs()), { sortBy: ['many'] });
      // 12 takes of 100,000 rows each on 3 threads outlast the two calls above: some were left.
      assert.ok((await barrierRuns()) >= 2, 'the barrier ran again, with receipts for the recomputed splits');
    });
  });
});

describe('DataFrame past the workers\' memory limit', () => {
  // 24 MiB per worker: values spill past 60 % of it (14.4 MiB); the data below are about 45 MB.
  const fixture = useCluster({ workers: 2, threads: 1, memoryLimit: 24 * 2 ** 20 });
  const local = generated(1_200_000);

  it('keeps shuffled partitions by spilling them to disk, and reads them back equal', async () => {
    const { client } = fixture;
    const spread = fromPolars(local, { partitions: 6 }).repartition({ by: 'many', partitions: 8 }).persist({ client });
    await waitUntil(async () => (await client.clusterInfo()).workers.some((w) => w.spilledBytes > 0), 'a worker to spill');
    assertFramesEqual(await spread.compute({ client }), local, { sortBy: ['id'] });
    const aggs = () => [pl.len().alias('rows'), pl.col('x').sum().alias('sum')];
    assertFramesEqual(await spread.groupBy('skew').agg(...aggs()).compute({ client }), local.groupBy('skew').agg(...aggs()), { sortBy: ['skew'] });
  });
});

describe('DataFrame join past the workers\' memory limit', () => {
  // A cluster of its own: on a shared one, the spill gauges would also fall as the frames of
  // earlier tests are let go, hiding this join's spills.
  const fixture = useCluster({ workers: 2, threads: 1, memoryLimit: 24 * 2 ** 20 });
  const local = generated(1_200_000);

  it('joins two sides bigger than a worker\'s memory limit by shuffling and spilling, equal to Polars', async () => {
    const { client } = fixture;
    const right = local.select(pl.col('id'), pl.col('x').alias('rx'), pl.col('skew').alias('rskew'));
    // Persisted frames have no known size: both sides are shuffled.
    const joined = fromPolars(local, { partitions: 6 }).persist({ client })
      .join(fromPolars(right, { partitions: 5 }).persist({ client }), { on: 'id', how: 'inner' })
      .persist({ client });
    await waitUntil(async () => (await spilledNow(client)) > 0, 'the join to spill');
    assertFramesEqual(await joined.compute({ client }), local.join(right, { on: 'id', how: 'inner' }), { sortBy: ['id'] });
  });
});

async function spilledNow(client: import('../../index.js').Client): Promise<number> {
  return (await client.clusterInfo()).workers.reduce((n, w) => n + w.spilledBytes, 0);
}
