// Whether an expression can run on each partition alone. Most do (arithmetic, comparisons,
// casts, string and date functions). Those that look across rows do not: aggregations
// (x - x.mean()), windows (over), and order-dependent functions (cumSum, shift, rank, diff,
// rolling, fill forward, ...): per partition they would give another answer than Polars gives on
// the whole frame, so frame.ts refuses them with a clear error (aggregate with groupBy().agg()).
import type { Expr } from './nodes.js';

// Filter and Explode change the number of rows: per partition, another frame's worth.
const CROSS_ROW_NODES = new Set(['Agg', 'Len', 'Over', 'Window', 'Slice', 'Sort', 'SortBy', 'Gather', 'Rolling', 'Filter', 'Explode']);
const CROSS_ROW_FUNCTIONS = new Set([
  'CumSum', 'CumProd', 'CumMin', 'CumMax', 'CumCount', 'Shift', 'ShiftAndFill', 'Rank', 'Diff', 'PctChange',
  'RollingExpr', 'RollingExprBy', 'FillNullWithStrategy', 'Unique', 'UniqueCounts', 'Reverse', 'Range',
  'ArgUnique', 'IsFirstDistinct', 'IsLastDistinct', 'IsUnique', 'IsDuplicated', 'Interpolate', 'Ewm', 'EwmMean',
  'EwmStd', 'EwmVar', 'TopK', 'ArgMin', 'ArgMax', 'Mode', 'ValueCounts', 'Sample', 'Shuffle', 'ForwardFill', 'BackwardFill',
  'ArgSort', 'GatherEvery', 'SearchSorted', 'DropNulls', 'DropNans',
]);

/** The first cross-row part of `expr` (e.g. "Agg(Mean)", "CumSum"), or undefined when it is row-wise. */
export function crossRowPart(expr: Expr): string | undefined {
  if (expr === 'Len') return 'len()';
  if (Array.isArray(expr)) {
    for (const e of expr) {
      const found = crossRowPart(e);
      if (found) return found;
    }
    return undefined;
  }
  if (expr === null || typeof expr !== 'object') return undefined;
  for (const [name, body] of Object.entries(expr as Record<string, unknown>)) {
    if (CROSS_ROW_NODES.has(name)) return name === 'Agg' ? `${Object.keys(body as object)[0]?.toLowerCase() ?? 'an aggregation'}()` : name;
    if (name === 'Function' && body && typeof body === 'object') {
      const fn = (body as { function?: unknown }).function;
      const fnName = typeof fn === 'string' ? fn : fn && typeof fn === 'object' ? Object.keys(fn)[0] : undefined;
      if (fnName && CROSS_ROW_FUNCTIONS.has(fnName)) return fnName;
    }
    if (name === 'Literal') continue; // a literal's payload is data, not expressions
    const found = crossRowPart(body);
    if (found) return found;
  }
  return undefined;
}

/** Whether the expression is one aggregation at its top (under aliases): len(), sum(), ... */
export function isAggregation(expr: Expr): boolean {
  let e = expr;
  while (e !== null && typeof e === 'object' && !Array.isArray(e) && Array.isArray((e as { Alias?: unknown[] }).Alias)) e = (e as { Alias: unknown[] }).Alias[0];
  return e === 'Len' || (e !== null && typeof e === 'object' && 'Agg' in e);
}
