// How many partitions a plan's result has, from metadata alone.
import type { PlanNode } from './nodes.js';

type Counters = { [K in PlanNode['kind']]: (node: Extract<PlanNode, { kind: K }>) => number };

const counters: Counters = {
  scan: (n) => n.parts.length,
  data: (n) => n.keys.length,
  map: (n) => partitionCount(n.input),
  aggregate: (n) => n.splitOut,
  join: (n) => Math.max(partitionCount(n.left), partitionCount(n.right)),
  sort: (n) => partitionCount(n.input),
  head: () => 1,
  unique: (n) => partitionCount(n.input),
  repartition: (n) => n.partitions,
  mapPartitions: (n) => partitionCount(n.input),
};

export function partitionCount(node: PlanNode): number {
  return (counters[node.kind] as (n: PlanNode) => number)(node);
}
