// What a task thread runs for ml/map: the named shard kernel over the shard whose bytes it was
// handed (a view of the worker's SharedArrayBuffer: read in place, never copied).
import { runShardKernel } from '../kernels/registry.js';
import { shardFromBytes } from './shared-shard.js';
import { memoryOf } from '../../worker/runtime/shared-memory.js';

export interface ShardTask {
  kernel: string;
  params: unknown;
}

export function runShardTask(task: ShardTask, bytes: Uint8Array): unknown {
  const shard = shardFromBytes(bytes);
  const memory = memoryOf(bytes.buffer);
  return runShardKernel(task.kernel, task.params, memory ? { ...shard, memory } : shard);
}
