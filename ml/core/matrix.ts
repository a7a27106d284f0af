// The numeric view of a partition that fitting kernels read. On a worker the buffers are
// SharedArrayBuffers, so the task pool's threads read a partition without copying it.
import type { SharedMemory } from '../../worker/runtime/shared-memory.js';

/** A partition's feature columns as one row-major Float64 matrix; nulls are NaN. */
export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  /** data[r * cols + c] */
  readonly data: Float64Array;
}

/** One partition as a fitting kernel sees it: its features and, when fitted with one, its target. */
export interface Shard {
  readonly x: Matrix;
  /** The target per row (a classifier's: the class index into the estimator's `classes`). */
  readonly y?: Float64Array;
  /** The shared WebAssembly.Memory whose buffer holds it, when it was made in one (a boosting state). */
  readonly memory?: SharedMemory;
}

/** What `Shards.sum` can add up: numbers, arrays of them, or records of those (same shape in every shard). */
export type Summable = number | number[] | Float64Array | { readonly [name: string]: Summable };

/** Bytes of Float64 values as a Float64Array (copied when not aligned: a Buffer's slice() would not copy). */
export function floatsOf(bytes: Uint8Array): Float64Array {
  if (bytes.byteOffset % 8 === 0) return new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8);
  return new Float64Array(Uint8Array.from(bytes).buffer);
}
