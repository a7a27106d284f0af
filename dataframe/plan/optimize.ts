// The optimizer: rewrites a plan into an equal one that reads and moves less. Filters first go
// as early as they can (into the scan where they reach it), then each scan is narrowed to the
// columns the query uses, the pushed filters' included. Pure.
import type { PlanNode } from './nodes.js';
import { pushPredicates } from './predicates.js';
import { pruneColumns } from './projection.js';

export function optimize(node: PlanNode): PlanNode {
  return pruneColumns(pushPredicates(node));
}
