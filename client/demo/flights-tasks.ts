// Task functions of the flights demo: per-origin delay statistics over vega-datasets'
// flights-3m.parquet (date datetime[us], delay i64, distance i64, origin str, destination str).
//
// Workers import this module (client.upload) and call its exports with JSON-able arguments,
// so every task here takes and returns plain JSON: partial statistics travel as a small
// columnar object (one array per statistic, one entry per origin), never as row objects.
//
//   planPartitions  (client side)  file -> row ranges, one per partition
//   originDelayStats (task)        row range -> PartialStats   (reads only its own rows)
//   combineStats     (task)        PartialStats[] -> PartialStats
//   topAirports      (task)        PartialStats -> ranked airports
//
// Polars' thread pool is process-wide and sized once, from POLARS_MAX_THREADS, the first time
// a query runs; nodejs-polars has no call to change it. The worker runtime bounds it by
// setting POLARS_MAX_THREADS in the worker process's environment; nothing here reads it.
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import pl from 'nodejs-polars';

/** One partition: `length` rows of the Parquet file at `path`, starting at row `offset`. */
export interface FlightsPartition {
  path: string;
  offset: number;
  length: number;
}

/**
 * Per-origin partial statistics, columnar: entry i of every array belongs to `origin[i]`.
 * Origins are unique and sorted. Sums are exact while they stay below 2^53, which they do for
 * this dataset (the sum of squared delays over all 3M rows is about 1e10).
 */
export interface PartialStats {
  origin: string[];
  /** flights with a delay */
  count: number[];
  /** sum of delay, minutes */
  sumDelay: number[];
  /** sum of delay squared */
  sumSqDelay: number[];
  /** flights with delay > 15 minutes */
  delayed: number[];
  /** largest delay, minutes */
  maxDelay: number[];
}

export interface AirportDelay {
  origin: string;
  flights: number;
  /** mean delay, minutes */
  meanDelay: number;
  /** sample standard deviation of delay (n - 1 in the denominator); 0 for a single flight */
  stdDelay: number;
  /** share of flights delayed by more than 15 minutes */
  delayedShare: number;
  maxDelay: number;
}

/** A flight counts as delayed above this many minutes. */
export const DELAYED_MINUTES = 15;

/** Absolute path of flights-3m.parquet in the installed vega-datasets package. */
export function defaultFlightsPath(): string {
  const entry = createRequire(import.meta.url).resolve('vega-datasets');
  return join(dirname(entry), '..', 'data', 'flights-3m.parquet');
}

/** Rows in a Parquet file, read from its metadata rather than its data. */
export function parquetRowCount(path: string): number {
  const counted = pl.scanParquet(path).select(pl.len().alias('rows')).collectSync();
  return Number(counted.getColumn('rows').get(0));
}

/**
 * Not a task: runs in the client. Splits the file's rows into `partitions` contiguous ranges
 * of near-equal size (sizes differ by at most one) that cover every row exactly once. Never
 * returns an empty range unless the file itself is empty; the path is made absolute so that
 * workers with another working directory read the same file. `maxRows` reads only the first
 * rows of the file.
 */
export function planPartitions(path: string, partitions: number, maxRows = Infinity): FlightsPartition[] {
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new RangeError(`partitions must be a positive integer, got ${partitions}`);
  }
  const absolute = resolve(path);
  const rows = Math.min(parquetRowCount(absolute), maxRows);
  const parts = Math.max(1, Math.min(partitions, rows));
  const plan: FlightsPartition[] = [];
  for (let i = 0; i < parts; i++) {
    const offset = Math.floor((i * rows) / parts);
    const end = Math.floor(((i + 1) * rows) / parts);
    plan.push({ path: absolute, offset, length: end - offset });
  }
  return plan;
}

function checkPartition(part: FlightsPartition): void {
  if (typeof part !== 'object' || part === null || typeof part.path !== 'string' || part.path === '') {
    throw new TypeError('expected a partition { path, offset, length }');
  }
  for (const field of ['offset', 'length'] as const) {
    const value = part[field];
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`partition ${field} must be a non-negative integer, got ${String(value)}`);
    }
  }
}

/** Numbers of a result column; Polars' Int64/UInt32 come back as JS numbers. */
function numbers(df: pl.DataFrame, name: string): number[] {
  return Array.from(df.getColumn(name).toArray() as Iterable<number | bigint>, (v) => Number(v));
}

/**
 * Task: statistics per origin over one partition. The slice is pushed into the Parquet scan,
 * so only this partition's rows (and only the delay and origin columns) are read. Rows with
 * no delay or no origin are dropped.
 */
export function originDelayStats(part: FlightsPartition): PartialStats {
  checkPartition(part);
  const delay = pl.col('delay');
  const stats = pl
    .scanParquet(part.path)
    .slice(part.offset, part.length)
    .select('origin', 'delay')
    .filter(delay.isNotNull().and(pl.col('origin').isNotNull()).and(pl.col('origin').neq(pl.lit(''))))
    .groupBy('origin', false)
    .agg(
      pl.len().alias('count'),
      delay.sum().alias('sumDelay'),
      delay.mul(delay).sum().alias('sumSqDelay'),
      delay.gt(DELAYED_MINUTES).sum().alias('delayed'),
      delay.max().alias('maxDelay'),
    )
    .sort('origin')
    .collectSync();
  return {
    origin: stats.getColumn('origin').toArray() as string[],
    count: numbers(stats, 'count'),
    sumDelay: numbers(stats, 'sumDelay'),
    sumSqDelay: numbers(stats, 'sumSqDelay'),
    delayed: numbers(stats, 'delayed'),
    maxDelay: numbers(stats, 'maxDelay'),
  };
}

/** Task: merges partial statistics (counts and sums add, maxima take the max). */
export function combineStats(parts: PartialStats[]): PartialStats {
  if (!Array.isArray(parts)) throw new TypeError('expected an array of PartialStats');
  const merged = new Map<string, { count: number; sumDelay: number; sumSqDelay: number; delayed: number; maxDelay: number }>();
  for (const part of parts) {
    const n = part.origin.length;
    for (const name of ['count', 'sumDelay', 'sumSqDelay', 'delayed', 'maxDelay'] as const) {
      if (part[name].length !== n) throw new RangeError(`PartialStats.${name} has ${part[name].length} entries for ${n} origins`);
    }
    for (let i = 0; i < n; i++) {
      const key = part.origin[i]!;
      const acc = merged.get(key);
      if (acc === undefined) {
        merged.set(key, {
          count: part.count[i]!, sumDelay: part.sumDelay[i]!, sumSqDelay: part.sumSqDelay[i]!,
          delayed: part.delayed[i]!, maxDelay: part.maxDelay[i]!,
        });
      } else {
        acc.count += part.count[i]!;
        acc.sumDelay += part.sumDelay[i]!;
        acc.sumSqDelay += part.sumSqDelay[i]!;
        acc.delayed += part.delayed[i]!;
        acc.maxDelay = Math.max(acc.maxDelay, part.maxDelay[i]!);
      }
    }
  }
  const out: PartialStats = { origin: [], count: [], sumDelay: [], sumSqDelay: [], delayed: [], maxDelay: [] };
  for (const key of [...merged.keys()].sort()) {
    const acc = merged.get(key)!;
    out.origin.push(key);
    out.count.push(acc.count);
    out.sumDelay.push(acc.sumDelay);
    out.sumSqDelay.push(acc.sumSqDelay);
    out.delayed.push(acc.delayed);
    out.maxDelay.push(acc.maxDelay);
  }
  return out;
}

/**
 * Task: the `n` airports with the highest mean delay among those with at least `minFlights`
 * flights, highest first (ties by origin code).
 */
export function topAirports(stats: PartialStats, n: number, minFlights: number): AirportDelay[] {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`n must be a non-negative integer, got ${n}`);
  if (!Number.isFinite(minFlights)) throw new RangeError(`minFlights must be a number, got ${minFlights}`);
  const rows: AirportDelay[] = [];
  for (let i = 0; i < stats.origin.length; i++) {
    const flights = stats.count[i]!;
    if (flights < minFlights || flights <= 0) continue;
    const sum = stats.sumDelay[i]!;
    const meanDelay = sum / flights;
    const variance = flights > 1 ? Math.max(0, (stats.sumSqDelay[i]! - sum * meanDelay) / (flights - 1)) : 0;
    rows.push({
      origin: stats.origin[i]!,
      flights,
      meanDelay,
      stdDelay: Math.sqrt(variance),
      delayedShare: stats.delayed[i]! / flights,
      maxDelay: stats.maxDelay[i]!,
    });
  }
  rows.sort((a, b) => b.meanDelay - a.meanDelay || (a.origin < b.origin ? -1 : a.origin > b.origin ? 1 : 0));
  return rows.slice(0, n);
}
