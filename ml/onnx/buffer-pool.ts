// Large typed arrays reused from partition to partition on a worker's main thread: a fresh
// array of megabytes costs its page faults (and zeroing) on first touch, more than the copies
// into it; the tensors predictOnnx packs and the outputs its ONNX Runtime thread fills come
// from here and go back here once the partition's columns are made.

/** Buffers kept at most (bytes); the smallest go first beyond it. */
const MAX_POOLED_BYTES = 256 * 1024 * 1024;
/** Smaller arrays are cheap to make: not pooled. */
const MIN_POOLED_BYTES = 64 * 1024;

type Numeric = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;
type NumericClass = { new (buffer: ArrayBuffer, byteOffset: number, length: number): Numeric; new (length: number): Numeric; BYTES_PER_ELEMENT: number };

/** Free buffers, smallest first. */
const free: ArrayBuffer[] = [];

/** An array of `length` elements of `type`, on a pooled buffer where one is large enough (contents undefined). */
export function takeArray<T extends Numeric>(type: NumericClass, length: number): T {
  const bytes = length * type.BYTES_PER_ELEMENT;
  if (bytes < MIN_POOLED_BYTES) return new type(length) as T;
  const i = free.findIndex((b) => b.byteLength >= bytes);
  return (i < 0 ? new type(length) : new type(free.splice(i, 1)[0]!, 0, length)) as T;
}

/** The buffers of these arrays, free for a later partition (the arrays must not be used again). */
export function giveBack(arrays: Iterable<unknown>): void {
  for (const a of arrays) {
    if (!ArrayBuffer.isView(a) || !(a.buffer instanceof ArrayBuffer)) continue;
    const b = a.buffer;
    if (b.byteLength < MIN_POOLED_BYTES || b.byteLength > MAX_POOLED_BYTES || free.includes(b)) continue;
    const at = free.findIndex((f) => f.byteLength > b.byteLength);
    free.splice(at < 0 ? free.length : at, 0, b);
  }
  let total = free.reduce((n, b) => n + b.byteLength, 0);
  while (total > MAX_POOLED_BYTES) total -= free.shift()!.byteLength;
}
