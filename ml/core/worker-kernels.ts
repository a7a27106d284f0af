// The "ml" built-in kernels (worker/runtime/builtins.ts): ml/shard builds a shard on the
// worker's main thread (Polars does the work) and keeps it native; ml/index-y makes a copy of
// one whose labels are class indices, ml/derive one transformed (ml/kernels/derive.ts), ml/recycle
// gives a finished fit's shard's buffer back for those to reuse (buffer-pool.ts); ml/map
// runs a shard kernel (ml/kernels/registry.ts) in a task thread, handed the shard's
// SharedArrayBuffer, no copy.
import type { KernelFamily, PoolKernel, PoolKernelFamily } from '../../worker/runtime/builtins.js';
import type { NativeValue, StoredValue } from '../../worker/runtime/data-store.js';
import { runDeriveKernel } from '../kernels/derive.js';
import { Encoding } from '../../protocol/value-codec.js';
import { buildShard, indexLabels, type BuildShardParams } from './build-shard.js';
import { recycleShard, shardBytes, shardFromBytes } from './shared-shard.js';
import { setPoolLimit } from './buffer-pool.js';
import type { Shard } from './matrix.js';
import { runShardTask } from './thread-entry.js';
import { predictTrees } from '../ensemble/predict-kernel.js';
import { growTogether } from '../ensemble/collective.js';
import { BLOCK_KERNEL, growBlock } from '../ensemble/block-thread.js';
import { sumFloats } from './shards.js';

export const kernels: KernelFamily = {
  'ml/shard': async (params, inputs, context) => nativeShard(buildShard(params as BuildShardParams, inputs, context.key)),
  'ml/derive': async (params, inputs) => {
    const { kernel, params: p, partition } = params as { kernel: string; params: unknown; partition: number };
    return nativeShard(runDeriveKernel(kernel, p, storedShard(inputs[0]!), partition));
  },
  'ml/gbdt-predict': predictTrees,
  'ml/gbdt-grow': growTogether,
  // A level of Shards.sumFloats' tree reduction: its inputs' Float64 values added in order.
  'ml/sum': async (_params, inputs) => {
    const sum = sumFloats(inputs.map((v, i) => {
      if (!('data' in v)) throw new TypeError(`ml/sum: input ${i} is not bytes`);
      return v.data;
    }));
    return { encoding: Encoding.ENCODING_BYTES, data: new Uint8Array(sum.buffer) };
  },
  // Gives a finished fit's shard or boosting state back for the worker's next shards (buffer-pool.ts).
  'ml/recycle': async (_params, inputs, context) => {
    setPoolLimit(context.memoryLimit ?? 0);
    const input = inputs[0];
    const given = input !== undefined && 'native' in input && recycleShard(asShard(input.native));
    return { encoding: Encoding.ENCODING_BYTES, data: new Uint8Array([given ? 1 : 0]) };
  },
  'ml/index-y': async (params, inputs) => {
    const { classes, partition } = params as { classes: number[]; partition: number };
    return nativeShard(indexLabels(storedShard(inputs[0]!), classes, partition));
  },
};

/**
 * A shard is passed as is (shared); one fetched from a peer arrives as bytes, is copied into
 * shared memory once and kept so (adopt); one read back from disk, once per task. A boosting
 * state made in a WebAssembly.Memory takes it along (its rounds run WebAssembly on it).
 */
const shardInput: Pick<PoolKernel, 'threadInput' | 'adopt'> = {
  threadInput: (value) => {
    const shard = storedShard(value);
    return { encoding: Encoding.ENCODING_BYTES, data: shardBytes(shard), ...(shard.memory ? { memory: shard.memory } : {}) };
  },
  adopt: (value) => nativeShard(shardFromBytes(value.data)),
};

export const poolKernels: PoolKernelFamily = {
  'ml/map': { moduleUrl: new URL('./thread-entry.js', import.meta.url).href, exportName: runShardTask.name, ...shardInput },
  // A member of a boosting block (ml/gbdt-grow's, collective.ts) over its shards' states.
  [BLOCK_KERNEL]: { moduleUrl: new URL('../ensemble/block-thread.js', import.meta.url).href, exportName: growBlock.name, ...shardInput },
};

function storedShard(input: StoredValue): Shard {
  return 'native' in input ? asShard(input.native) : shardFromBytes(input.data);
}

function asShard(native: unknown): Shard {
  const x = (native as Partial<Shard> | null)?.x;
  if (!(x?.data?.buffer instanceof SharedArrayBuffer)) throw new TypeError('ml: a kernel\'s input is not a shard (made by ml/shard)');
  return native as Shard;
}

function nativeShard(shard: Shard): NativeValue {
  const bytes = shardBytes(shard);
  // The memory held: a reused buffer (or a WebAssembly memory's pages) may be bigger than the shard.
  return { native: shard, encoding: Encoding.ENCODING_BYTES, nbytes: bytes.buffer.byteLength, encode: () => new Uint8Array(bytes) };
}
