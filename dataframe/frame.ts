// The user's DataFrame: a lazy plan over partitions on the cluster. Every operation is checked
// here, on an empty frame of the input's schema (schema.ts), so a mistake fails at the call
// that made it; nothing runs until compute(), persist(), count(), describe() or toParquet().
import { tableFromIPC, type Table } from 'apache-arrow';
import pl from 'nodejs-polars';
import type { Future } from '../client/future.js';
import type { FunctionDef } from '../client/messages.js';
import type { RebalanceResult } from '../client/scheduler-rpc.js';
import { adaptedFunction, builtinFunction, functionDef, type AdaptedFunction, type AnyFunction, type ModuleFunction, type TaskFunction } from '../client/task-functions.js';
import { DataFrameError, polarsMessage } from './errors.js';
import { crossRowPart, isAggregation } from './plan/row-wise.js';
import { progressFutures, type ProgressSource } from '../client/progress.js';
import { progressOptions, resolveClient, showProgress, submitPlan, type DataBinding, type RunOptions } from './execute.js';
import type { JoinHow, Op, PlanNode, UserAgg } from './plan/nodes.js';
import { explainPlan } from './plan/explain.js';
import { optimize } from './plan/optimize.js';
import { partitionCount } from './plan/partitions.js';
import { emptyFrame, inferSchema, planSchema, type PlSchema } from './schema.js';
import { polarsJoinHow } from './plan/join.js';
import type { ParquetWritten, ToParquetOptions } from './write.js';

export type JoinOptions = ({ on: string | string[] } | { leftOn: string | string[]; rightOn: string | string[] }) & {
  how?: JoinHow;
  /** Appended to the right side's column names that clash with the left's (default "_right"). */
  suffix?: string;
};

export interface SortOptions {
  /** One flag for all columns or one per column (default false). */
  descending?: boolean | boolean[];
}

export type RepartitionOptions = { partitions: number } | { by: string | string[]; partitions: number };

export interface MapPartitionsOptions {
  /** The schema fn's output has, when it differs from the input's (Polars dtypes by column). */
  schema?: PlSchema;
}

let dataSeq = 0;

export class DataFrame implements ProgressSource {
  private constructor(
    /** @internal The lazy plan. */
    readonly plan: PlanNode,
    private readonly plSchema: PlSchema,
    /** @internal What the plan's `data` keys stand for. */
    readonly bindings: ReadonlyMap<string, DataBinding>,
    /** @internal The user functions of the plan's mapPartitions, by id. */
    readonly functions: ReadonlyMap<string, TaskFunction>,
  ) {}

  /** @internal */
  static fromPlan(plan: PlanNode, schema: PlSchema, bindings: ReadonlyMap<string, DataBinding> = new Map(), functions: ReadonlyMap<string, TaskFunction> = new Map()): DataFrame {
    return new DataFrame(plan, schema, bindings, functions);
  }

  /** Column names, from metadata. */
  get columns(): string[] {
    return Object.keys(this.plSchema);
  }

  /** Column dtypes, from metadata. */
  get schema(): PlSchema {
    return { ...this.plSchema };
  }

  /** How many partitions the result has, from metadata. */
  get npartitions(): number {
    // Of the plan that runs: narrowing columns can make a join side small enough to broadcast.
    return partitionCount(optimize(this.plan));
  }

  filter(predicate: pl.Expr): DataFrame {
    const json = rowWise(serialize(predicate, 'filter'), 'filter');
    return this.map('filter', { op: 'filter', predicate: json }, (lf) => lf.filter(predicate));
  }

  withColumns(...exprs: pl.Expr[]): DataFrame {
    const json = exprs.map((e) => rowWise(serialize(e, 'withColumns'), 'withColumns'));
    return this.map('withColumns', { op: 'withColumns', exprs: json }, (lf) => lf.withColumns(...exprs));
  }

  /** Columns and expressions per row; or, when every expression is an aggregation
   *  (`pl.col('x').sum()`), one row over the whole frame, as Polars gives. */
  select(...columns: Array<string | pl.Expr>): DataFrame {
    const exprs = columns.map((c) => (typeof c === 'string' ? pl.col(c) : c));
    const json = exprs.map((e) => serialize(e, 'select'));
    if (json.length > 0 && json.every(isAggregation)) return aggregate(this, [], exprs, 1);
    return this.map('select', { op: 'select', exprs: json.map((e) => rowWise(e, 'select')) }, (lf) => lf.select(...exprs));
  }

  drop(...names: string[]): DataFrame {
    this.requireColumns('drop', names);
    return this.map('drop', { op: 'drop', names }, (lf) => lf.drop(names));
  }

  rename(mapping: Record<string, string>): DataFrame {
    this.requireColumns('rename', Object.keys(mapping));
    return this.map('rename', { op: 'rename', mapping: { ...mapping } }, (lf) => lf.rename(mapping));
  }

  groupBy(...keys: Array<string | string[]>): GroupBy {
    const names = keys.flat();
    if (names.length === 0) throw new DataFrameError('groupBy: give at least one key column');
    this.requireColumns('groupBy', names);
    return new GroupBy(this, names);
  }

  join(other: DataFrame, options: JoinOptions): DataFrame {
    const [leftOn, rightOn] = 'on' in options ? [list(options.on), list(options.on)] : [list(options.leftOn), list(options.rightOn)];
    const how = options.how ?? 'inner';
    if (!['inner', 'left', 'outer', 'semi', 'anti'].includes(how)) throw new DataFrameError(`join: how must be inner, left, outer, semi or anti, got ${String(how)}`);
    if (leftOn.length === 0 || leftOn.length !== rightOn.length) throw new DataFrameError(`join: give as many left as right key columns (got ${leftOn.length} and ${rightOn.length})`);
    this.requireColumns('join (left side)', leftOn);
    other.requireColumns('join (right side)', rightOn);
    const suffix = options.suffix ?? '_right';
    const right = emptyFrame(other.plSchema);
    const schema = inferSchema('join', (lf) => lf.join(right.lazy(), { leftOn, rightOn, how: polarsJoinHow(how), suffix } as never), this.plSchema);
    return this.derived({ kind: 'join', left: this.plan, right: other.plan, leftOn, rightOn, how, suffix, schema: planSchema(schema) }, schema, other);
  }

  sort(by: string | string[], options: SortOptions = {}): DataFrame {
    const names = list(by);
    if (names.length === 0) throw new DataFrameError('sort: give at least one column');
    this.requireColumns('sort', names);
    const d = options.descending ?? false;
    const descending = Array.isArray(d) ? d : names.map(() => d);
    if (descending.length !== names.length) throw new DataFrameError(`sort: ${names.length} columns but ${descending.length} descending flags`);
    return this.derived({ kind: 'sort', input: this.plan, by: names, descending, schema: planSchema(this.plSchema) }, this.plSchema);
  }

  /** The first n rows (in partition order; after a sort, the top n). */
  head(n = 5): DataFrame {
    if (!Number.isInteger(n) || n < 0) throw new DataFrameError(`head: n must be an integer >= 0, got ${n}`);
    return this.derived({ kind: 'head', input: this.plan, n, schema: planSchema(this.plSchema) }, this.plSchema);
  }

  unique(subset?: string | string[]): DataFrame {
    const names = subset === undefined ? null : list(subset);
    if (names) this.requireColumns('unique', names);
    return this.derived({ kind: 'unique', input: this.plan, subset: names, schema: planSchema(this.plSchema) }, this.plSchema);
  }

  repartition(options: RepartitionOptions): DataFrame {
    const n = options.partitions;
    if (!Number.isInteger(n) || n < 1) throw new DataFrameError(`repartition: partitions must be a positive integer, got ${n}`);
    const by = 'by' in options ? list(options.by) : null;
    if (by) this.requireColumns('repartition', by);
    return this.derived({ kind: 'repartition', input: this.plan, partitions: n, by, schema: planSchema(this.plSchema) }, this.plSchema);
  }

  /**
   * Runs fn on each partition, in the workers' task threads: fn gets a Polars DataFrame and
   * returns one (or a promise of one). Give `schema` when the output's columns differ.
   */
  mapPartitions(fn: TaskFunction<[pl.DataFrame], pl.DataFrame | Promise<pl.DataFrame>>, options: MapPartitionsOptions = {}): DataFrame {
    // Called through the "polars" adapter: its task thread hands it frames (worker/runtime/thread-adapters.ts).
    let adapted: AdaptedFunction;
    let def: FunctionDef;
    try {
      adapted = adaptedFunction(fn as AnyFunction | ModuleFunction, 'polars');
      def = functionDef(adapted);
    } catch (err) {
      throw new DataFrameError(`mapPartitions: ${(err as Error).message}`, { cause: err });
    }
    const schema = options.schema ?? this.plSchema;
    if (options.schema) inferSchema('mapPartitions: the schema option', (lf) => lf, options.schema);
    const functions = new Map(this.functions).set(def.id, adapted);
    return DataFrame.fromPlan(
      { kind: 'mapPartitions', input: this.plan, fn: { id: def.id, name: def.name }, schema: planSchema(schema) },
      schema, this.bindings, functions,
    );
  }

  /** The optimized plan, as text. */
  explain(): string {
    return explainPlan(optimize(this.plan));
  }

  /** The result, as one Polars DataFrame in this process. `{ progress: true }` draws bars while it runs. */
  async compute(options?: RunOptions): Promise<pl.DataFrame> {
    const client = resolveClient(options);
    const shownWith = progressOptions(options, client);
    const parts = submitPlan(this.plan, this.bindings, this.functions, client);
    // One task concatenates the partitions on a worker and brings them here as an Arrow IPC stream.
    const collect = client.submitWith({ group: 'collect' }, builtinFunction('df/collect'), {}, ...parts);
    const shown = showProgress([collect], shownWith);
    try {
      const bytes = (await collect.result()) as Uint8Array;
      return pl.readIPCStream(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    } finally {
      await shown; // the bars' last lines come before what the caller prints next
      // Released now, not when this process happens to collect the Futures' garbage.
      for (const future of [collect, ...parts]) future.release();
    }
  }

  /**
   * Computes the partitions and keeps them on the workers: a DataFrame over them, returned at
   * once. `await progress(df.persist())` draws bars until they are computed; `{ progress: true }`
   * draws them in the background instead, without waiting.
   */
  persist(options?: RunOptions): DataFrame {
    const client = resolveClient(options);
    const shownWith = progressOptions(options, client);
    const futures = submitPlan(this.plan, this.bindings, this.functions, client);
    void showProgress(futures, shownWith);
    return dataOf(futures.map((future) => ({ future })), this.plSchema, null);
  }

  /**
   * Spreads a persisted frame's partitions over the workers, each about its share by threads
   * (Client.rebalance), once they are computed. Partitions land on whichever worker is free
   * first, so a persist can leave one worker holding most of them, and a worker added later
   * holds none; work over them (scoring with predictOnnx stays with the data) then runs on
   * fewer workers than there are.
   */
  async rebalance(options?: RunOptions & { timeoutMs?: number }): Promise<RebalanceResult> {
    const client = resolveClient(options);
    return client.rebalance(this.partitionFutures('rebalance'), { timeoutMs: options?.timeoutMs });
  }

  /** @internal For progress(df): the futures of a persisted frame's partitions. */
  [progressFutures](): Future[] {
    return this.partitionFutures('progress(df)');
  }

  private partitionFutures(what: string): Future[] {
    const futures = this.plan.kind === 'data' ? [...this.bindings.values()].map((b) => b.future) : [];
    if (futures.length === 0 || futures.some((f) => f === undefined)) {
      throw new DataFrameError(`${what}: nothing of this DataFrame is on the cluster: it is lazy (or local data); persist it first (df.persist())`);
    }
    return futures as Future[];
  }

  /**
   * Writes the result as a directory of Parquet files, `part-00000.parquet`, ... one per
   * partition, each by the worker that holds it; returns when all are written. The directory is
   * created; one that is not empty is refused unless `overwrite` (then its contents are deleted).
   * The workers write it at the same path: on Kubernetes, a volume they and this process share.
   */
  async toParquet(dir: string, options?: ToParquetOptions): Promise<ParquetWritten> {
    const { toParquet } = await import('./write.js');
    return toParquet(this, dir, options);
  }

  /** The result, as one Apache Arrow table in this process. */
  async toArrow(options?: RunOptions): Promise<Table> {
    const frame = await this.compute(options);
    return tableFromIPC(frame.writeIPCStream()); // uncompressed: apache-arrow reads no lz4
  }

  /** Non-null values per column, as one row (Polars' DataFrame.count()). */
  async count(options?: RunOptions): Promise<pl.DataFrame> {
    return this.noKeysAgg(this.columns.map((c) => pl.col(c).count().alias(c))).compute(options);
  }

  /** Per-column statistics, as Polars' describe(): count, null_count, mean, std, min, max. */
  async describe(options?: RunOptions): Promise<pl.DataFrame> {
    const { describe } = await import('./describe.js');
    return describe(this, options);
  }

  // internals ------------------------------------------------------------------------

  /** @internal An aggregation without keys (one row), as groupBy().agg() makes with keys. */
  noKeysAgg(exprs: pl.Expr[]): DataFrame {
    return aggregate(this, [], exprs, 1);
  }

  /** @internal */
  requireColumns(what: string, names: string[]): void {
    const unknown = names.filter((n) => !(n in this.plSchema));
    if (unknown.length) throw new DataFrameError(`${what}: no column ${unknown.map((n) => `"${n}"`).join(', ')}; the columns are ${this.columns.join(', ')}`);
  }

  /** @internal The schema as Polars types (for helpers that infer). */
  get polarsSchema(): PlSchema {
    return this.plSchema;
  }

  /** @internal A DataFrame of a new plan over this one's data (and `other`'s). */
  derived(plan: PlanNode, schema: PlSchema, other?: DataFrame): DataFrame {
    const bindings = other ? new Map([...this.bindings, ...other.bindings]) : this.bindings;
    const functions = other ? new Map([...this.functions, ...other.functions]) : this.functions;
    return new DataFrame(plan, schema, bindings, functions);
  }

  private map(what: string, op: Op, apply: (lf: pl.LazyDataFrame) => pl.LazyDataFrame): DataFrame {
    const schema = inferSchema(what, apply, this.plSchema);
    const plan: PlanNode = this.plan.kind === 'map'
      ? { ...this.plan, ops: [...this.plan.ops, op], schema: planSchema(schema) }
      : { kind: 'map', input: this.plan, ops: [op], schema: planSchema(schema) };
    return this.derived(plan, schema);
  }
}

export class GroupBy {
  constructor(private readonly frame: DataFrame, private readonly keys: string[], private readonly splitOut = 1) {}

  /**
   * Aggregations per group, as Polars expressions. Decomposable ones (len, count, sum, min,
   * max, first, last, mean, std, var) run in two phases combined in a tree; the others after a
   * shuffle by the keys.
   */
  agg(...exprs: pl.Expr[]): DataFrame {
    if (exprs.length === 0) throw new DataFrameError('agg: give at least one aggregation');
    return aggregate(this.frame, this.keys, exprs, this.splitOut);
  }

  /** The result in n partitions (hash of the keys) rather than one: for many groups. */
  partitions(n: number): GroupBy {
    if (!Number.isInteger(n) || n < 1) throw new DataFrameError(`groupBy(...).partitions: n must be a positive integer, got ${n}`);
    return new GroupBy(this.frame, this.keys, n);
  }
}

function aggregate(frame: DataFrame, keys: string[], exprs: pl.Expr[], splitOut: number): DataFrame {
  const schema = inferSchema('agg', (lf) => (keys.length ? lf.groupBy(keys).agg(...exprs) : lf.select(...exprs)), frame.polarsSchema);
  const names = Object.keys(schema).slice(keys.length);
  if (names.length !== exprs.length) throw severalColumns(frame, keys, exprs, names.length);
  const aggs: UserAgg[] = exprs.map((e, i) => ({ expr: serialize(e, 'agg'), name: names[i]! }));
  return frame.derived({ kind: 'aggregate', input: frame.plan, keys, aggs, splitOut, schema: planSchema(schema) }, schema);
}

/** Each aggregation travels with one output name: the error for one that gives several (or none). */
function severalColumns(frame: DataFrame, keys: string[], exprs: pl.Expr[], columns: number): DataFrameError {
  for (const e of exprs) {
    const names = Object.keys(inferSchema('agg', (lf) => (keys.length ? lf.groupBy(keys).agg(e) : lf.select(e)), frame.polarsSchema)).slice(keys.length);
    if (names.length !== 1) return new DataFrameError(`agg: ${String(e)} gives ${names.length} columns (${names.join(', ')}); write one aggregation per column`);
  }
  return new DataFrameError(`agg: ${exprs.length} aggregations gave ${columns} columns; write one aggregation per column`);
}

/** @internal A DataFrame over partitions on the cluster or in this process. */
export function dataOf(bindings: DataBinding[], schema: PlSchema, rows: number[] | null): DataFrame {
  const keys = bindings.map(() => `data-${++dataSeq}`);
  const map = new Map(keys.map((k, i) => [k, bindings[i]!]));
  return DataFrame.fromPlan({ kind: 'data', keys, schema: planSchema(schema), rows, bytes: null }, schema, map);
}

/** @internal Frames of this process as a DataFrame; sent to the cluster when first computed. */
export function localData(frames: pl.DataFrame[], schema: PlSchema): DataFrame {
  return dataOf(frames.map((local) => ({ local })), schema, frames.map((f) => f.height));
}

function serialize(e: pl.Expr, what: string): unknown {
  if (!(e instanceof Object) || typeof (e as pl.Expr).serialize !== 'function') {
    throw new DataFrameError(`${what}: expected a Polars expression (pl.col(...), pl.lit(...), ...), got ${e === null ? 'null' : typeof e}`);
  }
  try {
    return JSON.parse(e.serialize('json').toString()) as unknown;
  } catch (err) {
    // Some nodejs-polars functions (e.g. str.toUpperCase) are opaque and cannot travel.
    throw new DataFrameError(`${what}: the expression ${String(e)} cannot be sent to workers: ${polarsMessage(err)}; use mapPartitions for it`, { cause: err });
  }
}

/** The expression, if it can run on each partition alone; else a DataFrameError saying why and what to use. */
function rowWise(json: unknown, what: string): unknown {
  const part = crossRowPart(json);
  if (part) throw new DataFrameError(`${what}: ${part} looks across rows, which per partition would differ from the whole frame's answer; aggregate with groupBy(...).agg(...) or select(...) of aggregations only`);
  return json;
}

function list(x: string | string[]): string[] {
  return Array.isArray(x) ? [...x] : [x];
}
