// The sort kernels on Polars frames in this process (no cluster). rangeBuckets: each row's
// bucket is the number of boundary rows that sort strictly before it, in Polars' order (nulls
// first whatever the direction), so the buckets (each sorted), in order, are the sort.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pl from 'nodejs-polars';
import { rangeBuckets } from '../../dataframe/kernels/range-buckets.js';
import { WEIGHT_COLUMN, boundaries as boundariesKernel, pickBoundaries, sample, sortLazy } from '../../dataframe/kernels/sort.js';
import { Encoding } from '../../protocol/value-codec.js';
import { seededRandom } from '../helpers/random.js';
import { kernelContext } from '../helpers/kernel-context.js';

type Value = number | string | Date | null;

/** The oracle, written out: Polars' order of two rows on `by` (nulls first in both directions). */
function compareRows(a: Value[], b: Value[], descending: boolean[]): number {
  for (let c = 0; c < a.length; c++) {
    const [x, y] = [a[c], b[c]];
    if (x === null || y === null) {
      if (x === y) continue;
      return x === null ? -1 : 1;
    }
    const [u, v] = x instanceof Date ? [x.getTime(), (y as Date).getTime()] : [x, y];
    if (u === v) continue;
    const less = u < v ? -1 : 1;
    return descending[c] ? -less : less;
  }
  return 0;
}

function rows(df: pl.DataFrame, by: string[]): Value[][] {
  const columns = by.map((c) => df.getColumn(c).toArray() as Value[]);
  return Array.from({ length: df.height }, (_, i) => columns.map((col) => col[i] ?? null));
}

function oracle(df: pl.DataFrame, boundaries: pl.DataFrame, by: string[], descending: boolean[]): number[] {
  const bs = rows(boundaries, by);
  return rows(df, by).map((r) => bs.filter((b) => compareRows(b, r, descending) < 0).length);
}

/** Boundaries as the sort kernels pick them: evenly weighted rows of `df` in sort order. */
function boundariesOf(df: pl.DataFrame, by: string[], descending: boolean[], partitions: number): pl.DataFrame {
  const weighted = df.select(...by).withColumns(pl.lit(1).cast(pl.Float64).alias(WEIGHT_COLUMN));
  return pickBoundaries(sortLazy(weighted.lazy(), by, descending).collectSync(), partitions).select(...by);
}

function generated(n: number, seed: number): pl.DataFrame {
  const r = seededRandom(seed);
  const maybe = <T>(v: T): T | null => (r() < 0.15 ? null : v);
  const day = 86_400_000;
  return pl.DataFrame([
    pl.Series('k', Array.from({ length: n }, () => maybe(Math.floor(r() * 7) - 3)), pl.Int64),
    pl.Series('s', Array.from({ length: n }, () => maybe(['ant', 'bee', 'cat', 'Dog', 'eel'][Math.floor(r() * 5)]!)), pl.String),
    pl.Series('d', Array.from({ length: n }, () => maybe(new Date(Date.UTC(2024, 0, 1) + Math.floor(r() * 20) * day))), pl.Date),
    pl.Series('x', Array.from({ length: n }, () => maybe(r())), pl.Float64),
  ]);
}

/** Each row's bucket, in `df`'s row order, with the buckets' rows checked to be `df`'s rows. */
async function bucketsOf(df: pl.DataFrame, boundaries: pl.DataFrame, by: string[], descending: boolean[], partitions: number): Promise<{ bucket: number[]; buckets: pl.DataFrame[] }> {
  const buckets = await rangeBuckets(df.withRowIndex('rid'), boundaries, by, descending, partitions);
  assert.equal(buckets.length, partitions);
  const bucket = new Array<number>(df.height).fill(-1);
  buckets.forEach((b, j) => { for (const rid of b.getColumn('rid').toArray() as number[]) bucket[rid] = j; });
  assert.ok(bucket.every((j) => j >= 0), 'a row is in no bucket');
  assert.equal(buckets.reduce((n, b) => n + b.height, 0), df.height);
  return { bucket, buckets };
}

/** The buckets in order, each in sort order: the whole frame sorted, on the sort columns. */
async function assertSortsInOrder(df: pl.DataFrame, buckets: pl.DataFrame[], by: string[], descending: boolean[]): Promise<void> {
  const pieced = pl.concat(buckets).select(...by);
  const whole = (await sortLazy(df.lazy(), by, descending).collect()).select(...by);
  assert.ok(pieced.frameEqual(whole, true), 'the buckets concatenated differ from the whole sort');
}

describe('rangeBuckets', () => {
  it('counts the boundaries strictly before each row, nulls first', async () => {
    const df = pl.DataFrame({ a: [3, null, 1, 2, null, 3, 1, 2], b: ['x', null, 'a', 'b', 'c', null, 'z', 'b'] });
    // In ascending order, nulls first: (null, c) < (2, b) < (3, null).
    const boundaries = pl.DataFrame({ a: [null, 2, 3], b: ['c', 'b', null] });
    const { bucket, buckets } = await bucketsOf(df, boundaries, ['a', 'b'], [false, false], 4);
    assert.deepEqual(bucket, [3, 0, 1, 1, 0, 2, 1, 1]);
    assert.deepEqual(buckets[1]!.select('a', 'b').toRecords(), [{ a: 1, b: 'a' }, { a: 1, b: 'z' }, { a: 2, b: 'b' }, { a: 2, b: 'b' }]);
    assert.deepEqual(buckets.map((b) => b.columns), buckets.map(() => ['rid', 'a', 'b']));
  });

  it('keeps nulls first in a descending column too', async () => {
    const df = pl.DataFrame({ a: [1, null, 5, 3] });
    // Descending, nulls first: null, 5, 3, 1.
    const { bucket } = await bucketsOf(df, pl.DataFrame({ a: [null, 4] }), ['a'], [true], 3);
    assert.deepEqual(bucket, [2, 0, 1, 2]);
  });

  for (const descending of [[false, false, false], [true, true, true], [true, false, true], [false, true, false]]) {
    it(`matches the written-out order on ints, strings and dates with nulls (descending ${descending.join(',')})`, async () => {
      const df = generated(3000, 7);
      const by = ['k', 's', 'd'];
      for (const partitions of [2, 5, 16]) {
        const boundaries = boundariesOf(df.select(pl.all().gatherEvery(7)), by, descending, partitions);
        assert.equal(boundaries.height, partitions - 1);
        const { bucket, buckets } = await bucketsOf(df, boundaries, by, descending, partitions);
        assert.deepEqual(bucket, oracle(df, boundaries, by, descending));
        await assertSortsInOrder(df, buckets, by, descending);
      }
    });
  }

  it('sorts floats with nulls by Polars order', async () => {
    const df = generated(2000, 99);
    const boundaries = boundariesOf(df, ['x'], [true], 8);
    await assertSortsInOrder(df, (await bucketsOf(df, boundaries, ['x'], [true], 8)).buckets, ['x'], [true]);
  });

  it('puts all rows with equal keys in one bucket, however many', async () => {
    const keys = Array.from({ length: 1000 }, (_, i) => (i % 10 === 0 ? i : 500));
    const df = pl.DataFrame({ k: keys, i: keys.map((_, i) => i) });
    const boundaries = boundariesOf(df, ['k'], [false], 4);
    assert.deepEqual(boundaries.getColumn('k').toArray(), [500, 500, 500]);
    const { bucket, buckets } = await bucketsOf(df, boundaries, ['k'], [false], 4);
    assert.deepEqual(bucket, keys.map((k) => (k <= 500 ? 0 : 3)));
    assert.deepEqual(buckets.map((b) => b.height), [951, 0, 0, 49]);
  });

  it('handles no rows and no boundaries', async () => {
    const df = pl.DataFrame({ k: pl.Series('k', [2, 1], pl.Int64) });
    const { buckets } = await bucketsOf(df, df.head(0), ['k'], [false], 2);
    assert.deepEqual(buckets.map((b) => b.getColumn('k').toArray()), [[1, 2], []]);
    const none = await rangeBuckets(df.head(0), df.head(1), ['k'], [false], 2);
    assert.deepEqual(none.map((b) => [b.height, b.columns.join()]), [[0, 'k'], [0, 'k']]);
  });

  it('refuses more boundaries than the partitions have room for, rather than lose rows', async () => {
    const df = pl.DataFrame({ k: [1, 2, 3] });
    await assert.rejects(rangeBuckets(df, df.head(2), ['k'], [false], 2), /2 range boundaries for 2 partitions/);
  });
});

describe('pickBoundaries', () => {
  it('cuts weighted samples into ranges of equal weight', () => {
    // Partition A: 3 samples standing for 100 rows each; B: 1 sample for 300 rows.
    const sorted = pl.DataFrame({ k: [1, 2, 3, 4], [WEIGHT_COLUMN]: [100, 300, 100, 100] });
    assert.deepEqual(pickBoundaries(sorted, 2).getColumn('k').toArray(), [2]);
    assert.deepEqual(pickBoundaries(sorted, 3).getColumn('k').toArray(), [2, 2]);
    assert.deepEqual(pickBoundaries(sorted, 6).getColumn('k').toArray(), [1, 2, 2, 2, 3]);
  });

  it('repeats rows when there are fewer samples than ranges, and gives none for no samples', () => {
    const one = pl.DataFrame({ k: [7], [WEIGHT_COLUMN]: [1] });
    assert.deepEqual(pickBoundaries(one, 4).getColumn('k').toArray(), [7, 7, 7]);
    assert.equal(pickBoundaries(one.head(0), 4).height, 0);
  });
});

describe('df/sample and df/boundaries', () => {
  const context = kernelContext('k');
  const stored = (df: pl.DataFrame) => ({ encoding: Encoding.ENCODING_ARROW_IPC, native: df });
  const frameOf = (v: unknown) => (v as { native: pl.DataFrame }).native;

  it('samples evenly spaced rows of the sort columns, each weighted by the rows it stands for', async () => {
    const df = pl.DataFrame({ k: Array.from({ length: 2500 }, (_, i) => i), other: Array.from({ length: 2500 }, () => 'x') });
    const out = frameOf(await sample({ by: ['k'], rows: 1000 }, [stored(df)], context));
    assert.deepEqual(out.columns, ['k', WEIGHT_COLUMN]);
    assert.equal(out.height, 834); // every 3rd row
    assert.deepEqual(out.getColumn('k').head(3).toArray(), [0, 3, 6]);
    assert.ok(Math.abs(Number(out.getColumn(WEIGHT_COLUMN).sum()) - 2500) < 1e-6);
    const small = frameOf(await sample({ by: ['k'], rows: 1000 }, [stored(df.head(10))], context));
    assert.deepEqual(small.getColumn(WEIGHT_COLUMN).toArray(), new Array(10).fill(1));
    assert.equal(frameOf(await sample({ by: ['k'], rows: 1000 }, [stored(df.head(0))], context)).height, 0);
  });

  it('picks boundaries from all samples in the final order, weighting big partitions more', async () => {
    // 10 rows stand for 1000 in the first partition, 10 for 10 in the second.
    const big = pl.DataFrame({ k: Array.from({ length: 10 }, (_, i) => i * 10), [WEIGHT_COLUMN]: new Array(10).fill(100) });
    const small = pl.DataFrame({ k: Array.from({ length: 10 }, (_, i) => 1000 + i), [WEIGHT_COLUMN]: new Array(10).fill(1) });
    const out = frameOf(await boundariesKernel({ by: ['k'], descending: [true], partitions: 2 }, [stored(small), stored(big)], context));
    assert.deepEqual(out.columns, ['k']);
    // Descending: 1009..1000 (weight 10 in all), then 90, 80, ...: half of 1010 is reached at 50.
    assert.deepEqual(out.getColumn('k').toArray(), [50]);
  });
});
