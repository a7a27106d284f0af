// The flights demo's queries (client/demo/flights.ts) on a LocalCluster give what single-process
// Polars gives on the same file: generated flights with null delays and origins, skewed origins
// and dates over a whole year, written as Parquet and read in several partitions.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pl from 'nodejs-polars';
import { bandStats, cleanFlights, originStats, readFlights } from '../../client/demo/flights.js';
import { useCluster } from '../helpers/cluster.js';

const ROWS = 20_000;

/** Flights as vega-datasets has them (date, delay, distance, origin, destination), some delays and origins null. */
function generatedFlights(): pl.DataFrame {
  let seed = 12345;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const origins = Array.from({ length: 40 }, (_, i) => `A${String.fromCharCode(65 + (i % 26))}${String.fromCharCode(65 + Math.floor(i / 26))}`);
  const start = Date.UTC(2001, 0, 1);
  const rows = Array.from({ length: ROWS }, () => {
    const r = random();
    return {
      date: new Date(start + Math.floor(random() * 365 * 24 * 60) * 60_000),
      delay: random() < 0.05 ? null : Math.round(-10 + 90 * random() ** 3 + 40 * r * r),
      distance: Math.round(100 + 2900 * random() ** 2),
      // Skewed: low indices far more often; a few origins missing.
      origin: random() < 0.01 ? null : origins[Math.floor(origins.length * r * r)]!,
      destination: origins[Math.floor(origins.length * random())]!,
    };
  });
  return pl.DataFrame({
    date: pl.Series('date', rows.map((r) => r.date), pl.Datetime('us')),
    delay: pl.Series('delay', rows.map((r) => r.delay), pl.Int64),
    distance: pl.Series('distance', rows.map((r) => r.distance), pl.Int64),
    origin: pl.Series('origin', rows.map((r) => r.origin), pl.String),
    destination: pl.Series('destination', rows.map((r) => r.destination), pl.String),
  });
}

/** The demo's cleaning, written out again with Polars in this process. */
function expectedClean(df: pl.DataFrame): pl.DataFrame {
  const d = pl.col('distance');
  return df.select('date', 'delay', 'distance', 'origin')
    .filter(pl.col('delay').isNotNull().and(pl.col('origin').isNotNull()))
    .withColumns(
      pl.col('date').date.hour().alias('hour'), pl.col('date').date.weekday().alias('weekday'), pl.col('date').date.month().alias('month'),
      pl.when(d.lt(500)).then(pl.lit('short')).when(d.lt(1500)).then(pl.lit('medium')).otherwise(pl.lit('long')).alias('distance_band'),
      pl.col('delay').gt(15).alias('late'),
    );
}

function expectedOriginStats(clean: pl.DataFrame, top: number, minFlights: number): pl.DataFrame {
  return clean.groupBy('origin')
    .agg(pl.len().alias('flights'), pl.col('delay').mean().alias('mean_delay'), pl.col('delay').std().alias('std_delay'), pl.col('late').mean().alias('late_share'))
    .filter(pl.col('flights').gtEq(minFlights))
    .sort('mean_delay', true)
    .head(top);
}

/** Rows in a stable order, numbers compared to 1e-9 relative. */
function assertFramesEqual(actual: pl.DataFrame, expected: pl.DataFrame, sortBy?: string[]): void {
  assert.deepEqual(actual.schema, expected.schema);
  const [a, e] = sortBy ? [actual.sort(sortBy), expected.sort(sortBy)] : [actual, expected];
  const ar = a.toRecords() as Array<Record<string, unknown>>;
  const er = e.toRecords() as Array<Record<string, unknown>>;
  assert.equal(ar.length, er.length);
  for (const [i, row] of er.entries()) {
    for (const [column, want] of Object.entries(row)) {
      const got = ar[i]![column];
      if (typeof want === 'number' && typeof got === 'number' && !Number.isInteger(want)) {
        assert.ok(Math.abs(got - want) <= 1e-9 * Math.max(1, Math.abs(want)), `row ${i} ${column}: ${got} != ${want}`);
      } else assert.deepEqual(got, want, `row ${i} ${column}`);
    }
  }
}

describe('flights demo queries', () => {
  const fx = useCluster({ workers: 2, threads: 1 });
  let dir: string;
  let path: string;
  let local: pl.DataFrame;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kubedask-demo-'));
    path = join(dir, 'flights.parquet');
    local = generatedFlights();
    local.writeParquet(path);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the file in the partitions asked for and cleans it as Polars does', async () => {
    const flights = readFlights(path, { partitions: 3 });
    assert.deepEqual([flights.rows, flights.readPartitions, flights.frame.npartitions], [ROWS, 3, 3]);
    const clean = cleanFlights(flights.frame);
    const expected = expectedClean(local);
    assert.ok(expected.height < ROWS, 'the generated data has rows to drop');
    assertFramesEqual(await clean.compute({ client: fx.client }), expected, ['date', 'origin', 'delay', 'distance']);
  });

  it('ranks origins by mean delay as Polars does, from data kept on the workers', async () => {
    const clean = cleanFlights(readFlights(path, { partitions: 4 }).frame).persist({ client: fx.client });
    const stats = await originStats(clean, { top: 8, minFlights: 300 }).compute({ client: fx.client });
    assertFramesEqual(stats, expectedOriginStats(expectedClean(local), 8, 300));
    assert.equal(stats.height, 8);
    const bands = await bandStats(clean).compute({ client: fx.client });
    const expectedBands = expectedClean(local).groupBy('distance_band').agg(pl.len().alias('flights'), pl.col('late').mean().alias('late_share'));
    assertFramesEqual(bands, expectedBands, ['distance_band']);
  });

  it('--rows: only the first rows are used', async () => {
    const flights = readFlights(path, { partitions: 4, rows: 7_000 });
    assert.deepEqual([flights.rows, flights.readPartitions], [7_000, 4]);
    const stats = await originStats(cleanFlights(flights.frame), { top: 5, minFlights: 100 }).compute({ client: fx.client });
    assertFramesEqual(stats, expectedOriginStats(expectedClean(local.head(7_000)), 5, 100));
    assert.equal(readFlights(path, { partitions: 2, rows: ROWS * 2 }).rows, ROWS);
  });
});
