// A pass of SGD is sequential: partition 2 starts from the weights partition 1 left, so the
// kernel runs on one shard at a time (Shards.mapShard) and only the small weights travel.
import type { Shards } from '../core/shards.js';

/** Threads `state` through kernel `name` on each shard in order; params(state) builds each call's params. */
export async function foldShards<S>(shards: Shards, name: string, state: S, params: (state: S) => unknown): Promise<S> {
  let current = state;
  for (let i = 0; i < shards.nShards; i++) current = await shards.mapShard<S>(i, name, params(current));
  return current;
}
