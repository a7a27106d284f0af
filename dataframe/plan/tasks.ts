// What the planner produces: tasks for the cluster, each a built-in kernel (or a user
// function for mapPartitions) with its parameters and the keys it reads.
import type { FunctionRef, Op, ScanPart, CsvOptions, Expr, JoinHow } from './nodes.js';

/** Where a stage's rows come from when it reads no key: one partition of a file scan. */
export type SourceSpec =
  | { format: 'parquet'; part: ScanPart; columns: string[] | null; predicate: Expr | null }
  | { format: 'csv'; part: ScanPart; columns: string[] | null; predicate: Expr | null; csv: CsvOptions };

/** Parameters of the df/stage kernel: its inputs (concatenated, in order) or a source, then ops. */
export interface StageParams {
  source: SourceSpec | null;
  ops: Op[];
}

/** How a shuffle assigns rows to output partitions: the hash of key columns (cast first where
 *  two sides must agree, e.g. Int32 and Int64 join keys), or ranges of sort columns between
 *  boundary rows (the split's second input). */
export type ShuffleHow =
  | { kind: 'hash'; by: string[]; cast?: Record<string, string> }
  | { kind: 'range'; by: string[]; descending: boolean[] };

/** df/split: the partition `stage` makes (from a source, or its inputs but the last for a range
 *  split, whose last input is the boundaries) cut into `partitions` buckets. */
export interface SplitParams {
  how: ShuffleHow;
  partitions: number;
  stage: StageParams;
}

/** df/take: bucket `bucket` of every split its one input (the shuffle's barrier) names, concatenated, then ops. */
export interface TakeParams {
  bucket: number;
  partitions: number;
  ops: Op[];
}

/** A join as Polars runs it (`how` in Polars' words: our 'outer' is its 'full'). */
export interface JoinSpec {
  leftOn: string[];
  rightOn: string[];
  how: Exclude<JoinHow, 'outer'> | 'full';
  suffix: string;
}

/** One side of a df/join task, made from its share of the task's inputs as a stage or a take
 *  makes a partition: a source read, its inputs concatenated or bucket `take.bucket` of each
 *  of a shuffle's splits gathered, then ops. */
export interface JoinSide {
  inputs: number;
  source: SourceSpec | null;
  ops: Op[];
  take?: { bucket: number; partitions: number };
}

/** df/join: the left side's inputs, then the right side's; the two sides joined, then ops. */
export interface JoinParams {
  join: JoinSpec;
  left: JoinSide;
  right: JoinSide;
  ops: Op[];
}

export interface PlannedTask {
  key: string;
  /** A built-in kernel ("df/stage"), or "fn" for a user function (`fn` set). */
  kernel: string;
  params: unknown;
  /** Keys read, in the order the kernel gets them. */
  inputs: string[];
  /** The task group (dashboard, progress): what the task does. */
  group: string;
  fn?: FunctionRef;
  /** A barrier task: it waits for its inputs without reading them (df/barrier). */
  barrier?: boolean;
  /** What a worker must have to run it (e.g. { GPU: 1 }). */
  resources?: Record<string, number>;
  /** Run it where its largest own input is (client TaskOptions.stayWithData): moving that costs more than the work. */
  stayWithData?: boolean;
}

export interface TaskPlan {
  tasks: PlannedTask[];
  /** The keys of the result's partitions, in order. */
  outputs: string[];
}

/** Makes a fresh key for a task of the group (the caller keeps keys unique per session). */
export type KeyMaker = (group: string) => string;
