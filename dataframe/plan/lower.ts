// Turns an (optimized) plan into tasks. Per-partition operations are carried as pending ops
// on each partition and only become a task when something needs the partition whole (an
// aggregation's combine, a shuffle, the result): a run of them is one Polars plan and one task
// per partition. Pure: keys come from the caller's KeyMaker.
import { decompose } from './aggregate.js';
import { PlanError } from './errors.js';
import type { Op, PlanNode } from './nodes.js';
import type { KeyMaker, PlannedTask, SourceSpec, StageParams, TaskPlan } from './tasks.js';

/** A partition not made yet: its inputs concatenated (or its source read), then ops. */
export interface Part {
  inputs: string[];
  source: SourceSpec | null;
  ops: Op[];
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
    if (!part.source && part.ops.length === 0 && part.inputs.length === 1) return part.inputs[0]!;
    const params: StageParams = { source: part.source, ops: part.ops };
    return this.emit('df/stage', params, part.inputs, group);
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
    map: (node) => this.parts(node.input).map((p) => ({ ...p, ops: [...p.ops, ...node.ops] })),
    head: (node) => {
      // Top-N: each partition keeps its own first n (sorted first when a sort comes before).
      const input = node.input.kind === 'sort' ? node.input.input : node.input;
      const sort: Op[] = node.input.kind === 'sort' ? [{ op: 'sort', by: node.input.by, descending: node.input.descending }] : [];
      const ops: Op[] = [...sort, { op: 'head', n: node.n }];
      const parts = this.parts(input).map((p) => ({ ...p, ops: [...p.ops, ...ops] }));
      return [this.tree(parts, ops, 'head')];
    },
    aggregate: (node) => {
      const dtypes = Object.fromEntries(node.schema.map((f) => [f.name, f.dtype]));
      const d = decompose(node.aggs, dtypes);
      const parts = this.parts(node.input);
      if (d && node.splitOut <= 1) {
        const partial: Op[] = [...(d.pre.length ? [{ op: 'withColumns', exprs: d.pre } as const] : []), { op: 'aggregate', keys: node.keys, aggs: d.partial }];
        const combine: Op = { op: 'aggregate', keys: node.keys, aggs: d.combine };
        const root = this.tree(parts.map((p) => ({ ...p, ops: [...p.ops, ...partial] })), [combine], 'aggregate');
        return [{ ...root, ops: [...root.ops, { op: 'finalize', keys: node.keys, outputs: d.finalize }] }];
      }
      throw new PlanError(`aggregations that need a shuffle (${node.aggs.map((a) => a.name).join(', ')}) are not supported yet`);
    },
    join: () => { throw new PlanError('join is not supported yet'); },
    sort: () => { throw new PlanError('sort is not supported yet'); },
    unique: () => { throw new PlanError('unique is not supported yet'); },
    repartition: () => { throw new PlanError('repartition is not supported yet'); },
    mapPartitions: () => { throw new PlanError('mapPartitions is not supported yet'); },
  };
}

/** The tasks that compute `node`, and its partitions' keys. */
export function planTasks(node: PlanNode, makeKey: KeyMaker): TaskPlan {
  const lowering = new Lowering(makeKey);
  const outputs = lowering.parts(node).map((p) => lowering.materialize(p, 'stage'));
  return { tasks: lowering.tasks, outputs };
}
