import { test } from 'node:test';
import assert from 'node:assert/strict';
import { combineSpreads, featureSpread, shardSpread } from '../../ml/preprocessing/spread.js';
import { LocalShards } from '../../ml/core/shards.js';
import { allocShard } from '../../ml/core/shared-shard.js';
import type { Shard } from '../../ml/core/matrix.js';

function shardOf(rows: number[][]): Shard {
  const cols = rows[0]?.length ?? 2;
  const shard = allocShard(rows.length, cols, false);
  rows.forEach((r, i) => r.forEach((v, j) => { shard.x.data[i * cols + j] = v; }));
  return shard;
}

/** Mean and population variance of each column, two passes over all the values, NaN left out. */
function reference(rows: number[][], cols: number): { count: number[]; mean: number[]; variance: number[] } {
  const values = Array.from({ length: cols }, (_, j) => rows.map((r) => r[j]!).filter((v) => !Number.isNaN(v)));
  const mean = values.map((v) => v.reduce((a, b) => a + b, 0) / v.length);
  const variance = values.map((v, j) => v.reduce((a, b) => a + (b - mean[j]!) ** 2, 0) / v.length);
  return { count: values.map((v) => v.length), mean, variance };
}

test('one round of shard spreads gives the mean and variance of all the rows, missing values left out', async () => {
  // Shards far apart (Chan's correction carries the distance between their means), one empty,
  // a feature with missing values, and a feature far from zero.
  const parts = [
    [[1, 1e9 + 1], [2, NaN], [3, 1e9 + 3]],
    [],
    [[100, 1e9 + 2], [NaN, 1e9 + 5], [102, 1e9 + 4], [104, NaN]],
  ];
  const all = parts.flat();
  const got = await featureSpread(new LocalShards(parts.map(shardOf)));
  const want = reference(all, 2);
  assert.deepEqual(got.count, want.count);
  got.mean.forEach((m, j) => assert.ok(Math.abs(m - want.mean[j]!) <= 1e-15 * Math.abs(want.mean[j]!), `mean ${j}: ${m} vs ${want.mean[j]}`));
  got.variance.forEach((v, j) => assert.ok(Math.abs(v - want.variance[j]!) <= 1e-12 * want.variance[j]!, `variance ${j}: ${v} vs ${want.variance[j]}`));
});

test('a constant feature has variance 0 and a feature without values a NaN mean and variance', () => {
  const parts = [[[5, NaN], [5, NaN]], [[5, NaN]]].map((rows) => shardSpread(undefined, shardOf(rows)));
  const got = combineSpreads(parts, 2);
  assert.deepEqual(got.count, [3, 0]);
  assert.equal(got.mean[0], 5);
  assert.equal(got.variance[0], 0);
  assert.ok(Number.isNaN(got.mean[1]) && Number.isNaN(got.variance[1]));
});
