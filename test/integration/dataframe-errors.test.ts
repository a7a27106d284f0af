// Bad input to the DataFrame API: mistakes fail at the call that made them, named, before
// anything runs; what can only fail on a worker (a corrupt file, a user function) fails its
// partition with an error naming the file or function, and the worker keeps serving.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pl from 'nodejs-polars';
import { DataFrameError, RemoteTaskError, SourceError, fromPolars, readCsv, readParquet, type DataFrame } from '../../index.js';
import { useCluster } from '../helpers/cluster.js';

function sample(): pl.DataFrame {
  return pl.DataFrame({
    id: pl.Series('id', [1, 2, 3, 4, 5, 6], pl.Int64),
    value: pl.Series('value', [1.5, null, 3, 4, 5, 6], pl.Float64),
    name: pl.Series('name', ['a', 'b', 'c', null, 'e', 'f'], pl.String),
  });
}

/** Asserts `call` throws a DataFrameError (of `type`) whose message matches each pattern. */
function assertFailsAtCall(call: () => unknown, patterns: RegExp[], type: typeof DataFrameError = DataFrameError): void {
  assert.throws(call, (err: Error) => {
    assert.ok(err instanceof type, `expected a ${type.name}, got ${String(err)}`);
    for (const p of patterns) assert.match(err.message, p);
    return true;
  });
}

/** Asserts the computation fails on the cluster with a remote error whose message matches. */
async function assertFailsRemotely(frame: DataFrame, patterns: RegExp[], remoteName?: string): Promise<void> {
  await assert.rejects(frame.compute(), (err: Error) => {
    assert.ok(err instanceof RemoteTaskError, `expected a RemoteTaskError, got ${String(err)}`);
    if (remoteName) assert.equal(err.remoteName, remoteName);
    for (const p of patterns) assert.match(err.message, p);
    return true;
  });
}

describe('DataFrame errors', () => {
  // One worker with one thread: what follows a failure runs where it failed.
  const fx = useCluster({ workers: 1, threads: 1 });
  let dir: string;
  let pids: Record<string, number>;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kubedask-df-errors-'));
    pids = fx.cluster.workerPids;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** The same worker process still runs DataFrame work and plain tasks. */
  async function stillServes(): Promise<void> {
    const result = await fromPolars(sample(), { partitions: 2 }).filter(pl.col('id').gt(3)).compute();
    assert.deepEqual(result.getColumn('id').toArray(), [4, 5, 6]);
    assert.equal(await fx.client.submit((x: number) => x + 1, 1).result(), 2);
    assert.deepEqual(fx.cluster.workerPids, pids);
  }

  describe('fail at the call, before anything runs', () => {
    const frame = () => fromPolars(sample());

    it('an unknown column, named, in every operation', () => {
      const other = fromPolars(sample());
      const calls: Array<[string, () => unknown]> = [
        ['filter', () => frame().filter(pl.col('nope').gt(1))],
        ['withColumns', () => frame().withColumns(pl.col('nope').add(1).alias('x'))],
        ['select', () => frame().select('id', 'nope')],
        ['groupBy', () => frame().groupBy('nope')],
        ['agg', () => frame().groupBy('id').agg(pl.col('nope').sum())],
        ['sort', () => frame().sort(['id', 'nope'])],
        ['join', () => frame().join(other, { on: 'nope' })],
        ['join', () => frame().join(other, { leftOn: 'id', rightOn: 'nope' })],
        ['drop', () => frame().drop('nope')],
      ];
      for (const [what, call] of calls) assertFailsAtCall(call, [new RegExp(`^${what}`), /nope/]);
    });

    it('a type mismatch in an expression', () => {
      assertFailsAtCall(() => frame().filter(pl.col('name').add(1).gt(2)), [/^filter/, /string and numeric/]);
      assertFailsAtCall(() => frame().filter(pl.col('value')), [/^filter/, /Boolean/]);
      assertFailsAtCall(() => frame().withColumns(pl.col('name').mul(2).alias('x')), [/^withColumns/, /string and numeric/]);
      assertFailsAtCall(() => frame().groupBy('id').agg(pl.col('name').sum()), [/^agg/, /sum/, /str/]);
    });

    it('something other than an expression', () => {
      assertFailsAtCall(() => frame().filter('id > 1' as unknown as pl.Expr), [/^filter: expected a Polars expression/, /got string/]);
      assertFailsAtCall(() => frame().filter(undefined as unknown as pl.Expr), [/^filter: expected a Polars expression/]);
      assertFailsAtCall(() => frame().withColumns(42 as unknown as pl.Expr), [/^withColumns: expected a Polars expression/]);
      assertFailsAtCall(() => frame().mapPartitions(42 as never), [/^mapPartitions: expected a function/]);
    });

    it('a missing file, or a pattern that matches nothing, named', () => {
      const missing = join(dir, 'missing.parquet');
      assertFailsAtCall(() => readParquet(missing), [new RegExp(`no such file: ${missing}`)], SourceError);
      assertFailsAtCall(() => readParquet(join(dir, 'none-*.parquet')), [/no file matches .*none-\*\.parquet/], SourceError);
      assertFailsAtCall(() => readCsv([join(dir, 'missing.csv')]), [/missing\.csv/], SourceError);
    });

    it('a CSV option that cannot travel to the workers', () => {
      const file = join(dir, 'typed.csv');
      sample().writeCSV(file);
      assertFailsAtCall(() => readCsv(file, { schema: { id: pl.Int32 } }), [/^readCsv: option schema cannot be sent to the workers/, /cast/], SourceError);
    });

    it('files whose schemas differ, naming both and the column', () => {
      const a = join(dir, 'schema-a.parquet');
      const b = join(dir, 'schema-b.parquet');
      sample().writeParquet(a);
      sample().withColumns(pl.col('value').cast(pl.String)).writeParquet(b);
      assertFailsAtCall(() => readParquet(join(dir, 'schema-*.parquet')), [/schema-a\.parquet and .*schema-b\.parquet have different schemas/, /"value"/], SourceError);
    });
  });

  describe('fail on the worker, which keeps serving', () => {
    it('a Parquet file whose data pages are broken fails its partition, naming the file', async () => {
      const file = join(dir, 'broken-pages.parquet');
      pl.DataFrame({ x: Array.from({ length: 50_000 }, (_, i) => i % 997) }).writeParquet(file);
      const bytes = readFileSync(file);
      // Garbage between the leading magic and the footer: the metadata still reads.
      const footer = bytes.readUInt32LE(bytes.length - 8) + 8;
      for (let i = 4; i < bytes.length - footer; i++) bytes[i] = (i * 131) & 255;
      writeFileSync(file, bytes);
      const frame = readParquet(file);
      assert.equal(frame.npartitions, 1);
      await assertFailsRemotely(frame.filter(pl.col('x').gt(3)), [new RegExp(file)], 'ScanError');
      await stillServes();
    });

    it('a Parquet file truncated after its metadata was read fails its partition, naming the file', async () => {
      const file = join(dir, 'truncated.parquet');
      sample().writeParquet(file);
      const frame = readParquet(file);
      truncateSync(file, 100);
      await assertFailsRemotely(frame, [new RegExp(file)], 'ScanError');
      await stillServes();
    });

    it('a mapPartitions function that throws: its error reaches the caller', async () => {
      const frame = fromPolars(sample(), { partitions: 2 }).mapPartitions(function explode(): pl.DataFrame {
        throw new RangeError('no partition is good enough');
      });
      await assertFailsRemotely(frame, [/no partition is good enough/], 'RangeError');
      await stillServes();
    });

    it('a mapPartitions function that returns the wrong schema or no frame, named', async () => {
      const renamed = fromPolars(sample()).mapPartitions(function renameId(df: pl.DataFrame) {
        return df.rename({ id: 'key' });
      });
      await assertFailsRemotely(renamed, [/mapPartitions function renameId returned columns \[key: Int64, .*\], expected \[id: Int64, .*\]/, /pass \{ schema \}/]);
      const notAFrame = fromPolars(sample()).mapPartitions(function countRows(df: pl.DataFrame) {
        return df.height as unknown as pl.DataFrame;
      });
      await assertFailsRemotely(notAFrame, [/function countRows must return a nodejs-polars DataFrame .*got number/], 'TypeError');
      await stillServes();
    });
  });
});
