// toShards on a LocalCluster: shards built on the workers from Parquet partitions, shard kernels
// run in the workers' task pools on shared memory, results summed in shard order; a worker
// killed between two calls changes nothing.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pl from 'nodejs-polars';
import { fromPolars, readParquet, type DataFrame } from '../../index.js';
import { toShards } from '../../ml/core/to-shards.js';
import { ClusterShards } from '../../ml/core/cluster-shards.js';
import { LocalShards } from '../../ml/core/shards.js';
import { buildShard } from '../../ml/core/build-shard.js';
import { MlDataError } from '../../ml/errors.js';
import { useCluster, withCluster } from '../helpers/cluster.js';
import { seededRandom } from '../helpers/random.js';
import { waitUntil } from '../helpers/wait.js';

function data(rows: number, seed = 7): pl.DataFrame {
  const rand = seededRandom(seed);
  const a = Array.from({ length: rows }, () => (rand() < 0.05 ? null : Math.round(rand() * 1000) / 10));
  const b = Array.from({ length: rows }, () => Math.floor(rand() * 50));
  const label = Array.from({ length: rows }, () => (rand() < 0.3 ? 5 : rand() < 0.5 ? 1 : 3));
  return pl.DataFrame([pl.Series('a', a, pl.Float64), pl.Series('b', b, pl.Int32), pl.Series('label', label, pl.Int64), pl.Series('name', b.map((v) => `n${v}`), pl.String)]);
}

/** The same moments computed in this process from the same partitions. */
function localMoments(parts: pl.DataFrame[], features: string[]) {
  return new LocalShards(parts.map((p, i) => buildShard({ partition: i, features }, [{ encoding: 3, native: p }], 'local'))).sum('preprocess/moments', {});
}

describe('Shards on a cluster', () => {
  const fixture = useCluster({ workers: 2, threads: 2 });
  const local = data(30_000);
  let dir = '';
  let files: DataFrame;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kubedask-ml-shards-'));
    local.writeParquet(join(dir, 'data.parquet'));
    files = readParquet(join(dir, 'data.parquet'), { partitionRows: 7_000 });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('builds one shard per partition, y a column of X, labels as classes; sums equal the in-process shards\' to the bit', async () => {
    const { client } = fixture;
    const { shards, meta } = await toShards(files.drop('name'), 'label', { client, classify: true });
    try {
      assert.deepEqual(meta, { features: ['a', 'b'], classes: [1, 3, 5] });
      assert.deepEqual([shards.nShards, shards.nRows, shards.nFeatures], [5, 30_000, 2]);
      const parts = [0, 1, 2, 3, 4].map((i) => local.slice(i * 7_000, 7_000));
      assert.deepEqual(await shards.sum('preprocess/moments', {}), await localMoments(parts, ['a', 'b']));
      // Labels 1, 3, 5 became class indices 0, 1, 2 (ml/index-y).
      const labels = await shards.map<number[]>('data/labels', {});
      assert.deepEqual([...new Set(labels.flat())].sort(), [0, 1, 2]);
      const probes = await shards.map<{ shared: boolean }>('data/probe', {});
      assert.equal(probes.length, 5);
      assert.ok(probes.every((p) => p.shared), 'every kernel read its shard from a SharedArrayBuffer');
    } finally {
      await shards.release();
    }
  });

  it('takes y as a DataFrame from the same parent, and refuses bad input before anything runs', async () => {
    const { client } = fixture;
    const { shards, meta } = await toShards(files.select('a', 'b'), files.select('label'), { client });
    try {
      assert.deepEqual(meta, { features: ['a', 'b'] });
      assert.equal(shards.nRows, 30_000);
    } finally {
      await shards.release();
    }
    await assert.rejects(toShards(files, 'label', { client }), (e: Error) => e instanceof MlDataError && /"name" \(String\) is not numeric/.test(e.message));
    await assert.rejects(toShards(files.select('a'), fromPolars(local.select('label'), { partitions: 2 }), { client }), /y has 2 partitions where X has 5/);
    await assert.rejects(toShards(files.select('a'), files.select('label', 'b'), { client }), /y must have one column/);
    await assert.rejects(toShards(files.select('a'), 'nope', { client }), /y names column "nope"/);
    // Same partition count, other rows: found when the shards are built.
    await assert.rejects(toShards(files.select('a'), files.filter(pl.col('b').gt(10)).select('label'), { client }), /y has \d+ rows in partition \d where X has (7000|2000)/);
  });

  it('keeps empty partitions as empty shards; an unknown shard kernel fails by name', async () => {
    const { client } = fixture;
    // b is never negative: every partition is empty, and still a shard.
    const { shards } = await toShards(files.select('a', 'b').filter(pl.col('b').lt(0)), undefined, { client });
    try {
      assert.deepEqual([shards.nShards, shards.nRows], [5, 0]);
      assert.deepEqual(await shards.sum('preprocess/moments', {}), { count: [0, 0], sum: [0, 0] });
      await assert.rejects(shards.map('nope/kernel', {}), /unknown shard kernel nope\/kernel/);
    } finally {
      await shards.release();
    }
  });

  it('release() frees the shards on the workers', async () => {
    const { client } = fixture;
    const { shards } = await toShards(files.select('a'), undefined, { client });
    const keys = (shards as ClusterShards).keys;
    assert.equal(keys.length, 5);
    assert.ok(keys.every((k) => client.statusOf(k) === 'finished'));
    await shards.release();
    await waitUntil(async () => (await client.clusterInfo()).workers.every((w) => w.inMemory === 0), 'the workers to drop the shards');
    await assert.rejects(shards.map('data/rows', {}), /released/);
  });
});

describe('Shards when a worker dies', () => {
  it('a worker killed with SIGKILL between two calls, another during one: the calls give the same result (lost shards rebuilt from lineage)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kubedask-ml-kill-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    await withCluster({ workers: 3, threads: 1 }, async (cluster, client) => {
      data(40_000, 11).writeParquet(join(dir, 'data.parquet'));
      const X = readParquet(join(dir, 'data.parquet'), { partitionRows: 5_000 }).select('a', 'b', 'label');
      const { shards } = await toShards(X, 'label', { client, classify: true });
      const first = await shards.sum('preprocess/moments', {});
      const info = await client.clusterInfo();
      const victim = info.workers.find((w) => w.inMemory > 0)!.name;
      process.kill(cluster.workerPids[victim]!, 'SIGKILL');
      await waitUntil(async () => (await client.clusterInfo()).workers.every((w) => w.name !== victim), 'the scheduler to drop the killed worker', 60_000);
      assert.deepEqual(await shards.sum('preprocess/moments', {}), first);
      assert.deepEqual(await shards.map('data/rows', {}), Array(8).fill(5_000));
      // And killed while a call runs (wherever its tasks are at that moment): the same again.
      const during = shards.sum('preprocess/moments', {});
      const second = (await client.clusterInfo()).workers.find((w) => w.inMemory > 0)!.name;
      process.kill(cluster.workerPids[second]!, 'SIGKILL');
      assert.deepEqual(await during, first);
      await shards.release();
    });
  });
});
