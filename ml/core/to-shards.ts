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
  /** Who asks, for messages (an estimator's name); default "toShards". */
  caller?: string;
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
  const classes = options.classify ? await collectClasses(yFrame!, target!, caller, client) : undefined;
  const separateY = y !== undefined && typeof y !== 'string';
  const xParts = submitPlan(X.plan, X.bindings, X.functions, client);
  const yParts = separateY ? submitPlan(yFrame!.plan, yFrame!.bindings, yFrame!.functions, client) : [];
  let shards: Future[];
  try {
    shards = xParts.map((part, partition) => {
      const params: BuildShardParams = { partition, features, ...(target !== undefined ? { target, separateY } : {}), ...(classes ? { classes } : {}) };
      return client.submitWith({ group: 'ml-shard' }, builtinFunction('ml/shard'), params, part, ...(separateY ? [yParts[partition]!] : []));
    });
  } finally {
    // The shards' tasks hold them as lineage: a lost shard is built again from them.
    for (const f of [...xParts, ...yParts]) f.release();
  }
  let rows: number[];
  try {
    rows = await mapShards<number>(client, shards, 'data/rows', {});
  } catch (err) {
    for (const f of shards) f.release();
    throw err;
  }
  const meta: ShardsMeta = classes ? { features, classes } : { features };
  return { shards: new ClusterShards(client, shards, rows, features.length), meta };
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

/** The sorted distinct labels of y, computed on the cluster. */
async function collectClasses(yFrame: DataFrame, target: string, caller: string, client: Client): Promise<number[]> {
  const distinct = await yFrame.unique().compute({ client });
  const values = distinct.getColumn(target).toArray() as Array<number | boolean | bigint | null>;
  if (values.some((v) => v === null || (typeof v === 'number' && Number.isNaN(v)))) {
    throw new MlDataError(`${caller}: y ("${target}") has nulls or NaN: drop or fill those rows before fitting`);
  }
  const classes = values.map(Number).sort((a, b) => a - b);
  if (classes.length < 2) throw new MlDataError(`${caller}: y ("${target}") has ${classes.length} distinct label${classes.length === 1 ? ` (${classes[0]})` : 's'}; a classifier needs at least 2`);
  return classes;
}
