import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pl from 'nodejs-polars';
import {
  combineStats, defaultFlightsPath, originDelayStats, planPartitions, topAirports, type PartialStats,
} from '../../client/demo/flights-tasks.js';

const FLIGHTS = defaultFlightsPath();
const ROWS = 3_000_000;

/** The same statistics in one pass over the whole file, straight from Polars. */
function onePass(path: string): PartialStats {
  const delay = pl.col('delay');
  const df = pl.readParquet(path, { columns: ['origin', 'delay'] })
    .filter(delay.isNotNull().and(pl.col('origin').isNotNull()))
    .groupBy('origin')
    .agg(
      pl.len().alias('count'),
      delay.sum().alias('sumDelay'),
      delay.mul(delay).sum().alias('sumSqDelay'),
      delay.gt(15).sum().alias('delayed'),
      delay.max().alias('maxDelay'),
    )
    .sort('origin');
  const nums = (name: string): number[] => Array.from(df.getColumn(name).toArray() as Iterable<number>, Number);
  return {
    origin: df.getColumn('origin').toArray() as string[],
    count: nums('count'), sumDelay: nums('sumDelay'), sumSqDelay: nums('sumSqDelay'),
    delayed: nums('delayed'), maxDelay: nums('maxDelay'),
  };
}

test('planPartitions covers every row exactly once, in near-equal contiguous ranges', () => {
  for (const partitions of [1, 4, 7]) {
    const plan = planPartitions(FLIGHTS, partitions);
    assert.equal(plan.length, partitions);
    let next = 0;
    for (const part of plan) {
      assert.equal(part.path, FLIGHTS);
      assert.equal(part.offset, next);
      next += part.length;
    }
    assert.equal(next, ROWS);
    const sizes = plan.map((p) => p.length);
    assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `uneven sizes ${sizes.join(',')}`);
  }
  assert.throws(() => planPartitions(FLIGHTS, 0), RangeError);
  assert.throws(() => planPartitions(FLIGHTS, 1.5), RangeError);
});

test('stats combined over 4 partitions equal one pass over the whole file', () => {
  const plan = planPartitions(FLIGHTS, 4);
  const partials = plan.map((part) => originDelayStats(part));
  for (const [i, partial] of partials.entries()) {
    // each partition read only its own rows
    assert.equal(partial.count.reduce((a, b) => a + b, 0), plan[i]!.length);
  }
  // partials travel as JSON between tasks
  const combined = combineStats(JSON.parse(JSON.stringify(partials)) as PartialStats[]);
  assert.deepEqual(combined, onePass(FLIGHTS));
  assert.equal(combined.count.reduce((a, b) => a + b, 0), ROWS);
  // merging is associative: combining in two levels gives the same result
  assert.deepEqual(combineStats([combineStats(partials.slice(0, 2)), combineStats(partials.slice(2))]), combined);
  assert.deepEqual(combineStats([]), { origin: [], count: [], sumDelay: [], sumSqDelay: [], delayed: [], maxDelay: [] });
});

test('topAirports ranks by mean delay, filters on flights, and matches Polars mean and std', () => {
  const stats = combineStats(planPartitions(FLIGHTS, 2).map((part) => originDelayStats(part)));
  const top = topAirports(stats, 10, 1000);
  assert.equal(top.length, 10);
  for (let i = 1; i < top.length; i++) assert.ok(top[i - 1]!.meanDelay >= top[i]!.meanDelay);
  for (const row of top) {
    assert.ok(row.flights >= 1000);
    assert.ok(row.delayedShare >= 0 && row.delayedShare <= 1);
  }
  // no airport with enough flights has a higher mean than the last one listed
  const all = topAirports(stats, Number.MAX_SAFE_INTEGER, 1000);
  assert.deepEqual(all.slice(0, 10), top);
  assert.ok(all.every((r) => r.flights >= 1000));
  assert.ok(all.length < stats.origin.length, 'some small airports are filtered out');

  const origins = top.map((r) => r.origin);
  const expected = pl.readParquet(FLIGHTS, { columns: ['origin', 'delay'] })
    .filter(pl.col('origin').isIn(origins))
    .groupBy('origin')
    .agg(pl.col('delay').mean().alias('mean'), pl.col('delay').std().alias('std'))
    .toRecords() as { origin: string; mean: number; std: number }[];
  const byOrigin = new Map(expected.map((r) => [r.origin, r]));
  for (const row of top) {
    const ref = byOrigin.get(row.origin)!;
    assert.ok(Math.abs(row.meanDelay - ref.mean) < 1e-9, `${row.origin} mean ${row.meanDelay} vs ${ref.mean}`);
    assert.ok(Math.abs(row.stdDelay - ref.std) < 1e-6, `${row.origin} std ${row.stdDelay} vs ${ref.std}`);
  }
});

test('topAirports orders a small hand-made input, ties by origin', () => {
  const stats: PartialStats = {
    origin: ['AAA', 'BBB', 'CCC', 'DDD', 'EEE'],
    count: [4, 2, 10, 1, 2],
    sumDelay: [40, 20, 50, 100, -10],
    sumSqDelay: [700, 200, 250, 10000, 50],
    delayed: [2, 1, 3, 1, 0],
    maxDelay: [20, 10, 10, 100, 5],
  };
  const top = topAirports(stats, 10, 2);
  assert.deepEqual(top.map((r) => r.origin), ['AAA', 'BBB', 'CCC', 'EEE']);
  assert.deepEqual(top[0], { origin: 'AAA', flights: 4, meanDelay: 10, stdDelay: 10, delayedShare: 0.5, maxDelay: 20 });
  assert.equal(top[2]!.stdDelay, 0);
  assert.deepEqual(topAirports(stats, 1, 0).map((r) => r.origin), ['DDD']);
  assert.equal(topAirports(stats, 1, 0)[0]!.stdDelay, 0);
  assert.deepEqual(topAirports(stats, 0, 0), []);
});

test('originDelayStats drops rows with no delay or no origin and reads only its slice', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kubedask-flights-'));
  try {
    const path = join(dir, 'small.parquet');
    pl.DataFrame({
      delay: [10, null, 20, 30, -5, 40],
      origin: ['SFO', 'SFO', null, 'LAX', 'SFO', 'LAX'],
    }).writeParquet(path);
    const plan = planPartitions(path, 10);
    assert.equal(plan.length, 6, 'never more partitions than rows');
    const whole = originDelayStats({ path, offset: 0, length: 6 });
    assert.deepEqual(whole, {
      origin: ['LAX', 'SFO'], count: [2, 2], sumDelay: [70, 5], sumSqDelay: [2500, 125], delayed: [2, 0], maxDelay: [40, 10],
    });
    assert.deepEqual(combineStats(plan.map((p) => originDelayStats(p))), whole);
    assert.deepEqual(originDelayStats({ path, offset: 3, length: 2 }).origin, ['LAX', 'SFO']);
    assert.deepEqual(originDelayStats({ path, offset: 6, length: 5 }).origin, []);
    assert.throws(() => originDelayStats({ path, offset: -1, length: 2 }), RangeError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
