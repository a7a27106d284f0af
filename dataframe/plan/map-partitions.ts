// mapPartitions: each partition made whole, then the user's function run on it as a task of
// its own (in a task thread, which hands it a Polars frame). Its output is checked against the
// plan's schema by the first op of whatever reads it, so following ops still fuse there.
import type { Lowering, Part } from './lower.js';
import type { PlanNode } from './nodes.js';

export function lowerMapPartitions(lowering: Lowering, node: Extract<PlanNode, { kind: 'mapPartitions' }>): Part[] {
  const what = `mapPartitions function ${node.fn.name}`;
  return lowering.parts(node.input).map((part) => {
    const input = lowering.materialize(part, 'stage');
    const key = lowering.emit('fn', null, [input], 'map-partitions', { fn: node.fn });
    return { inputs: [key], source: null, ops: [{ op: 'expectSchema', schema: node.schema, what }] };
  });
}
