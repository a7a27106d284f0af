// A pass of SGD is sequential: partition 2 starts from the weights partition 1 left, so the
// kernel runs on one shard at a time (Shards.mapShard) and only the small weights travel.
import type { Shards } from '../core/shards.js';

/**
 * Threads `state` through kernel `name` on each shard in order (or on the shards `indices`
 * name, in that order); params(state) builds each call's params.
 */
export async function foldShards<S>(shards: Shards, name: string, state: S, params: (state: S) => unknown, indices?: readonly number[]): Promise<S> {
  let current = state;
  for (const i of indices ?? Array.from({ length: shards.nShards }, (_, j) => j)) current = await shards.mapShard<S>(i, name, params(current));
  return current;
}
