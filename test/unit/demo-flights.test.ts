// How the flights demo prints its results (client/demo/flights.ts): the origin table and the
// distance band line, from frames shaped as the queries return them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pl from 'nodejs-polars';
import { bandLine, originTable } from '../../client/demo/flights.js';

test('originTable: a header, then one aligned line per origin in the order given', () => {
  const stats = pl.DataFrame({
    origin: ['BGR', 'JFK'],
    flights: pl.Series('flights', [1562, 31270], pl.UInt32),
    mean_delay: [16.64, 12.25],
    std_delay: [51.2, 44.44],
    late_share: [0.3239, 0.29547],
  });
  assert.deepEqual(originTable(stats), [
    'origin    flights  mean delay  std delay  late>15',
    'BGR          1562        16.6       51.2    32.4%',
    'JFK         31270        12.3       44.4    29.5%',
  ]);
  assert.deepEqual(originTable(stats.head(0)), ['origin    flights  mean delay  std delay  late>15']);
});

test('bandLine: bands from short to long whatever order they come in, absent ones left out', () => {
  const stats = pl.DataFrame({ distance_band: ['long', 'short', 'medium'], flights: [10, 30, 20], late_share: [0.5, 0.1, 0.25] });
  assert.equal(bandLine(stats), 'short (< 500 mi) 10.0% of 30, medium (500-1500 mi) 25.0% of 20, long (>= 1500 mi) 50.0% of 10');
  assert.equal(bandLine(stats.filter(pl.col('distance_band').neq(pl.lit('medium')))), 'short (< 500 mi) 10.0% of 30, long (>= 1500 mi) 50.0% of 10');
});
