// Shard-to-shard kernels: a fitted transformer applied to a shard where it is, giving a new shard
// (y kept). A Pipeline builds its shards once and transforms them step by step instead of
// building them again from the transformed DataFrame. Each does the arithmetic of the
// transformer's Polars expressions in the same order, so the values are the same to the bit.
import { allocShard } from '../core/shared-shard.js';
import type { Shard } from '../core/matrix.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type DeriveKernel = (params: any, shard: Shard) => Shard;

/** A new shard of the same shape whose feature j is f(x, j), and the same y. */
function mapFeatures(shard: Shard, f: (v: number, j: number) => number): Shard {
  const { rows, cols, data } = shard.x;
  const out = allocShard(rows, cols, shard.y !== undefined);
  const dst = out.x.data;
  for (let i = 0; i < rows * cols; i += cols) for (let j = 0; j < cols; j++) dst[i + j] = f(data[i + j]!, j);
  if (shard.y) out.y!.set(shard.y);
  return out;
}

/** StandardScaler's (x - shift) * factor; either left out when not given. */
export function standardize(p: { shift?: number[]; factor?: number[] }, shard: Shard): Shard {
  const shift = p.shift ? Float64Array.from(p.shift) : undefined;
  const factor = p.factor ? Float64Array.from(p.factor) : undefined;
  if (shift && factor) return mapFeatures(shard, (v, j) => (v - shift[j]!) * factor[j]!);
  if (shift) return mapFeatures(shard, (v, j) => v - shift[j]!);
  if (factor) return mapFeatures(shard, (v, j) => v * factor[j]!);
  return mapFeatures(shard, (v) => v);
}

/** MinMaxScaler's x * scale + min. */
export function minMax(p: { scale: number[]; min: number[] }, shard: Shard): Shard {
  const scale = Float64Array.from(p.scale);
  const min = Float64Array.from(p.min);
  return mapFeatures(shard, (v, j) => v * scale[j]! + min[j]!);
}

const deriveKernels: Readonly<Record<string, DeriveKernel>> = {
  'preprocess/standardize': standardize,
  'preprocess/min-max': minMax,
};

export function runDeriveKernel(name: string, params: unknown, shard: Shard): Shard {
  const kernel = Object.hasOwn(deriveKernels, name) ? deriveKernels[name] : undefined;
  if (!kernel) throw new Error(`unknown shard transform ${name}`);
  return kernel(params, shard);
}
