// The lazy plan a DataFrame is: a tree of nodes, built by frame.ts, optimized by optimize.ts
// and turned into tasks by stages.ts. Pure data (JSON-able): expressions are nodejs-polars
// expressions serialized to JSON (`expr.serialize('json')`), parsed; nothing here runs Polars.

/** A serialized nodejs-polars expression (the parsed JSON of `expr.serialize('json')`). */
export type Expr = unknown;

/** A column's name and Polars dtype, as `String(dtype)` prints it (e.g. "Int64", "String"). */
export interface Field {
  name: string;
  dtype: string;
}

export type Schema = readonly Field[];

/** One partition of a file scan: a row range of one file. */
export interface ScanPart {
  path: string;
  /** First row, and how many rows; rows -1 reads to the end of the file. */
  offset: number;
  rows: number;
}

export interface CsvOptions {
  separator?: string;
  hasHeader?: boolean;
  /** Extra options passed to Polars' scanCSV as they are. */
  [option: string]: unknown;
}

/** Per-partition operations: any run of them is fused into one Polars plan and one task per partition. */
export type Op =
  | { op: 'filter'; predicate: Expr }
  | { op: 'withColumns'; exprs: Expr[] }
  | { op: 'select'; exprs: Expr[] }
  | { op: 'drop'; names: string[] }
  | { op: 'rename'; mapping: Record<string, string> }
  | { op: 'head'; n: number }
  /** Piece `index` of `of` even row ranges of the partition (repartition into more parts). */
  | { op: 'slice'; index: number; of: number }
  /** Adds column `name`: the partition's number, filled in per partition when lowered (a row's
   *  place in the whole frame, for trainTestSplit and KFold). */
  | { op: 'partitionIndex'; name: string; index?: number }
  | { op: 'sort'; by: string[]; descending: boolean[] }
  /** The first n rows in this sort order (sort then head, without sorting every row). */
  | { op: 'topN'; by: string[]; descending: boolean[]; n: number }
  | { op: 'unique'; subset: string[] | null }
  /** A whole group-by within the partition; `aggs` are the planner's (see aggregate.ts). With no
   *  keys and `dropEmpty`, an empty partition gives no row rather than a row of nulls (a partial
   *  first/last would otherwise combine as null). */
  | { op: 'aggregate'; keys: string[]; aggs: AggSpec[]; dropEmpty?: boolean }
  /** Computes the outputs of a decomposed aggregation from its combined parts, in the user's order. */
  | { op: 'finalize'; keys: string[]; outputs: FinalSpec[] }
  /** Fails, naming `what`, unless the partition has exactly this schema (a user function's output). */
  | { op: 'expectSchema'; schema: Schema; what: string };

/** One aggregation a kernel computes, in a form the planner can build without Polars. */
export type AggSpec =
  | { fn: 'len'; as: string }
  /** `devsq`: the sum of squared deviations from the group's mean (a variance's m2). */
  | { fn: 'sum' | 'min' | 'max' | 'first' | 'last' | 'mean' | 'count' | 'devsq'; col: string; as: string }
  /** Combines per-partition (n, mean, m2) of a variance: the combined m2 (Chan et al.). */
  | { fn: 'm2'; n: string; mean: string; m2: string; as: string }
  /** Combines per-partition (n, mean): the combined mean weighted by n. */
  | { fn: 'wmean'; n: string; mean: string; as: string }
  /** The user's own aggregation expression, run on whole groups. */
  | { fn: 'expr'; expr: Expr; as: string };

/** An output of a decomposed aggregation; `dtype` is what single-process Polars gives (cast to it). */
export type FinalSpec = { as: string; dtype: string } & (
  | { kind: 'col'; col: string }
  | { kind: 'var' | 'std'; n: string; m2: string; ddof: number });

/** The user's aggregation as the client saw it: its serialized expression and output name. */
export interface UserAgg {
  expr: Expr;
  name: string;
}

export type JoinHow = 'inner' | 'left' | 'outer' | 'semi' | 'anti';

export type PlanNode =
  | { kind: 'scan'; format: 'parquet'; parts: ScanPart[]; schema: Schema; columns: string[] | null; predicate: Expr | null }
  | { kind: 'scan'; format: 'csv'; parts: ScanPart[]; schema: Schema; columns: string[] | null; predicate: Expr | null; csv: CsvOptions }
  /** Partitions already on the cluster (scattered, persisted), by key; `rows` per partition when known. */
  | { kind: 'data'; keys: string[]; schema: Schema; rows: number[] | null; bytes: number | null }
  | { kind: 'map'; input: PlanNode; ops: Op[]; schema: Schema }
  | { kind: 'aggregate'; input: PlanNode; keys: string[]; aggs: UserAgg[]; splitOut: number; schema: Schema }
  | { kind: 'join'; left: PlanNode; right: PlanNode; leftOn: string[]; rightOn: string[]; how: JoinHow; suffix: string; schema: Schema }
  | { kind: 'sort'; input: PlanNode; by: string[]; descending: boolean[]; schema: Schema }
  | { kind: 'head'; input: PlanNode; n: number; schema: Schema }
  | { kind: 'unique'; input: PlanNode; subset: string[] | null; schema: Schema }
  | { kind: 'repartition'; input: PlanNode; partitions: number; by: string[] | null; schema: Schema }
  /** A user function run on each partition in the task pool (its definition travels as a task function). */
  | { kind: 'mapPartitions'; input: PlanNode; fn: FunctionRef; schema: Schema }
  /** A built-in kernel run on each partition (e.g. ONNX inference), appending `added` columns. */
  | { kind: 'kernel'; input: PlanNode; call: KernelCall; schema: Schema };

/**
 * A per-partition built-in kernel: its task gets `{ ...params, stage, post }` (StageParams making
 * the partition from its first inputs; `post`, the ops that follow, to run on its output) and
 * reads `extraInputs` (keys bound by the DataFrame, e.g. a model scattered once) after the
 * partition's own.
 */
export interface KernelCall {
  kernel: string;
  /** Names the call in explain() and the tasks' group. */
  what: string;
  params: Record<string, unknown>;
  extraInputs: string[];
  /** The input columns the kernel reads (the rest pass through). */
  reads: string[];
  /** The columns it appends, after the input's. */
  added: Schema;
  /** Task resources (e.g. { GPU: 1 }), or null. */
  resources: Record<string, number> | null;
  /** Its tasks run where their partition is, never moved to an idle worker (PlannedTask.stayWithData). */
  stayWithData: boolean;
}

/** A user function as the client's task layer names it (client/task-functions.ts FunctionDef). */
export interface FunctionRef {
  id: string;
  name: string;
  source?: string;
  module?: string;
  export?: string;
}

export type NodeKind = PlanNode['kind'];
