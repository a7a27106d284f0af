// Applies the planner's per-partition ops to a Polars LazyFrame: a run of them is one plan,
// optimized and run by Polars as a whole.
import pl from 'nodejs-polars';
import type { AggSpec, Expr, FinalSpec, Op } from '../plan/nodes.js';
import { expectSchema } from './expect-schema.js';
import { sortLazy } from './sort.js';

type LazyFrame = pl.LazyDataFrame;
type Handlers = { [K in Op['op']]: (lf: LazyFrame, op: Extract<Op, { op: K }>) => LazyFrame };

export function applyOps(lf: LazyFrame, ops: readonly Op[]): LazyFrame {
  let out = lf;
  for (const op of ops) out = (handlers[op.op] as (l: LazyFrame, o: Op) => LazyFrame)(out, op);
  return out;
}

/** A serialized expression back as a Polars expression. */
export function expr(e: Expr): pl.Expr {
  return pl.Expr.deserialize(Buffer.from(JSON.stringify(e)), 'json');
}

const handlers: Handlers = {
  filter: (lf, op) => lf.filter(expr(op.predicate)),
  withColumns: (lf, op) => lf.withColumns(...op.exprs.map(expr)),
  select: (lf, op) => lf.select(...op.exprs.map(expr)),
  drop: (lf, op) => (op.names.length ? lf.drop(op.names) : lf),
  rename: (lf, op) => lf.rename(op.mapping),
  head: (lf, op) => lf.head(op.n),
  slice: (lf, op) => {
    // Row counts are only known once collected: cut on the row index instead.
    const row = pl.intRange(0, pl.len());
    const start = pl.len().mul(op.index).div(op.of).floor();
    const end = pl.len().mul(op.index + 1).div(op.of).floor();
    return lf.filter(row.gtEq(start).and(row.lt(end)));
  },
  // Polars' defaults (nulls first), so results match a single-process sort.
  sort: (lf, op) => sortLazy(lf, op.by, op.descending),
  unique: (lf, op) => lf.unique({ subset: op.subset ?? undefined, keep: 'first', maintainOrder: true } as never),
  aggregate: (lf, op) => {
    if (op.keys.length === 0) return lf.select(...op.aggs.map(aggExpr));
    const cat = op.categorical ?? [];
    const keyed = cat.length ? lf.withColumns(...cat.map((k) => pl.col(k).cast(pl.Categorical))) : lf;
    const grouped = keyed.groupBy(op.keys).agg(...op.aggs.map(aggExpr));
    return cat.length ? grouped.withColumns(...cat.map((k) => pl.col(k).cast(pl.String))) : grouped;
  },
  finalize: (lf, op) => lf.select(...op.keys.map((k) => pl.col(k)), ...op.outputs.map(finalExpr)),
  expectSchema: (lf, op) => expectSchema(lf, op.schema, op.what),
};

function aggExpr(a: AggSpec): pl.Expr {
  switch (a.fn) {
    case 'len': return pl.len().alias(a.as);
    case 'sum': return pl.col(a.col).sum().alias(a.as);
    case 'min': return pl.col(a.col).min().alias(a.as);
    case 'max': return pl.col(a.col).max().alias(a.as);
    case 'first': return pl.col(a.col).first().alias(a.as);
    case 'last': return pl.col(a.col).last().alias(a.as);
    case 'mean': return pl.col(a.col).mean().alias(a.as);
    case 'count': return pl.col(a.col).count().alias(a.as);
    case 'devsq': return pl.col(a.col).sub(pl.col(a.col).mean()).pow(2).sum().alias(a.as);
    case 'wmean': return weightedMean(a.n, a.mean).alias(a.as);
    case 'm2': {
      // Chan et al.: m2 = sum(m2_i) + sum(n_i * (mean_i - mean)^2), nulls (empty parts) skipped.
      const spread = pl.col(a.n).mul(pl.col(a.mean).sub(weightedMean(a.n, a.mean)).pow(2)).sum();
      return pl.col(a.m2).sum().add(spread).alias(a.as);
    }
    case 'expr': return expr(a.expr).alias(a.as);
  }
}

/** sum(n * mean) / sum(n) over the parts that have rows; null when none has. */
function weightedMean(n: string, mean: string): pl.Expr {
  const rows = pl.col(n).filter(pl.col(mean).isNotNull());
  const total = pl.col(n).mul(pl.col(mean)).sum();
  return pl.when(rows.sum().gt(0)).then(total.div(rows.sum())).otherwise(pl.lit(null));
}

function finalExpr(f: FinalSpec): pl.Expr {
  let e: pl.Expr;
  switch (f.kind) {
    case 'col': e = pl.col(f.col); break;
    case 'var':
    case 'std': {
      const dof = pl.col(f.n).sub(f.ddof);
      const variance = pl.when(dof.gt(0)).then(pl.col(f.m2).div(dof)).otherwise(pl.lit(null));
      e = f.kind === 'std' ? variance.pow(0.5) : variance;
      break;
    }
  }
  const dtype = simpleDtype(f.dtype);
  return (dtype ? e.cast(dtype) : e).alias(f.as);
}

const SIMPLE: Record<string, pl.DataType> = {
  Int8: pl.Int8, Int16: pl.Int16, Int32: pl.Int32, Int64: pl.Int64, UInt8: pl.UInt8, UInt16: pl.UInt16,
  UInt32: pl.UInt32, UInt64: pl.UInt64, Float32: pl.Float32, Float64: pl.Float64, Bool: pl.Bool, String: pl.String,
};

/** The dtype a plan names ("Int64", "DataType(Int64)"), when it is a plain one. */
function simpleDtype(name: string): pl.DataType | undefined {
  const bare = name.replace(/^DataType\((.*)\)$/, '$1');
  return Object.hasOwn(SIMPLE, bare) ? SIMPLE[bare] : undefined;
}
