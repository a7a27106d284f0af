// Applies the planner's per-partition ops to a Polars LazyFrame: a run of them is one plan,
// optimized and run by Polars as a whole.
import pl from 'nodejs-polars';
import type { AggSpec, Expr, FinalSpec, Op } from '../plan/nodes.js';
import { exactJson } from './exact-json.js';
import { expectSchema } from './expect-schema.js';
import { sortLazy } from './sort.js';

type LazyFrame = pl.LazyDataFrame;
type Step = (lf: LazyFrame) => LazyFrame;
type Compilers = { [K in Op['op']]: (op: Extract<Op, { op: K }>) => Step };

export function applyOps(lf: LazyFrame, ops: readonly Op[]): LazyFrame {
  let out = lf;
  for (const op of ops) out = compiled(op)(out);
  return out;
}

/** A serialized expression back as a Polars expression (its float literals exact: exact-json.ts). */
export function expr(e: Expr): pl.Expr {
  return pl.Expr.deserialize(Buffer.from(exactJson(e)), 'json');
}

// nodejs-polars builds each Expr object at a cost of milliseconds (hundreds of closures, and
// garbage collection of them): an op's expressions are built once per worker and reused by
// every partition that runs the same op (Polars expressions are immutable).
const CACHE_SIZE = 256;
const cache = new Map<string, Step>();

function compiled(op: Op): Step {
  const key = JSON.stringify(op);
  let step = cache.get(key);
  if (step) {
    cache.delete(key);
  } else {
    step = (compilers[op.op] as (o: Op) => Step)(op);
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  }
  cache.set(key, step);
  return step;
}

/** A keyless partial's row count, to drop the row of an empty partition. */
const ROWS = '__kd_rows';

const compilers: Compilers = {
  filter: (op) => {
    const predicate = expr(op.predicate);
    return (lf) => lf.filter(predicate);
  },
  withColumns: (op) => {
    const exprs = op.exprs.map(expr);
    return (lf) => lf.withColumns(...exprs);
  },
  select: (op) => {
    const exprs = op.exprs.map(expr);
    return (lf) => lf.select(...exprs);
  },
  drop: (op) => (lf) => (op.names.length ? lf.drop(op.names) : lf),
  rename: (op) => (lf) => lf.rename(op.mapping),
  head: (op) => (lf) => lf.head(op.n),
  partitionIndex: (op) => {
    const index = pl.lit(op.index ?? 0).cast(pl.Int64).alias(op.name);
    return (lf) => lf.withColumns(index);
  },
  slice: (op) => {
    // Row counts are only known once collected: cut on the row index instead.
    const row = pl.intRange(0, pl.len());
    const start = pl.len().mul(op.index).div(op.of).floor();
    const end = pl.len().mul(op.index + 1).div(op.of).floor();
    const inRange = row.gtEq(start).and(row.lt(end));
    return (lf) => lf.filter(inRange);
  },
  // Polars' defaults (nulls first), so results match a single-process sort.
  sort: (op) => (lf) => sortLazy(lf, op.by, op.descending),
  topN: (op) => {
    // Only rows that can be among the first n are sorted: those whose first sort key is null
    // (nulls sort first) or at least as good as the n-th best non-null value (ties kept); all
    // of them when there are fewer than n non-null values.
    const [key] = op.by;
    const first = pl.col(key!);
    const nth = first.sort({ descending: op.descending[0]!, nullsLast: true }).head(op.n).last();
    const keep = first.isNull().or((op.descending[0] ? first.gtEq(nth) : first.ltEq(nth)).fillNull(true));
    return (lf) => sortLazy(lf.filter(keep), op.by, op.descending).head(op.n);
  },
  unique: (op) => (lf) => lf.unique({ subset: op.subset ?? undefined, keep: 'first', maintainOrder: true } as never),
  aggregate: (op) => {
    const steps = op.aggs.map(aggSteps);
    const pre = steps.flatMap((s) => s.pre);
    const post = steps.flatMap((s) => s.post);
    const aggs = steps.flatMap((s) => s.aggs);
    const order = [...op.keys.map((k) => pl.col(k)), ...op.aggs.map((a) => pl.col(a.as))];
    // Built once per op, not per partition: each Polars expression object is costly to make.
    const rows = pl.len().alias(ROWS);
    const nonEmpty = pl.col(ROWS).gt(0);
    return (lf) => {
      const input = pre.length ? lf.withColumns(...pre) : lf;
      const out = op.keys.length ? input.groupBy(op.keys).agg(...aggs)
        : op.dropEmpty ? input.select(...aggs, rows).filter(nonEmpty).drop(ROWS)
          : input.select(...aggs);
      return post.length ? out.withColumns(...post).select(...order) : out;
    };
  },
  finalize: (op) => {
    const outputs = [...op.keys.map((k) => pl.col(k)), ...op.outputs.map(finalExpr)];
    return (lf) => lf.select(...outputs);
  },
  expectSchema: (op) => (lf) => expectSchema(lf, op.schema, op.what),
};

/** An aggregation in three steps: columns computed before the group-by, its aggregations, and
 *  columns computed from them after. Simple ones are one aggregation; combining partial means
 *  and variances are sums of products (plain sums are Polars' fast path; nested aggregations
 *  inside a group-by are evaluated group by group, many times slower). */
interface AggSteps { pre: pl.Expr[]; aggs: pl.Expr[]; post: pl.Expr[] }

function aggSteps(a: AggSpec): AggSteps {
  const one = (e: pl.Expr): AggSteps => ({ pre: [], aggs: [e.alias(a.as)], post: [] });
  switch (a.fn) {
    case 'len': return one(pl.len());
    case 'sum': return one(pl.col(a.col).sum());
    case 'min': return one(pl.col(a.col).min());
    case 'max': return one(pl.col(a.col).max());
    case 'first': return one(pl.col(a.col).first());
    case 'last': return one(pl.col(a.col).last());
    case 'mean': return one(pl.col(a.col).mean());
    case 'count': return one(pl.col(a.col).count());
    // m2 = var * (n - 1): the group's sum of squared deviations; 0 for fewer than two values.
    case 'devsq': return one(pl.col(a.col).var().mul(pl.col(a.col).count().sub(1)).fillNull(0));
    case 'expr': return one(expr(a.expr));
    case 'wmean': {
      // sum(n_i * mean_i) / sum(n_i) over the parts that have rows; null when none has.
      const t = (part: string) => `__kd_${a.as}_${part}`;
      return {
        pre: [...weights(a.n, a.mean, t)],
        aggs: [pl.col(t('nv')).sum().alias(t('snv')), pl.col(t('nm')).sum().alias(t('snm'))],
        post: [ratio(pl.col(t('snm')), pl.col(t('snv'))).alias(a.as)],
      };
    }
    case 'm2': {
      // Chan et al.: m2 = sum(m2_i) + sum(n_i * mean_i^2) - (sum(n_i * mean_i))^2 / sum(n_i).
      const t = (part: string) => `__kd_${a.as}_${part}`;
      const m2 = pl.col(t('sm2')).add(pl.col(t('snmm'))).sub(pl.col(t('snm')).pow(2).div(pl.col(t('snv'))));
      return {
        pre: [...weights(a.n, a.mean, t), pl.col(a.n).mul(pl.col(a.mean)).mul(pl.col(a.mean)).fillNull(0).alias(t('nmm')), pl.col(a.m2).fillNull(0).alias(t('m2'))],
        aggs: [pl.col(t('nv')).sum().alias(t('snv')), pl.col(t('nm')).sum().alias(t('snm')), pl.col(t('nmm')).sum().alias(t('snmm')), pl.col(t('m2')).sum().alias(t('sm2'))],
        // Rounding can take a zero spread just below 0.
        post: [pl.when(pl.col(t('snv')).gt(0).and(m2.gt(0))).then(m2).otherwise(pl.lit(0)).alias(a.as)],
      };
    }
  }
}

/** n where the part has a mean (rows), else 0; and n * mean, 0 for none. */
function weights(n: string, mean: string, t: (part: string) => string): pl.Expr[] {
  return [
    pl.when(pl.col(mean).isNotNull()).then(pl.col(n)).otherwise(pl.lit(0)).alias(t('nv')),
    pl.col(n).mul(pl.col(mean)).fillNull(0).alias(t('nm')),
  ];
}

function ratio(num: pl.Expr, den: pl.Expr): pl.Expr {
  return pl.when(den.gt(0)).then(num.div(den)).otherwise(pl.lit(null));
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
export function simpleDtype(name: string): pl.DataType | undefined {
  const bare = name.replace(/^DataType\((.*)\)$/, '$1');
  return Object.hasOwn(SIMPLE, bare) ? SIMPLE[bare] : undefined;
}
