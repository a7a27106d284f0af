// Functions run on each partition as tasks of their own. mapPartitions: each partition made
// whole, then the user's function run on it (in a task thread, which hands it a Polars frame);
// its output is checked against the plan's schema by the first op of whatever reads it, so
// following ops still fuse there. A kernel call (a built-in per-partition kernel such as ONNX
// inference): the partition's pending ops run inside the kernel's own task, as a split's do, and
// so do the per-partition ops that follow it (say, an aggregation's partial): one task, not two.
import type { KernelTask, Lowering, Part } from './lower.js';
import { madeByTask } from './made-by-task.js';
import type { PlanNode } from './nodes.js';
import type { StageParams } from './tasks.js';

export function lowerMapPartitions(lowering: Lowering, node: Extract<PlanNode, { kind: 'mapPartitions' }>): Part[] {
  const what = `mapPartitions function ${node.fn.name}`;
  return lowering.parts(node.input).map((part) => {
    const input = lowering.materialize(part, 'stage');
    const key = lowering.emit('fn', null, [input], 'map-partitions', { fn: node.fn });
    return { inputs: [key], source: null, ops: [{ op: 'expectSchema', schema: node.schema, what }] };
  });
}

export function lowerKernelCall(lowering: Lowering, node: Extract<PlanNode, { kind: 'kernel' }>): Part[] {
  const { call } = node;
  const group = call.what.replace(/[^A-Za-z0-9]+/g, '-').toLowerCase();
  return lowering.parts(node.input).map((part) => {
    const made = madeByTask(part);
    const inputs = made ? [lowering.materialize(part, 'stage')] : part.inputs;
    const stage: StageParams = made ? { source: null, ops: [] } : { source: part.source, ops: part.ops };
    // A partition read from its file in the task has no key to stay with (its one key would be
    // the model, shared by every partition's task).
    const stayWithData = call.stayWithData && inputs.length > 0;
    const kernel: KernelTask = { kernel: call.kernel, params: { ...call.params, stage }, inputs: [...inputs, ...call.extraInputs], group, resources: call.resources, stayWithData };
    return { inputs: [], source: null, ops: [], kernel };
  });
}
