// Turns X (and y) into Shards kept on the workers: one shard per partition of X, built where
// the partition is computed (ml/shard, build-shard.ts). Everything that can be checked from the
// schemas is checked here, before any task runs.
import type { Client } from '../../client/client.js';
import type { Future } from '../../client/future.js';
import { builtinFunction } from '../../client/task-functions.js';
import type { DataFrame } from '../../dataframe/frame.js';
import { resolveClient, submitPlan } from '../../dataframe/execute.js';
import { dtypeName } from '../../dataframe/schema.js';
import { MlDataError } from '../errors.js';
import type { BuildShardParams } from './build-shard.js';
import { ClusterShards, mapShards } from './cluster-shards.js';
import type { FitOptions, Target } from './estimator.js';
import type { Shards } from './shards.js';

export interface ShardsMeta {
  /** The feature columns, in matrix column order. */
  features: string[];
  /** The distinct target values, sorted, when `classify` was asked (y then holds indices into it). */
  classes?: number[];
}

export interface ToShardsOptions extends FitOptions {
  /** y is a class label: collect the distinct values and store indices. */
  classify?: boolean;
  /**
   * With classify: how many distinct labels y must hold (default 2). 1 for a partialFit batch
   * whose classes are given or already fixed (scikit-learn's partial_fit takes such batches).
   */
  minClasses?: number;
  /** Who asks, for messages (an estimator's name); default "toShards". */
  caller?: string;
  /**
   * Kernel tasks on these shards may run on a worker that lacks the shard (the scheduler then
   * copies it there, weighing the copy against the wait), instead of always where it is: for
   * searches, whose many fits make a backlog that new workers can take (the autoscaler counts
   * it). Default false: a fit's short rounds stay where their data is.
   */
  mobile?: boolean;
}

const NUMERIC = /^(U?Int(8|16|32|64)|Float(32|64)|Bool(ean)?)$/;

/** Whether a Polars dtype reads as numbers (booleans as 0 and 1). */
export function isNumericDtype(dtype: unknown): boolean {
  return NUMERIC.test(dtypeName(dtype as never));
}

export async function toShards(X: DataFrame, y: Target | undefined, options: ToShardsOptions = {}): Promise<{ shards: Shards; meta: ShardsMeta }> {
  const caller = options.caller ?? 'toShards';
  const { features, target, yFrame } = checkInputs(X, y, caller);
  const client = resolveClient(options);
  const separateY = y !== undefined && typeof y !== 'string';
  const xParts = submitPlan(X.plan, X.bindings, X.functions, client);
  const yParts = separateY ? submitPlan(yFrame!.plan, yFrame!.bindings, yFrame!.functions, client) : [];
  let shards = xParts.map((part, partition) => {
    const params: BuildShardParams = { partition, features, ...(target !== undefined ? { target, separateY } : {}) };
    return client.submitWith({ group: 'ml-shard', stayWithData: true }, builtinFunction('ml/shard'), params, part, ...(separateY ? [yParts[partition]!] : []));
  });
  // The shards' tasks hold the partitions as lineage: a lost shard is built again from them.
  for (const f of [...xParts, ...yParts]) f.release();
  try {
    // One round for the row counts and, to classify, the labels (from the shards, not another pass over the data).
    const summaries = await mapShards<{ rows: number; labels?: number[] }>(client, shards, 'data/summary', { labels: options.classify === true }, { signal: options.signal });
    const rows = summaries.map((s) => s.rows);
    let classes: number[] | undefined;
    if (options.classify) {
      // Labels 0 .. k-1 (booleans too) are their own indices.
      classes = checkedClasses(summaries.map((s) => s.labels!), target!, caller, options.minClasses ?? 2);
      if (!classes.every((c, i) => c === i)) shards = indexed(client, shards, classes);
    }
    const meta: ShardsMeta = classes ? { features, classes } : { features };
    return { shards: new ClusterShards(client, shards, rows, features.length, { signal: options.signal, mobile: options.mobile === true }), meta };
  } catch (err) {
    for (const f of shards) f.release();
    throw err;
  }
}

/** The features, the target column and y's frame, checked from the schemas. */
export function checkInputs(X: DataFrame, y: Target | undefined, caller: string): { features: string[]; target?: string; yFrame?: DataFrame } {
  let target: string | undefined;
  let yFrame: DataFrame | undefined;
  if (typeof y === 'string') {
    if (!X.columns.includes(y)) throw new MlDataError(`${caller}: y names column "${y}", which X does not have; X's columns are ${X.columns.join(', ')}`);
    target = y;
    yFrame = X.select(y);
  } else if (y !== undefined) {
    if (y.columns.length !== 1) throw new MlDataError(`${caller}: y must have one column, it has ${y.columns.length} (${y.columns.join(', ')})`);
    if (y.npartitions !== X.npartitions) throw new MlDataError(`${caller}: y has ${y.npartitions} partitions where X has ${X.npartitions}: give y from the same parent as X (e.g. df.select('label') beside df.select(...features))`);
    target = y.columns[0]!;
    yFrame = y;
  }
  const features = X.columns.filter((c) => c !== (typeof y === 'string' ? y : undefined));
  if (features.length === 0) throw new MlDataError(`${caller}: X has no feature columns`);
  const schema = X.schema;
  const bad = features.filter((c) => !isNumericDtype(schema[c]));
  if (bad.length) {
    throw new MlDataError(`${caller}: feature column${bad.length > 1 ? 's' : ''} ${bad.map((c) => `"${c}" (${dtypeName(schema[c]!)})`).join(', ')} ${bad.length > 1 ? 'are' : 'is'} not numeric; encode ${bad.length > 1 ? 'them' : 'it'} first (OneHotEncoder, OrdinalEncoder) or leave ${bad.length > 1 ? 'them' : 'it'} out`);
  }
  if (yFrame && !isNumericDtype(yFrame.schema[target!])) {
    throw new MlDataError(`${caller}: y ("${target}") is ${dtypeName(yFrame.schema[target!]!)}, not numeric; labels must be numbers or booleans (encode them with OrdinalEncoder)`);
  }
  return target === undefined ? { features } : { features, target, yFrame };
}

/** The sorted distinct labels of y over all shards (each shard's given), at least minClasses of them. */
function checkedClasses(perShard: number[][], target: string, caller: string, minClasses: number): number[] {
  const classes = [...new Set(perShard.flat())].sort((a, b) => a - b);
  if (classes.length < minClasses) {
    const what = minClasses > 1 ? `a classifier needs at least ${minClasses}` : 'it needs at least 1';
    throw new MlDataError(`${caller}: y ("${target}") has ${classes.length} distinct label${classes.length === 1 ? ` (${classes[0]})` : 's'}; ${what}`);
  }
  return classes;
}

/** Shards whose y holds class indices, made from these (released: kept as lineage). */
function indexed(client: Client, shards: Future[], classes: number[]): Future[] {
  const out = shards.map((shard, partition) => client.submitWith({ group: 'ml-index-y', stayWithData: true }, builtinFunction('ml/index-y'), { classes, partition }, shard));
  for (const f of shards) f.release();
  return out;
}
