// Shard kernels: pure functions (params, one partition's Shard) -> a small result, run where the
// partition is (in a worker's task pool on the cluster). Each estimator family keeps its
// kernels in a file of its own and they are listed here by name.
import type { Shard } from '../core/matrix.js';
import { dataKernels } from './data.js';
import { linearKernels } from './linear.js';
import { gbdtKernels } from './gbdt.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ShardKernel = (params: any, shard: Shard) => unknown;

const kernels: Readonly<Record<string, ShardKernel>> = {
  ...dataKernels,
  ...linearKernels,
  ...gbdtKernels,
};

export function runShardKernel(name: string, params: unknown, shard: Shard): unknown {
  const kernel = Object.hasOwn(kernels, name) ? kernels[name] : undefined;
  if (!kernel) throw new Error(`unknown shard kernel ${name}`);
  return kernel(params, shard);
}
