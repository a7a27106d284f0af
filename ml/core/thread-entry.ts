// What a task thread runs for ml/map: the named shard kernel over the shard whose bytes it was
// handed (a view of the worker's SharedArrayBuffer: read in place, never copied).
import { runShardKernel } from '../kernels/registry.js';
import { shardFromBytes } from './shared-shard.js';

export interface ShardTask {
  kernel: string;
  params: unknown;
}

export function runShardTask(task: ShardTask, bytes: Uint8Array): unknown {
  return runShardKernel(task.kernel, task.params, shardFromBytes(bytes));
}
