// The four queries of `kubedask bench dataframe`, as kubedask runs them (bench/dataframe_peer.py
// runs the same on Dask, DuckDB and Polars), and the checks that compare the engines' answers:
// for a grouped result its number of groups, total count and a digest of (key, count) pairs;
// for the top-N the (delay, date) keys in order; for the write the rows written.
import { createHash } from 'node:crypto';
import pl from 'nodejs-polars';
import type { Client } from '../client/client.js';
import { readCsv, readParquet } from '../dataframe/sources.js';

export const QUERIES = ['groupby', 'join', 'sort', 'write'] as const;
export type Query = (typeof QUERIES)[number];

/** What each query is, as every engine runs it. */
export const QUERY_TEXT: Record<Query, string> = {
  groupby: 'group by origin: count, mean and std of delay',
  join: 'join with airports.csv (origin = iata), then group by state: count and mean of delay',
  sort: 'top-N: sort by delay descending then date ascending, first 10 rows; every engine runs it as sort + head(10) and may plan a top-N, as kubedask does (per-partition top 10, then the top 10 of those)',
  write: 'filter (delay not null, distance > 500), derive hour, ISO weekday and late = delay > 15 from date and delay, write Parquet to a directory',
};

export type Check =
  | { rows: number; total: number; digest: string }
  | { rows: number; keys: string[] }
  | { rows: number };

export interface QueryInput {
  client: Client;
  /** A glob of the flights Parquet files. */
  files: string;
  airports: string;
  /** An empty directory for the write query. */
  outDir: string;
  /** Bars per task group on a terminal while the query runs (the human output; never with --json). */
  progress?: boolean;
}

/** sha256 of "key=count" lines sorted by key (the Python peer builds the same). */
export function groupedCheck(keys: unknown[], counts: unknown[]): Check {
  const pairs = keys.map((k, i) => [String(k), Number(counts[i])] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const text = pairs.map(([k, c]) => `${k}=${c}`).join('\n');
  return { rows: pairs.length, total: pairs.reduce((n, [, c]) => n + c, 0), digest: createHash('sha256').update(text).digest('hex').slice(0, 16) };
}

function frameCheck(df: pl.DataFrame, key: string, count: string): Check {
  return groupedCheck(df.getColumn(key).toArray(), df.getColumn(count).toArray());
}

/** Where two engines' checks differ, in words, or undefined when they agree. */
export function checkDifference(ours: Check, theirs: Check): string | undefined {
  const a = JSON.stringify(ours);
  const b = JSON.stringify(theirs);
  return a === b ? undefined : `kubedask ${a}, peer ${b}`;
}

export const kubedaskQueries: Record<Query, (input: QueryInput) => Promise<Check>> = {
  groupby: async ({ client, files, progress }) => frameCheck(
    await readParquet(files, { columns: ['origin', 'delay'] })
      .groupBy('origin')
      .agg(pl.col('delay').count().alias('n'), pl.col('delay').mean().alias('mean'), pl.col('delay').std().alias('std'))
      .compute({ client, progress }),
    'origin', 'n'),

  join: async ({ client, files, airports, progress }) => frameCheck(
    await readParquet(files, { columns: ['origin', 'delay'] })
      .join(readCsv(airports, { columns: ['iata', 'state'] }), { leftOn: 'origin', rightOn: 'iata' })
      .groupBy('state')
      .agg(pl.col('delay').count().alias('n'), pl.col('delay').mean().alias('mean'))
      .compute({ client, progress }),
    'state', 'n'),

  sort: async ({ client, files, progress }) => {
    const top = await readParquet(files).sort(['delay', 'date'], { descending: [true, false] }).head(10).compute({ client, progress });
    const dates = top.getColumn('date').toArray() as unknown as Date[];
    return { rows: top.height, keys: (top.getColumn('delay').toArray() as number[]).map((d, i) => `${d}@${dates[i]!.getTime()}`) };
  },

  write: async ({ client, files, outDir, progress }) => {
    const written = await readParquet(files)
      .filter(pl.col('delay').isNotNull().and(pl.col('distance').gt(500)))
      .withColumns(pl.col('date').date.hour().alias('hour'), pl.col('date').date.weekday().alias('weekday'), pl.col('delay').gt(15).alias('late'))
      .toParquet(outDir, { client, overwrite: true, progress });
    return { rows: written.rows };
  },
};
