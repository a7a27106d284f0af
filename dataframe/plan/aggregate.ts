// Two-phase aggregation: the user's aggregations split into a per-partition part, a combine
// that takes its own output (so partials combine in a tree), and a finalize. Decomposable:
// len, count, sum, min, max, first, last, mean, var, std (mean and variance travel as
// (n, mean, m2) and combine as Chan et al.'s parallel variance). Anything else (nUnique,
// median, an expression over several aggregations...) is not, and its groups must meet in one
// partition (a shuffle by the keys) to run as written.
import { isRowwise } from './elementwise.js';
import type { AggSpec, Expr, FinalSpec, UserAgg } from './nodes.js';

export interface Decomposed {
  /** withColumns expressions that compute aggregation inputs that are not bare columns. */
  pre: Expr[];
  partial: AggSpec[];
  combine: AggSpec[];
  finalize: FinalSpec[];
}

type Simple = { fn: 'len' } | { fn: 'sum' | 'min' | 'max' | 'first' | 'last' | 'count' | 'mean'; input: Expr } | { fn: 'var' | 'std'; input: Expr; ddof: number };

/** The decomposition of `aggs`, or undefined when any of them is not decomposable. */
export function decompose(aggs: readonly UserAgg[], dtypes: Readonly<Record<string, string>>): Decomposed | undefined {
  const out: Decomposed = { pre: [], partial: [], combine: [], finalize: [] };
  for (const [i, agg] of aggs.entries()) {
    const simple = parseAgg(agg.expr);
    if (!simple) return undefined;
    const p = (part: string) => `__kd_${i}_${part}`;
    const dtype = dtypes[agg.name] ?? '';
    if (simple.fn === 'len') {
      out.partial.push({ fn: 'len', as: p('n') });
      out.combine.push({ fn: 'sum', col: p('n'), as: p('n') });
      out.finalize.push({ kind: 'col', col: p('n'), as: agg.name, dtype });
      continue;
    }
    // Means and spreads travel as weighted Float64 parts: of a date or a decimal they cannot, and
    // of Float32 the parts are computed in Float64 (as Polars computes the whole), then cast back.
    const weighted = simple.fn === 'mean' || simple.fn === 'var' || simple.fn === 'std';
    const float = bareDtype(dtype);
    if (weighted && float !== 'Float64' && float !== 'Float32') return undefined;
    const input = weighted && float === 'Float32' ? { Cast: { expr: simple.input, dtype: { Literal: 'Float64' }, options: 'NonStrict' } } : simple.input;
    const col = inputColumn(input, p('in'), out.pre);
    if (col === undefined) return undefined;
    switch (simple.fn) {
      case 'count':
      case 'sum':
      case 'min':
      case 'max':
      case 'first':
      case 'last': {
        const combineFn = simple.fn === 'count' ? 'sum' : simple.fn;
        out.partial.push({ fn: simple.fn, col, as: p('v') });
        out.combine.push({ fn: combineFn, col: p('v'), as: p('v') });
        out.finalize.push({ kind: 'col', col: p('v'), as: agg.name, dtype });
        break;
      }
      case 'mean':
        out.partial.push({ fn: 'count', col, as: p('n') }, { fn: 'mean', col, as: p('mean') });
        out.combine.push({ fn: 'sum', col: p('n'), as: p('n') }, { fn: 'wmean', n: p('n'), mean: p('mean'), as: p('mean') });
        out.finalize.push({ kind: 'col', col: p('mean'), as: agg.name, dtype });
        break;
      case 'var':
      case 'std':
        out.partial.push({ fn: 'count', col, as: p('n') }, { fn: 'mean', col, as: p('mean') }, { fn: 'devsq', col, as: p('m2') });
        out.combine.push(
          { fn: 'sum', col: p('n'), as: p('n') },
          { fn: 'wmean', n: p('n'), mean: p('mean'), as: p('mean') },
          { fn: 'm2', n: p('n'), mean: p('mean'), m2: p('m2'), as: p('m2') },
        );
        out.finalize.push({ kind: simple.fn, n: p('n'), m2: p('m2'), ddof: simple.ddof, as: agg.name, dtype });
        break;
    }
  }
  return out;
}

/** The column an aggregation reads: a bare column as it is, a row-wise expression computed first
 *  as `name`; undefined for any other (a filter, an inner mean: per partition, before the
 *  group-by, it would see other rows than the group's, or another number of rows). */
function inputColumn(input: Expr, name: string, pre: Expr[]): string | undefined {
  const column = columnName(input);
  if (column !== undefined) return column;
  if (!isRowwise(input)) return undefined;
  pre.push({ Alias: [input, name] });
  return name;
}

/** A dtype as the plan names it ("Float64", "DataType(Float64)"), bare. */
function bareDtype(name: string): string {
  return name.replace(/^DataType\((.*)\)$/, '$1');
}

function columnName(e: Expr): string | undefined {
  return isRecord(e) && typeof e.Column === 'string' ? e.Column : undefined;
}

/** Recognizes `agg(input)` (under any alias) in Polars' serialized expression JSON. */
function parseAgg(expr: Expr): Simple | undefined {
  let e = expr;
  while (isRecord(e) && Array.isArray(e.Alias)) e = e.Alias[0];
  if (e === 'Len') return { fn: 'len' };
  if (!isRecord(e) || !isRecord(e.Agg)) return undefined;
  const [[name, body]] = Object.entries(e.Agg) as [[string, unknown]];
  switch (name) {
    case 'Sum': return { fn: 'sum', input: body };
    case 'Mean': return { fn: 'mean', input: body };
    case 'First': return { fn: 'first', input: body };
    case 'Last': return { fn: 'last', input: body };
    case 'Min':
    case 'Max':
      return isRecord(body) && 'input' in body && body.propagate_nans !== true ? { fn: name === 'Min' ? 'min' : 'max', input: body.input } : undefined;
    case 'Count':
      if (!isRecord(body) || !('input' in body)) return undefined;
      // count() with nulls included is the group's length.
      return body.include_nulls === true ? { fn: 'len' } : { fn: 'count', input: body.input };
    case 'Var':
    case 'Std':
      return Array.isArray(body) && typeof body[1] === 'number' ? { fn: name === 'Var' ? 'var' : 'std', input: body[0], ddof: body[1] } : undefined;
    default:
      return undefined;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
