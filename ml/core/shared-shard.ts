// A shard in one SharedArrayBuffer, as a worker's data store keeps it: a header, the feature
// matrix (row-major Float64) and the target. Task threads are handed a view of the buffer, so
// they read the partition where it is instead of a copy; the same bytes, copied out, are what a
// peer fetches or a spill writes, and they read back into a shard unchanged.
import type { Shard } from './matrix.js';
import type { SharedMemory } from '../../worker/runtime/shared-memory.js';
import { giveBack, reuseBuffer } from './buffer-pool.js';

/** Float64 slots of the header: [MAGIC, rows, cols, hasY]. */
const HEADER = 4;
const MAGIC = 0x6b64_5348; // "kdSH"

/** Each buffer allocShard made, to the shard it holds now: only that shard can give it back. */
const owners = new WeakMap<SharedArrayBuffer, Shard>();

/** Bytes a WebAssembly (wasm32) memory holds at most. */
const WASM_MAX_BYTES = 2 ** 32 - 2 ** 16;

/**
 * A new shard of `rows` x `cols` (and a target when `withY`) over a zeroed SharedArrayBuffer: one
 * a finished fit gave back (buffer-pool.ts) when one fits, else a fresh one. `wasm`: the buffer
 * is a shared WebAssembly.Memory's, from its first byte (when it fits in one), so WebAssembly can
 * run over it in place.
 */
export function allocShard(rows: number, cols: number, withY: boolean, options: { wasm?: boolean } = {}): Shard {
  const length = HEADER + rows * cols + (withY ? rows : 0);
  const bytes = length * Float64Array.BYTES_PER_ELEMENT;
  const wasm = options.wasm === true && bytes <= WASM_MAX_BYTES;
  let { buffer, memory } = reuseBuffer(bytes, wasm) ?? {};
  if (!buffer && wasm) {
    const pages = Math.ceil(bytes / 65536);
    try {
      memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
      buffer = memory.buffer as SharedArrayBuffer;
    } catch {
      // Out of address space (each shared memory reserves ~10 GiB of it): a plain buffer does.
    }
  }
  buffer ??= new SharedArrayBuffer(bytes);
  const all = new Float64Array(buffer, 0, length);
  all.set([MAGIC, rows, cols, withY ? 1 : 0]);
  const shard = viewShard(all, memory);
  owners.set(buffer, shard);
  return shard;
}

/**
 * Gives a shard's buffer back for the next allocShard to reuse (buffer-pool.ts), its header
 * cleared, so any later read of the buffer as this shard fails ("not a shard"). Only for a shard
 * that nothing will read or write again. False, and the shard left as it is, for a shard that
 * allocShard did not make in this thread (a copy, a view), one whose buffer went back already
 * (and may hold another shard now), or when the pool is full.
 */
export function recycleShard(shard: Shard): boolean {
  const buffer = shard.x.data.buffer;
  if (!(buffer instanceof SharedArrayBuffer) || owners.get(buffer) !== shard) return false;
  if (!giveBack(shard.memory ? { buffer, memory: shard.memory } : { buffer })) return false;
  owners.delete(buffer);
  new Float64Array(buffer, 0, HEADER).fill(0);
  return true;
}

/** The whole buffer of a shard made by allocShard (or shardFromBytes), as bytes, not copied. */
export function shardBytes(shard: Shard): Uint8Array {
  const start = shard.x.data.byteOffset - HEADER * Float64Array.BYTES_PER_ELEMENT;
  const last = shard.y ?? shard.x.data;
  return new Uint8Array(shard.x.data.buffer, start, last.byteOffset + last.byteLength - start);
}

/**
 * The shard in these bytes. Over a SharedArrayBuffer, 8-byte aligned, it is read in place (a
 * task thread's view); other bytes (a peer's copy, a spill file) are first copied into a new
 * SharedArrayBuffer.
 */
export function shardFromBytes(bytes: Uint8Array): Shard {
  if (bytes.byteLength < HEADER * 8 || bytes.byteLength % 8 !== 0) throw new TypeError(`not a shard: ${bytes.byteLength} bytes`);
  let floats: Float64Array;
  if (bytes.buffer instanceof SharedArrayBuffer && bytes.byteOffset % 8 === 0) {
    floats = new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8);
  } else {
    const shared = new Uint8Array(new SharedArrayBuffer(bytes.byteLength));
    shared.set(bytes);
    floats = new Float64Array(shared.buffer);
  }
  return viewShard(floats);
}

function viewShard(all: Float64Array, memory?: SharedMemory): Shard {
  const [magic, rows, cols, hasY] = all;
  if (magic !== MAGIC || !Number.isInteger(rows) || !Number.isInteger(cols)) throw new TypeError('not a shard: bad header');
  const n = rows! * cols!;
  const expected = HEADER + n + (hasY ? rows! : 0);
  if (all.length !== expected) throw new TypeError(`not a shard: ${all.length} values where the header says ${expected}`);
  const x = { rows: rows!, cols: cols!, data: all.subarray(HEADER, HEADER + n) };
  return { x, ...(hasY ? { y: all.subarray(HEADER + n) } : {}), ...(memory ? { memory } : {}) };
}
