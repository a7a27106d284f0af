// The flights demo's queries, on the DataFrame: vega-datasets' flights-3m.parquet (date
// datetime[us], delay i64 minutes, distance i64 miles, origin str, destination str) read in
// partitions on the workers, cleaned and enriched per partition, and summarized per origin
// airport. Everything here is lazy: the caller computes or persists.
import pl from 'nodejs-polars';
import type { DataFrame } from '../../dataframe/frame.js';
import { readParquet } from '../../dataframe/sources.js';

/** A flight counts as late above this many minutes of departure delay. */
export const LATE_MINUTES = 15;

/** The columns the demo reads (the scan reads no others). */
export const FLIGHT_COLUMNS = ['date', 'delay', 'distance', 'origin'];

/** Distance bands, upper bounds in miles (exclusive); past the last, `long`. */
export const DISTANCE_BANDS = [['short', 500], ['medium', 1500]] as const;

export interface ReadFlightsOptions {
  /** The data set is split into about this many partitions. */
  partitions: number;
  /** Only the first rows are used (default: all). */
  rows?: number;
}

export interface Flights {
  frame: DataFrame;
  /** Rows the frame has. */
  rows: number;
  /** Partitions the file is read in. */
  readPartitions: number;
}

/** Rows of a Parquet file, from its metadata. */
export function parquetRows(path: string): number {
  return Number(pl.scanParquet(path).select(pl.len().alias('rows')).collectSync().getColumn('rows').get(0));
}

/**
 * The flights as a DataFrame over `partitions` row ranges of the file. With `rows` below the
 * file's, the first rows only (`head`): each partition then reads at most that many rows, and
 * what follows runs on the one partition head makes.
 */
export function readFlights(path: string, options: ReadFlightsOptions): Flights {
  const total = parquetRows(path);
  const partitionRows = Math.max(1, Math.ceil(total / options.partitions));
  const frame = readParquet(path, { columns: FLIGHT_COLUMNS, partitionRows });
  const rows = Math.min(total, options.rows ?? Infinity);
  return { frame: rows < total ? frame.head(rows) : frame, rows, readPartitions: frame.npartitions };
}

/**
 * Drops flights with no delay or no origin and derives what a model of lateness would use:
 * hour, weekday (1 = Monday) and month of departure, distance band, and late (delay > 15).
 */
export function cleanFlights(flights: DataFrame): DataFrame {
  const date = pl.col('date');
  return flights
    .filter(pl.col('delay').isNotNull().and(pl.col('origin').isNotNull()))
    .withColumns(
      date.date.hour().alias('hour'),
      date.date.weekday().alias('weekday'),
      date.date.month().alias('month'),
      distanceBand(pl.col('distance')).alias('distance_band'),
      pl.col('delay').gt(LATE_MINUTES).alias('late'),
    );
}

function distanceBand(distance: pl.Expr): pl.Expr {
  const [[first, firstBound], ...rest] = DISTANCE_BANDS;
  let band = pl.when(distance.lt(firstBound)).then(pl.lit(first));
  for (const [name, bound] of rest) band = band.when(distance.lt(bound)).then(pl.lit(name));
  return band.otherwise(pl.lit('long'));
}

export interface OriginStatsOptions {
  /** How many origins to keep. */
  top: number;
  /** Origins with fewer flights are left out (default 1000). */
  minFlights?: number;
}

/**
 * Per origin: flights, mean and standard deviation of the delay, share of late flights; the
 * `top` origins with the worst mean delay, among those with `minFlights`.
 */
export function originStats(clean: DataFrame, options: OriginStatsOptions): DataFrame {
  const delay = pl.col('delay');
  return clean
    .groupBy('origin')
    .agg(
      pl.len().alias('flights'),
      delay.mean().alias('mean_delay'),
      delay.std().alias('std_delay'),
      pl.col('late').mean().alias('late_share'),
    )
    .filter(pl.col('flights').gtEq(options.minFlights ?? 1000))
    .sort('mean_delay', { descending: true })
    .head(options.top);
}

/** Flights and share of late flights per distance band. */
export function bandStats(clean: DataFrame): DataFrame {
  return clean.groupBy('distance_band').agg(pl.len().alias('flights'), pl.col('late').mean().alias('late_share'));
}

/** originStats' result as a table of text lines: a header, then one line per origin. */
export function originTable(stats: pl.DataFrame): string[] {
  const lines = [`origin  ${'flights'.padStart(9)}  mean delay  std delay  late>${LATE_MINUTES}`];
  for (const r of stats.toRecords() as Array<Record<string, unknown>>) {
    const num = (name: string) => Number(r[name] ?? NaN);
    lines.push(`${String(r.origin).padEnd(6)}  ${String(num('flights')).padStart(9)}  ${num('mean_delay').toFixed(1).padStart(10)}`
      + `  ${num('std_delay').toFixed(1).padStart(9)}  ${percent(num('late_share')).padStart(7)}`);
  }
  return lines;
}

/** bandStats' result as one line, bands from short to long. */
export function bandLine(stats: pl.DataFrame): string {
  const byBand = new Map((stats.toRecords() as Array<Record<string, unknown>>).map((r) => [String(r.distance_band), r]));
  const bounds = DISTANCE_BANDS.map(([, bound]) => bound);
  const names = [
    ...DISTANCE_BANDS.map(([name, bound], i) => [name, i === 0 ? `< ${bound} mi` : `${bounds[i - 1]}-${bound} mi`]),
    ['long', `>= ${bounds.at(-1)} mi`],
  ];
  return names
    .filter(([name]) => byBand.has(name!))
    .map(([name, range]) => `${name} (${range}) ${percent(Number(byBand.get(name!)!.late_share))} of ${Number(byBand.get(name!)!.flights)}`)
    .join(', ');
}

function percent(share: number): string {
  return `${(100 * share).toFixed(1)}%`;
}
