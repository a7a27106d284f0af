// The ml-data part's shard kernels: shard shapes and diagnostics, preprocessing statistics and
// metrics (one family, one line in registry.ts).
import type { ShardKernel } from './registry.js';
import type { Shard } from '../core/matrix.js';
import { preprocessKernels } from '../preprocessing/kernels.js';
import { metricKernels } from '../metrics/kernels.js';

function labels(shard: Shard): number[] {
  const y = shard.y ?? [];
  const seen = new Set<number>();
  // Labels come in runs: the Set is asked only when the value changes (NaN always differs).
  let last = NaN;
  for (let i = 0; i < y.length; i++) {
    const v = y[i]!;
    if (v !== last) {
      seen.add(v);
      last = v;
    }
  }
  return [...seen].sort((a, b) => a - b);
}

export const dataKernels: Readonly<Record<string, ShardKernel>> = {
  'data/rows': (_params: unknown, shard: Shard) => shard.x.rows,
  /** The distinct values of y, sorted. */
  'data/labels': (_params: unknown, shard: Shard) => labels(shard),
  /** The row count and, when asked, the labels: what toShards learns of each new shard. */
  'data/summary': (params: { labels?: boolean }, shard: Shard) => (params.labels ? { rows: shard.x.rows, labels: labels(shard) } : { rows: shard.x.rows }),
  /** Where and how a kernel sees its shard (no copy: a SharedArrayBuffer, in a task thread). */
  'data/probe': (_params: unknown, shard: Shard) => ({
    shared: shard.x.data.buffer instanceof SharedArrayBuffer,
    bufferBytes: shard.x.data.buffer.byteLength,
    sum: shard.x.data.reduce((a, b) => a + b, 0),
  }),
  ...preprocessKernels,
  ...metricKernels,
};
