// A single-process reference run of a plan with nodejs-polars, for tests: scans read their row
// ranges (columns, then predicate, as the scan kernel does), per-partition ops run on each
// partition, everything else on all rows at once. Two plans that run to equal frames here
// compute the same thing on the cluster.
import pl from 'nodejs-polars';
import { applyOps, expr } from '../../dataframe/kernels/ops.js';
import { polarsJoinHow } from '../../dataframe/plan/join.js';
import type { PlanNode } from '../../dataframe/plan/nodes.js';

export function runPlan(node: PlanNode): pl.DataFrame[] {
  switch (node.kind) {
    case 'scan':
      return node.parts.map((part) => {
        let lf = pl.scanParquet(part.path).slice(part.offset, part.rows);
        if (node.columns) lf = lf.select(...node.columns.map((c) => pl.col(c)));
        if (node.predicate) lf = lf.filter(expr(node.predicate));
        return lf.collectSync();
      });
    case 'map':
      return runPlan(node.input).map((df) => applyOps(df.lazy(), node.ops).collectSync());
    case 'aggregate': {
      const aggs = node.aggs.map((a) => expr(a.expr).alias(a.name));
      const all = whole(node.input);
      return [node.keys.length ? all.groupBy(node.keys).agg(...aggs) : all.select(...aggs)];
    }
    case 'join':
      return [whole(node.left).join(whole(node.right), { leftOn: node.leftOn, rightOn: node.rightOn, how: polarsJoinHow(node.how), suffix: node.suffix } as never)];
    case 'sort':
      // As the sort op does: one column takes a bare flag.
      return [node.by.length === 1 ? whole(node.input).sort(node.by[0]!, node.descending[0]) : whole(node.input).sort(node.by, node.descending as never)];
    case 'head':
      return [whole(node.input).head(node.n)];
    case 'unique':
      return [whole(node.input).unique({ subset: node.subset ?? undefined, keep: 'first', maintainOrder: true } as never)];
    case 'repartition':
      return [whole(node.input)];
    case 'data':
    case 'mapPartitions':
    case 'kernel':
      throw new Error(`runPlan: ${node.kind} is not run here`);
  }
}

/** The plan's result as one frame, rows sorted by every column (for results whose order is not defined). */
export function sortedResult(node: PlanNode): pl.DataFrame {
  const df = whole(node);
  return df.height ? df.sort(df.columns) : df;
}

function whole(node: PlanNode): pl.DataFrame {
  const parts = runPlan(node);
  return parts.length === 1 ? parts[0]! : pl.concat(parts);
}
