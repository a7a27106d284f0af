// A pool kernel for tests: writes into the shard it was handed, so the test can see whether the
// task thread got the worker's memory or a copy of it.
import { shardFromBytes } from '../../ml/core/shared-shard.js';

export function writeFirstValue(task: { value: number }, bytes: Uint8Array): { shared: boolean } {
  const shard = shardFromBytes(bytes);
  shard.x.data[0] = task.value;
  return { shared: bytes.buffer instanceof SharedArrayBuffer };
}
