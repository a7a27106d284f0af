// describe(): count, null_count, mean, std, min, max per column, in one pass of decomposable
// aggregations, laid out as Polars' describe() lays them out: one row per statistic, numeric
// columns as Float64, the others as text.
import pl from 'nodejs-polars';
import type { DataFrame } from './frame.js';
import type { RunOptions } from './execute.js';

const STATS = ['count', 'null_count', 'mean', 'std', 'min', 'max'] as const;

export async function describe(frame: DataFrame, options?: RunOptions): Promise<pl.DataFrame> {
  const schema = frame.polarsSchema;
  const numeric = (c: string) => /^(Int|UInt|Float)/.test(String(schema[c]).replace(/^DataType\(/, ''));
  const exprs: pl.Expr[] = [pl.len().alias('__rows')];
  for (const c of frame.columns) {
    exprs.push(pl.col(c).count().alias(`count:${c}`), pl.col(c).min().alias(`min:${c}`), pl.col(c).max().alias(`max:${c}`));
    if (numeric(c)) exprs.push(pl.col(c).mean().alias(`mean:${c}`), pl.col(c).std().alias(`std:${c}`));
  }
  const row = await frame.noKeysAgg(exprs).compute(options);
  const get = (name: string): unknown => (row.columns.includes(name) ? row.getColumn(name).get(0) : null);
  const rows = Number(get('__rows'));
  const series: pl.Series[] = [pl.Series('statistic', [...STATS])];
  for (const c of frame.columns) {
    const count = Number(get(`count:${c}`));
    const values = STATS.map((s) => (s === 'count' ? count : s === 'null_count' ? rows - count : get(`${s}:${c}`)));
    series.push(numeric(c)
      ? pl.Series(c, values.map((v) => (v === null || v === undefined ? null : Number(v))), pl.Float64)
      : pl.Series(c, values.map((v) => (v === null || v === undefined ? null : String(v))), pl.String));
  }
  return pl.DataFrame(series);
}
