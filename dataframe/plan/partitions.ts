// How many partitions a plan's result has, from metadata alone.
import { joinStrategy, type JoinStrategy } from './join-strategy.js';
import type { PlanNode } from './nodes.js';

type Counters = { [K in PlanNode['kind']]: (node: Extract<PlanNode, { kind: K }>) => number };

const counters: Counters = {
  scan: (n) => n.parts.length,
  data: (n) => n.keys.length,
  map: (n) => partitionCount(n.input),
  aggregate: (n) => n.splitOut,
  join: (n) => joinStrategyOf(n).partitions,
  sort: (n) => partitionCount(n.input),
  head: () => 1,
  unique: (n) => partitionCount(n.input),
  repartition: (n) => n.partitions,
  mapPartitions: (n) => partitionCount(n.input),
  kernel: (n) => partitionCount(n.input),
};

export function partitionCount(node: PlanNode): number {
  return (counters[node.kind] as (n: PlanNode) => number)(node);
}

/** How `node` joins (join-strategy.ts), its sides' partitions counted from metadata. */
export function joinStrategyOf(node: Extract<PlanNode, { kind: 'join' }>): JoinStrategy {
  return joinStrategy(node, partitionCount(node.left), partitionCount(node.right));
}
