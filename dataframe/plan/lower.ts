// Turns an (optimized) plan into tasks. Per-partition operations are carried as pending ops
// on each partition and only become a task when something needs the partition whole (an
// aggregation's combine, a shuffle, the result): a run of them is one Polars plan and one task
// per partition. Pure: keys come from the caller's KeyMaker.
import { decompose } from './aggregate.js';
import { lowerJoin, materializeJoin } from './join.js';
import { lowerKernelCall, lowerMapPartitions } from './map-partitions.js';
import { madeByTask } from './made-by-task.js';
import type { Op, PlanNode } from './nodes.js';
import { sortParts } from './sort.js';
import type { JoinSpec, KeyMaker, PlannedTask, ShuffleHow, SourceSpec, SplitParams, StageParams, TakeParams, TaskPlan } from './tasks.js';

/** A partition not made yet: its inputs concatenated (or its source read, or bucket `take.bucket`
 *  of each of a shuffle's splits gathered through its one input, the shuffle's barrier, or the
 *  `join` of two parts), then ops. */
export interface Part {
  inputs: string[];
  source: SourceSpec | null;
  ops: Op[];
  take?: { bucket: number; partitions: number };
  join?: { spec: JoinSpec; left: Part; right: Part };
  /** The output of a built-in kernel's task (map-partitions.ts), which also runs `ops` on it. */
  kernel?: KernelTask;
}

/** A kernel task not emitted yet: the ops after it fuse into it as its `post` parameter. */
export interface KernelTask {
  kernel: string;
  params: Record<string, unknown>;
  inputs: string[];
  group: string;
  resources: Record<string, number> | null;
  stayWithData: boolean;
}

/** Partials combined per task in an aggregation's tree. */
export const COMBINE_FAN_IN = 8;

type Handlers = { [K in PlanNode['kind']]: (node: Extract<PlanNode, { kind: K }>) => Part[] };

export class Lowering {
  readonly tasks: PlannedTask[] = [];

  constructor(private readonly makeKey: KeyMaker) {}

  parts(node: PlanNode): Part[] {
    return (this.handlers[node.kind] as (n: PlanNode) => Part[])(node);
  }

  /** The key holding the partition, emitting its stage task unless it is an input as it is. */
  materialize(part: Part, group: string): string {
    if (part.join) return materializeJoin(this, part.join, part.ops, group);
    if (part.kernel) {
      const k = part.kernel;
      return this.emit(k.kernel, { ...k.params, post: part.ops }, k.inputs, k.group, { ...(k.resources ? { resources: k.resources } : {}), ...(k.stayWithData ? { stayWithData: true } : {}) });
    }
    if (part.take) {
      const params: TakeParams = { bucket: part.take.bucket, partitions: part.take.partitions, ops: part.ops };
      return this.emit('df/take', params, part.inputs, group === 'stage' ? 'shuffle-take' : group);
    }
    if (!part.source && part.ops.length === 0 && part.inputs.length === 1) return part.inputs[0]!;
    const params: StageParams = { source: part.source, ops: part.ops };
    return this.emit('df/stage', params, part.inputs, part.source && group === 'stage' ? `read-${part.source.format}` : group);
  }

  /**
   * The rows of `parts` redistributed into `partitions` parts: one split task per input part
   * (its pending ops run in it), one barrier over all splits, and per output part a take of its
   * bucket from every split through the barrier (P + Q edges), left pending so what follows
   * fuses into the take. A range split's last input is the `boundaries` key.
   */
  shuffle(parts: Part[], how: ShuffleHow, partitions: number, group: string, boundaries?: string): Part[] {
    const splits = parts.map((p) => {
      const made = madeByTask(p);
      const inputs = made ? [this.materialize(p, `${group}-prepare`)] : p.inputs;
      const stage: StageParams = made ? { source: null, ops: [] } : { source: p.source, ops: p.ops };
      const params: SplitParams = { how, partitions, stage };
      return this.emit('df/split', params, boundaries ? [...inputs, boundaries] : inputs, `${group}-split`);
    });
    const barrier = this.emit('df/barrier', {}, splits, `${group}-barrier`, { barrier: true });
    return Array.from({ length: partitions }, (_, bucket) => ({ inputs: [barrier], source: null, ops: [], take: { bucket, partitions } }));
  }

  /** Consecutive parts concatenated into `count` parts (no data moves but to the task). */
  concatInto(parts: Part[], count: number, group: string): Part[] {
    const keys = parts.map((p) => this.materialize(p, group));
    return Array.from({ length: count }, (_, j) => ({
      inputs: keys.slice(Math.floor((j * keys.length) / count), Math.floor(((j + 1) * keys.length) / count)),
      source: null, ops: [],
    }));
  }

  emit(kernel: string, params: unknown, inputs: string[], group: string, extra: Partial<PlannedTask> = {}): string {
    const key = this.makeKey(group);
    this.tasks.push({ key, kernel, params, inputs, group, ...extra });
    return key;
  }

  /** Combines parts in a tree of at most COMBINE_FAN_IN inputs per task, each applying `ops`; one part out. */
  tree(parts: Part[], ops: Op[], group: string): Part {
    let keys = parts.map((p) => this.materialize(p, group === 'aggregate' ? 'partial-agg' : group));
    while (keys.length > COMBINE_FAN_IN) {
      const next: string[] = [];
      for (let i = 0; i < keys.length; i += COMBINE_FAN_IN) {
        next.push(this.materialize({ inputs: keys.slice(i, i + COMBINE_FAN_IN), source: null, ops }, `combine-${group}`));
      }
      keys = next;
    }
    return { inputs: keys, source: null, ops };
  }

  private readonly handlers: Handlers = {
    scan: (node) => node.parts.map((part) => ({
      inputs: [], ops: [],
      source: node.format === 'csv'
        ? { format: 'csv', part, columns: node.columns, predicate: node.predicate, csv: node.csv }
        : { format: 'parquet', part, columns: node.columns, predicate: node.predicate },
    })),
    data: (node) => node.keys.map((key) => ({ inputs: [key], source: null, ops: [] })),
    map: (node) => this.parts(node.input).map((p, j) => ({
      ...p, ops: [...p.ops, ...node.ops.map((op) => (op.op === 'partitionIndex' ? { ...op, index: j } : op))],
    })),
    head: (node) => {
      // Top-N: each partition keeps its own first n (sorted first when a sort comes before).
      const input = node.input.kind === 'sort' ? node.input.input : node.input;
      const ops: Op[] = node.input.kind === 'sort'
        ? [{ op: 'topN', by: node.input.by, descending: node.input.descending, n: node.n }]
        : [{ op: 'head', n: node.n }];
      const parts = this.parts(input).map((p) => ({ ...p, ops: [...p.ops, ...ops] }));
      return [this.tree(parts, ops, 'head')];
    },
    aggregate: (node) => {
      const dtypes = Object.fromEntries(node.schema.map((f) => [f.name, f.dtype]));
      const d = decompose(node.aggs, dtypes);
      const parts = this.parts(node.input);
      if (d) {
        const partial: Op[] = [...(d.pre.length ? [{ op: 'withColumns', exprs: d.pre } as const] : []), { op: 'aggregate', keys: node.keys, aggs: d.partial, ...(node.keys.length ? {} : { dropEmpty: true }) }];
        const combine: Op = { op: 'aggregate', keys: node.keys, aggs: d.combine };
        const finalize: Op = { op: 'finalize', keys: node.keys, outputs: d.finalize };
        const partials = parts.map((p) => ({ ...p, ops: [...p.ops, ...partial] }));
        if (node.splitOut <= 1 || node.keys.length === 0) {
          const root = this.tree(partials, [combine], 'aggregate');
          return [{ ...root, ops: [...root.ops, finalize] }];
        }
        // Many groups: the partials meet by key in splitOut parts, each combined and finalized.
        return this.shuffle(partials, { kind: 'hash', by: node.keys }, node.splitOut, 'aggregate')
          .map((p) => ({ ...p, ops: [combine, finalize] }));
      }
      // Not decomposable: whole groups must meet in one part, by the hash of the keys.
      const whole: Op = { op: 'aggregate', keys: node.keys, aggs: node.aggs.map((a) => ({ fn: 'expr', expr: a.expr, as: a.name })) };
      if (node.keys.length === 0) return [{ inputs: parts.map((p) => this.materialize(p, 'stage')), source: null, ops: [whole] }];
      const spread = node.splitOut > 1 ? node.splitOut : parts.length;
      const grouped = this.shuffle(parts, { kind: 'hash', by: node.keys }, spread, 'aggregate').map((p) => ({ ...p, ops: [whole] }));
      return node.splitOut > 1 ? grouped : [this.tree(grouped, [], 'aggregate')];
    },
    join: (node) => lowerJoin(this, node),
    sort: (node) => sortParts(this, this.parts(node.input), node.by, node.descending),
    unique: (node) => {
      // Each part drops its own duplicates first (less to move); equal rows then meet by hash.
      // keep 'first' in partition order is what a single process keeps.
      const dedupe: Op = { op: 'unique', subset: node.subset };
      const parts = this.parts(node.input).map((p) => ({ ...p, ops: [...p.ops, dedupe] }));
      if (parts.length === 1) return parts;
      const by = node.subset ?? node.schema.map((f) => f.name);
      return this.shuffle(parts, { kind: 'hash', by }, parts.length, 'unique').map((p) => ({ ...p, ops: [dedupe] }));
    },
    repartition: (node) => {
      const parts = this.parts(node.input);
      if (node.by) return this.shuffle(parts, { kind: 'hash', by: node.by }, node.partitions, 'repartition');
      if (node.partitions <= parts.length) return this.concatInto(parts, node.partitions, 'repartition');
      // More parts than there are: each part cut into even row ranges, then regrouped in order.
      // A part a task of its own makes (a kernel's, a join's, a take's) is made once, then cut.
      const pieces = Math.ceil(node.partitions / parts.length);
      const cut = parts.map((p) => (madeByTask(p) ? { inputs: [this.materialize(p, 'repartition')], source: null, ops: [] } : p))
        .flatMap((p) => Array.from({ length: pieces }, (_, index) => ({ ...p, ops: [...p.ops, { op: 'slice', index, of: pieces } as const] })));
      return this.concatInto(cut, node.partitions, 'repartition');
    },
    mapPartitions: (node) => lowerMapPartitions(this, node),
    kernel: (node) => lowerKernelCall(this, node),
  };
}

/** The tasks that compute `node`, and its partitions' keys. */
export function planTasks(node: PlanNode, makeKey: KeyMaker): TaskPlan {
  const lowering = new Lowering(makeKey);
  const outputs = lowering.parts(node).map((p) => lowering.materialize(p, 'stage'));
  return { tasks: lowering.tasks, outputs };
}
