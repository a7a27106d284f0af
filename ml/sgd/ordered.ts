// A pass of SGD is sequential: partition 2 starts from the weights partition 1 left. Shards.map
// runs a kernel on all shards at once with the same params, so an ordered pass needs to run a
// kernel on ONE shard: `mapShard`, which the Shards implementations offer (asked of the
// contract's owner in issue 14; LocalShards-based tests add it). Only the small weights travel.
import type { Shards } from '../core/shards.js';
import { MlError } from '../errors.js';

export interface OrderedShards extends Shards {
  /** Runs shard kernel `name` with `params` on shard `index` only. */
  mapShard<R>(index: number, name: string, params: unknown): Promise<R>;
}

function isOrdered(shards: Shards): shards is OrderedShards {
  return typeof (shards as Partial<OrderedShards>).mapShard === 'function';
}

/** Threads `state` through kernel `name` on each shard in order; params(state) builds each call's params. */
export async function foldShards<S>(estimator: string, shards: Shards, name: string, state: S, params: (state: S) => unknown): Promise<S> {
  if (shards.nShards === 1) return (await shards.map<S>(name, params(state)))[0]!;
  if (!isOrdered(shards)) throw new MlError(`${estimator}: these shards cannot run one partition at a time (no mapShard), which a sequential SGD pass needs`);
  let current = state;
  for (let i = 0; i < shards.nShards; i++) current = await shards.mapShard<S>(i, name, params(current));
  return current;
}
