// Buffers that a finished fit gave back (its shards' and boosting states', ml/recycle), for the
// next shards made in the same thread (a worker's main thread: ml/shard and ml/derive build
// them there) to reuse. Fresh memory costs a page fault on the first touch of each 4 KiB page:
// on the VMs measured ~11 µs a page, 170 ms for a 65 MB boosting state, where zeroing a reused
// buffer takes ~4 ms; and a fit makes a shard and a state for every partition, so the next fit
// on the same data (a search's, a benchmark's repeats) would pay that again.
// Bounded: at most a quarter of the worker's memory limit (1 GiB without one) and MAX_MEMORIES
// WebAssembly memories; a buffer not reused within IDLE_MS is dropped (for the garbage collector
// to free), and all are when the worker's data store has to spill.
import type { SharedMemory } from '../../worker/runtime/shared-memory.js';
import { onMemoryPressure } from '../../worker/runtime/memory-pressure.js';

/** A buffer in the pool: a plain SharedArrayBuffer, or a shared WebAssembly.Memory's. */
export interface PooledBuffer {
  buffer: SharedArrayBuffer;
  memory?: SharedMemory;
}

interface Entry extends PooledBuffer {
  since: number;
}

/** How long a buffer waits to be reused: a user's next fit, a search's next candidate. */
export const IDLE_MS = 120_000;
/** The pool's bound when the worker has no memory limit. */
const DEFAULT_LIMIT = 2 ** 30;
/** A buffer serves a request of at least this share of its size (a bigger one would waste the rest). */
const MIN_FILL = 0.8;
const WASM_PAGE = 65_536;
/** WebAssembly memories kept at most: each holds ~10 GiB of address space, of which a process has ~128 TiB. */
const MAX_MEMORIES = 16;

const entries: Entry[] = [];
let limit = DEFAULT_LIMIT;
let sweep: ReturnType<typeof setTimeout> | undefined;

/** The pool's bound from the worker's memory limit (0: none). */
export function setPoolLimit(memoryLimit: number): void {
  limit = memoryLimit > 0 ? Math.floor(memoryLimit / 4) : DEFAULT_LIMIT;
}

/**
 * Keeps a buffer for reuse; false when it would pass the bound. The caller gives up the buffer:
 * nothing may read or write it afterwards (its task threads have finished with it).
 */
export function giveBack(buffer: PooledBuffer, now = Date.now()): boolean {
  expire(now);
  if (pooledBytes() + buffer.buffer.byteLength > limit) return false;
  if (buffer.memory && entries.filter((e) => e.memory).length >= MAX_MEMORIES) return false;
  entries.push({ ...buffer, since: now });
  sweepLater();
  return true;
}

/** Expires the idle buffers when the oldest is due, and again for the next (a timer that keeps no process alive). */
function sweepLater(): void {
  if (sweep || entries.length === 0) return;
  const due = Math.min(...entries.map((e) => e.since)) + IDLE_MS;
  sweep = setTimeout(() => {
    sweep = undefined;
    expire(Date.now());
    sweepLater();
  }, Math.max(0, due - Date.now())).unref();
}

/**
 * A pooled buffer of at least `bytes`, zeroed (all of it: nothing of the last shard stays): a
 * WebAssembly.Memory's when `wasm`, else a plain one; undefined when none fits. The smallest
 * that fits is taken.
 */
export function reuseBuffer(bytes: number, wasm: boolean, now = Date.now()): PooledBuffer | undefined {
  expire(now);
  // What a fresh buffer would take: a WebAssembly memory grows by pages.
  const fresh = wasm ? Math.ceil(bytes / WASM_PAGE) * WASM_PAGE : bytes;
  let best = -1;
  entries.forEach((e, i) => {
    const size = e.buffer.byteLength;
    if ((e.memory !== undefined) !== wasm || size < bytes || fresh < MIN_FILL * size) return;
    if (best < 0 || size < entries[best]!.buffer.byteLength) best = i;
  });
  if (best < 0) return undefined;
  const [{ buffer, memory }] = entries.splice(best, 1) as [Entry];
  new Uint8Array(buffer).fill(0);
  return memory ? { buffer, memory } : { buffer };
}

/** Bytes the pool holds. */
export function pooledBytes(): number {
  return entries.reduce((a, e) => a + e.buffer.byteLength, 0);
}

/** Drops the buffers idle for IDLE_MS. */
function expire(now: number): void {
  for (let i = entries.length - 1; i >= 0; i--) if (now - entries[i]!.since >= IDLE_MS) entries.splice(i, 1);
}

/** Empties the pool (the worker is short of memory; tests). */
export function clearPool(): void {
  entries.length = 0;
}
onMemoryPressure(clearPool);
