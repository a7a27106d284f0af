// DataFrame I/O end to end on a LocalCluster: toParquet (a directory of part files), toArrow,
// readCsv, fromArrow, fromPolars, and mapPartitions (a user function per partition, run in
// the workers' task threads on Polars frames). Results are compared with single-process Polars.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC, tableToIPC } from 'apache-arrow';
import pl from 'nodejs-polars';
import { DataFrameError, fromArrow, fromPolars, readCsv, readParquet } from '../../index.js';
import { useCluster } from '../helpers/cluster.js';
import { assertFramesEqual as assertEqualSorted } from '../helpers/frames.js';

/** Equal frames: the same columns, dtypes and rows, in the same order. */
function assertFramesEqual(actual: pl.DataFrame, expected: pl.DataFrame): void {
  assertEqualSorted(actual, expected, { sortBy: [] });
}

/** 10 rows with nulls in every column. */
function sample(): pl.DataFrame {
  return pl.DataFrame({
    id: pl.Series('id', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], pl.Int64),
    value: pl.Series('value', [1.5, null, 3.25, -4, 5, 6.5, null, 8, 9.75, 10], pl.Float64),
    name: pl.Series('name', ['a', 'b', null, 'd', 'e', 'f', 'g', null, 'i', 'j'], pl.String),
  });
}

describe('DataFrame I/O', () => {
  const fx = useCluster({ workers: 2, threads: 1 });
  let dir: string;
  before(() => { dir = mkdtempSync(join(tmpdir(), 'kubedask-df-io-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe('toParquet', () => {
    it('writes one part file per partition, which reads back as the result', async () => {
      const out = join(dir, 'filtered', 'nested');
      const frame = fromPolars(sample(), { partitions: 3 })
        .filter(pl.col('id').gt(2))
        .withColumns(pl.col('value').mul(2).alias('twice'));
      const written = await frame.toParquet(out);
      const expected = sample().filter(pl.col('id').gt(2)).withColumns(pl.col('value').mul(2).alias('twice'));
      assert.deepEqual(written.files, ['part-00000.parquet', 'part-00001.parquet', 'part-00002.parquet'].map((f) => join(out, f)));
      assert.deepEqual(readdirSync(out).sort(), ['part-00000.parquet', 'part-00001.parquet', 'part-00002.parquet']);
      assert.equal(written.rows, expected.height);
      assertFramesEqual(await readParquet(join(out, '*.parquet')).compute({ client: fx.client }), expected);
    });

    it('writes an empty partition as a file of the schema', async () => {
      const out = join(dir, 'with-empty');
      const two = sample().head(2);
      const written = await fromPolars(two, { partitions: 3 }).toParquet(out, { client: fx.client });
      assert.equal(written.files.length, 3);
      assert.equal(written.rows, 2);
      assertFramesEqual(pl.readParquet(written.files[2]!), two.head(0));
      assertFramesEqual(await readParquet(join(out, '*.parquet')).compute(), two);
    });

    it('keeps the partitions it writes when they are persisted (or sent from this process) as they are', async () => {
      const persisted = fromPolars(sample(), { partitions: 2 }).persist({ client: fx.client });
      await persisted.toParquet(join(dir, 'persisted'), { client: fx.client });
      const local = fromPolars(sample(), { partitions: 2 });
      await local.toParquet(join(dir, 'local'), { client: fx.client });
      for (let i = 0; i < 2; i++) {
        assertFramesEqual(await persisted.compute({ client: fx.client }), sample());
        assertFramesEqual(await local.compute({ client: fx.client }), sample());
      }
    });

    it('refuses a directory that is not empty unless told to overwrite it', async () => {
      const out = join(dir, 'occupied');
      mkdirSync(out);
      writeFileSync(join(out, 'keep.txt'), 'mine');
      const frame = fromPolars(sample(), { partitions: 2 });
      await assert.rejects(frame.toParquet(out), (err: Error) => {
        assert.ok(err instanceof DataFrameError, String(err));
        assert.match(err.message, /occupied is not empty .*pass \{ overwrite: true \}/);
        return true;
      });
      assert.deepEqual(readdirSync(out), ['keep.txt']);
      await frame.toParquet(out, { overwrite: true });
      assert.deepEqual(readdirSync(out).sort(), ['part-00000.parquet', 'part-00001.parquet']);
      // Fewer partitions over an earlier write: no part of the earlier one is left behind.
      await fromPolars(sample()).toParquet(out, { overwrite: true });
      assert.deepEqual(readdirSync(out), ['part-00000.parquet']);
      assertFramesEqual(await readParquet(join(out, '*.parquet')).compute(), sample());
    });
  });

  it('toArrow gives the result as an Apache Arrow table', async () => {
    const frame = fromPolars(sample(), { partitions: 2 }).filter(pl.col('value').isNotNull());
    const table = await frame.toArrow();
    const expected = sample().filter(pl.col('value').isNotNull());
    assert.equal(table.numRows, expected.height);
    assert.deepEqual(table.schema.fields.map((f) => f.name), expected.columns);
    assertFramesEqual(pl.readIPCStream(Buffer.from(tableToIPC(table, 'stream'))), expected);
  });

  it('readCsv reads files in row ranges, with filters and projections', async () => {
    const csvDir = join(dir, 'csv');
    mkdirSync(csvDir);
    const whole = sample();
    whole.head(6).writeCSV(join(csvDir, 'a.csv'));
    whole.tail(4).writeCSV(join(csvDir, 'b.csv'));
    const frame = readCsv(join(csvDir, '*.csv'), { partitionRows: 4 });
    assert.equal(frame.npartitions, 3); // 6 rows: 2 partitions, 4 rows: 1
    assertFramesEqual(await frame.compute(), whole);
    const derived = frame.filter(pl.col('name').isNotNull()).select('id', pl.col('value').add(1).alias('next'));
    assertFramesEqual(await derived.compute(), whole.filter(pl.col('name').isNotNull()).select('id', pl.col('value').add(1).alias('next')));
    // Polars' CSV options reach the workers' scans.
    const semicolons = join(dir, 'semicolons.txt');
    whole.writeCSV(semicolons, { separator: ';' });
    assertFramesEqual(await readCsv(semicolons, { separator: ';', partitionRows: 5 }).compute(), whole);
  });

  it('fromArrow and fromPolars run frames of this process on the cluster', async () => {
    const table = tableFromIPC(sample().writeIPCStream());
    const fromTable = fromArrow(table, { partitions: 3 }).withColumns(pl.col('id').mul(pl.col('value')).alias('product'));
    assertFramesEqual(await fromTable.compute(), sample().withColumns(pl.col('id').mul(pl.col('value')).alias('product')));
    const grouped = fromPolars(sample(), { partitions: 4 }).groupBy('name').agg(pl.col('value').sum().alias('total'));
    const expected = sample().groupBy('name').agg(pl.col('value').sum().alias('total'));
    assertEqualSorted(await grouped.compute(), expected, { sortBy: ['name'] });
  });

  describe('mapPartitions', () => {
    it('runs the function on each partition, and what follows on its output', async () => {
      const addRank = function addRank(df: pl.DataFrame): pl.DataFrame {
        return df.withColumns(df.getColumn('id').rank().alias('rank_in_partition'));
      };
      const frame = fromPolars(sample(), { partitions: 3 })
        .mapPartitions(addRank, { schema: addRank(sample()).schema })
        .filter(pl.col('rank_in_partition').lt(3));
      // Each partition (4, 4 and 2 rows) keeps its own first two rows.
      assert.deepEqual((await frame.compute()).getColumn('id').toArray(), [1, 2, 5, 6, 9, 10]);
      assert.match(frame.explain(), /MapPartitions addRank/);
    });

    it('takes an async function that loads Polars itself, over a file scan', async () => {
      const file = join(dir, 'rows.parquet');
      sample().writeParquet(file);
      const sizes = readParquet(file, { partitionRows: 4 }).mapPartitions(async (df: pl.DataFrame) => {
        const polars = (await import('nodejs-polars')).default;
        return polars.DataFrame({ rows: [df.height], first: [Number(df.getColumn('id').get(0))] });
      }, { schema: { rows: pl.Float64, first: pl.Float64 } });
      assertFramesEqual(await sizes.compute(), pl.DataFrame({ rows: [4, 4, 2], first: [1, 5, 9] }));
    });

    it('runs after a shuffle and feeds one', async () => {
      const tagged = fromPolars(sample(), { partitions: 3 })
        .repartition({ by: 'name', partitions: 2 })
        .mapPartitions(async (df: pl.DataFrame) => {
          const polars = (await import('nodejs-polars')).default;
          return df.withColumns(polars.lit(df.height).cast(polars.Int64).alias('partition_rows'));
        }, { schema: { ...sample().schema, partition_rows: pl.Int64 } });
      const perName = await tagged.groupBy('name').agg(pl.col('partition_rows').nUnique().alias('sizes')).compute();
      // Rows of one name meet in one partition: each name sees one partition size.
      assert.deepEqual(perName.getColumn('sizes').toArray(), perName.getColumn('sizes').toArray().map(() => 1));
      assert.equal(perName.height, sample().getColumn('name').nUnique());
      // A partition of k rows tags its k rows with k: each size's rows are a whole number of partitions.
      const whole = await tagged.compute();
      assert.equal(whole.height, sample().height);
      for (const [size, rows] of whole.getColumn('partition_rows').valueCounts().rows() as Array<[number, number]>) {
        assert.equal(Number(rows) % Number(size), 0, `${rows} rows tagged ${size}`);
      }
    });

    it('runs an export of an uploaded module', async () => {
      const file = join(dir, 'partition_tasks.mjs');
      writeFileSync(file, 'export function negate(df) { return df.withColumns(df.getColumn("value").mul(-1).alias("value")); }\n');
      const mod = await fx.client.upload<{ negate(df: pl.DataFrame): pl.DataFrame }>(file);
      const frame = fromPolars(sample(), { partitions: 2 }).mapPartitions(mod.negate);
      assertFramesEqual(await frame.compute(), sample().withColumns(pl.col('value').mul(-1)));
    });
  });
});
