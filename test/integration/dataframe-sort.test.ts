// DataFrame.sort end to end on a LocalCluster (sampled boundaries, a range shuffle, each
// partition sorted), compared with single-process nodejs-polars on the same rows.
//
// Equal means: the same columns and dtypes, the sort columns equal row by row (the order), and
// the rows equal as multisets (Polars' sort is not stable, so rows with equal sort keys may
// come in any order, in a single process as here).
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import pl from 'nodejs-polars';
import { fromPolars, readParquet } from '../../index.js';
import { useCluster } from '../helpers/cluster.js';
import { assertFramesEqual } from '../helpers/frames.js';
import { waitUntil } from '../helpers/wait.js';
import { seededRandom } from '../helpers/random.js';

const FLIGHTS = join(import.meta.dirname, '../../../node_modules/vega-datasets/data/flights-3m.parquet');

/** Sorted alike: the sort columns row by row, and all rows as multisets (sorted by every column first). */
function assertSortedEqual(actual: pl.DataFrame, expected: pl.DataFrame, by: string[]): void {
  assertFramesEqual(actual.select(...by), expected.select(...by), { sortBy: [] });
  assertFramesEqual(actual, expected);
}

/** Polars' own multi-direction sort (DataFrame.sort in nodejs-polars takes one flag for all columns). */
function sortMixed(df: pl.DataFrame, by: string[], descending: boolean[]): pl.DataFrame {
  return df.select(pl.all().sortBy(by, descending));
}

/** Rows with nulls in every sort column, many ties, and a unique id. */
function generated(n: number, seed = 1): pl.DataFrame {
  const r = seededRandom(seed);
  const maybe = <T>(v: T): T | null => (r() < 0.1 ? null : v);
  const day = 86_400_000;
  return pl.DataFrame([
    pl.Series('id', Array.from({ length: n }, (_, i) => i), pl.Int64),
    pl.Series('k', Array.from({ length: n }, () => maybe(Math.floor(r() * 50) - 25)), pl.Int64),
    pl.Series('s', Array.from({ length: n }, () => maybe(`s${Math.floor(r() * 200)}`)), pl.String),
    pl.Series('d', Array.from({ length: n }, () => maybe(new Date(Date.UTC(2020, 0, 1) + Math.floor(r() * 365) * day))), pl.Date),
    pl.Series('x', Array.from({ length: n }, () => maybe(Math.round(r() * 1e6) / 100)), pl.Float64),
  ]);
}

describe('DataFrame.sort on a cluster', () => {
  const fx = useCluster({ workers: 2, threads: 1 });
  const rows = generated(20_000);

  it('sorts ascending by one column with nulls (nulls first)', async () => {
    const frame = fromPolars(rows, { partitions: 4 }).sort('k');
    assert.equal(frame.npartitions, 4);
    const got = await frame.compute({ client: fx.client });
    assertSortedEqual(got, rows.sort('k'), ['k']);
    assert.equal(got.getColumn('k').get(0), null);
  });

  it('sorts descending by a string column, nulls still first', async () => {
    const got = await fromPolars(rows, { partitions: 5 }).sort('s', { descending: true }).compute({ client: fx.client });
    assertSortedEqual(got, rows.sort('s', true), ['s']);
    assert.equal(got.getColumn('s').get(0), null);
  });

  it('sorts by several columns in one direction (dates, ints)', async () => {
    const got = await fromPolars(rows, { partitions: 3 }).sort(['d', 'k']).compute({ client: fx.client });
    assertSortedEqual(got, rows.sort(['d', 'k']), ['d', 'k']);
  });

  it('sorts by several columns with mixed directions', async () => {
    const by = ['k', 's', 'd'];
    const descending = [true, false, true];
    const got = await fromPolars(rows, { partitions: 4 }).sort(by, { descending }).compute({ client: fx.client });
    assertSortedEqual(got, sortMixed(rows, by, descending), by);
  });

  it('sorts after per-partition work (made once, then sampled and split)', async () => {
    const frame = fromPolars(rows, { partitions: 4 })
      .filter(pl.col('x').gt(1000))
      .withColumns(pl.col('x').mul(2).alias('x2'))
      .sort(['x2', 'id'], { descending: [true, false] });
    const expected = sortMixed(rows.filter(pl.col('x').gt(1000)).withColumns(pl.col('x').mul(2).alias('x2')), ['x2', 'id'], [true, false]);
    assertSortedEqual(await frame.compute({ client: fx.client }), expected, ['x2', 'id']);
  });

  it('sorts a skewed key (90% one value): one big partition, the order still right', async () => {
    const r = seededRandom(3);
    const skewed = rows.withColumns(pl.Series('k', Array.from({ length: rows.height }, (_, i) => (r() < 0.9 ? 7 : i % 100)), pl.Int64));
    const got = await fromPolars(skewed, { partitions: 6 }).sort(['k', 's'], { descending: true }).compute({ client: fx.client });
    assertSortedEqual(got, skewed.sort(['k', 's'], true), ['k', 's']);
  });

  it('handles empty partitions, and a result with no rows', async () => {
    // Ordered by id, the filter empties the middle partitions.
    const frame = fromPolars(rows, { partitions: 4 }).filter(pl.col('id').lt(5000).or(pl.col('id').gtEq(15_000)));
    const expected = rows.filter(pl.col('id').lt(5000).or(pl.col('id').gtEq(15_000)));
    assertSortedEqual(await frame.sort('x', { descending: true }).compute({ client: fx.client }), expected.sort('x', true), ['x']);
    const none = await frame.filter(pl.col('id').lt(0)).sort(['k', 's']).compute({ client: fx.client });
    assertSortedEqual(none, rows.head(0), ['k', 's']);
  });

  it('sorts fewer rows than partitions', async () => {
    const three = rows.head(3);
    const got = await fromPolars(three, { partitions: 5 }).sort('x').compute({ client: fx.client });
    assertSortedEqual(got, three.sort('x'), ['x']);
  });

  it('takes the top rows of a sort without a shuffle (sort then head)', async () => {
    const by = ['k', 'id'];
    const got = await fromPolars(rows, { partitions: 4 }).sort(by, { descending: [true, false] }).head(25).compute({ client: fx.client });
    // (k, id) is unique: the top 25 are exactly these rows, in this order.
    assert.deepEqual(got.toRecords(), sortMixed(rows, by, [true, false]).head(25).toRecords());
  });

  describe('flights-3m', () => {
    const path = FLIGHTS;
    let expected: pl.DataFrame;
    before(() => {
      // delay has no nulls: descending delay is ascending -delay, a plain Polars sort.
      expected = pl.readParquet(path).withColumns(pl.lit(0).sub(pl.col('delay')).alias('__neg')).sort(['__neg', 'date']).drop('__neg');
    });

    it('sorts by (delay desc, date) as single-process Polars does', async () => {
      const frame = readParquet(path, { partitionRows: 500_000 }).sort(['delay', 'date'], { descending: [true, false] });
      assert.equal(frame.npartitions, 6);
      assertSortedEqual(await frame.compute({ client: fx.client }), expected, ['delay', 'date']);
    });

    it('keeps the top 10 of the same sort a top-N', async () => {
      const got = await readParquet(path, { partitionRows: 500_000 }).sort(['delay', 'date'], { descending: [true, false] }).head(10).compute({ client: fx.client });
      assertFramesEqual(got.select('delay', 'date'), expected.head(10).select('delay', 'date'), { sortBy: [] });
    });
  });
});

describe('DataFrame.sort past the workers\' memory limit', () => {
  // 40 MiB per worker: values spill past 60 % of it; the rows below are about 50 MB.
  const fx = useCluster({ workers: 2, threads: 1, memoryLimit: 40 * 2 ** 20 });

  it('sorts data bigger than a worker\'s memory by spilling, equal to Polars', async () => {
    const { client } = fx;
    const rows = generated(1_000_000, 5);
    const by = ['s', 'x'];
    const sorted = fromPolars(rows, { partitions: 6 }).sort(by, { descending: [false, true] }).persist({ client });
    await waitUntil(async () => (await client.clusterInfo()).workers.some((w) => w.spilledBytes > 0), 'a worker to spill');
    assertSortedEqual(await sorted.compute({ client }), sortMixed(rows, by, [false, true]), by);
  });
});
