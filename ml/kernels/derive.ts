// Shard-to-shard kernels: a fitted transformer applied to a shard where it is, giving a new shard
// (y kept). A Pipeline builds its shards once and transforms them step by step instead of
// building them again from the transformed DataFrame. Each does the arithmetic of the
// transformer's Polars expressions in the same order, so the values are the same to the bit.
import { allocShard } from '../core/shared-shard.js';
import type { Shard } from '../core/matrix.js';
import { initState } from '../ensemble/state.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type DeriveKernel = (params: any, shard: Shard, partition: number) => Shard;

/** A new shard of the same shape (and the same y) whose feature j is (x - sub[j]) * mul[j] + add[j], each part left out when not given. */
function affine(shard: Shard, p: { sub?: number[]; mul?: number[]; add?: number[] }): Shard {
  const { rows, cols, data } = shard.x;
  const out = allocShard(rows, cols, shard.y !== undefined);
  const dst = out.x.data;
  const vector = (v: number[] | undefined, empty: number) => (v ? Float64Array.from(v) : new Float64Array(cols).fill(empty));
  const [sub, mul, add] = [vector(p.sub, 0), vector(p.mul, 1), vector(p.add, 0)];
  // Column by column, no call per value. x - 0 and x * 1 are x itself (-0 and NaN included),
  // so the parts not given change nothing; an addition is only made when given.
  for (let j = 0; j < cols; j++) {
    const s = sub[j]!;
    const m = mul[j]!;
    const a = add[j]!;
    if (p.add) for (let i = j; i < rows * cols; i += cols) dst[i] = (data[i]! - s) * m + a;
    else for (let i = j; i < rows * cols; i += cols) dst[i] = (data[i]! - s) * m;
  }
  if (shard.y) out.y!.set(shard.y);
  return out;
}

/** StandardScaler's (x - shift) * factor; either left out when not given. */
export function standardize(p: { shift?: number[]; factor?: number[] }, shard: Shard): Shard {
  return affine(shard, { ...(p.shift ? { sub: p.shift } : {}), ...(p.factor ? { mul: p.factor } : {}) });
}

/** MinMaxScaler's x * scale + min. */
export function minMax(p: { scale: number[]; min: number[] }, shard: Shard): Shard {
  return affine(shard, { mul: p.scale, add: p.min });
}

const deriveKernels: Readonly<Record<string, DeriveKernel>> = {
  'preprocess/standardize': standardize,
  'preprocess/min-max': minMax,
  'gbdt/init': initState,
};

/** `partition`: the shard's place among its fit's shards (kernels that draw rows seed by it). */
export function runDeriveKernel(name: string, params: unknown, shard: Shard, partition: number): Shard {
  const kernel = Object.hasOwn(deriveKernels, name) ? deriveKernels[name] : undefined;
  if (!kernel) throw new Error(`unknown shard transform ${name}`);
  return kernel(params, shard, partition);
}
