// WebAssembly memories handed to this task thread with a task's inputs (a pool kernel's
// threadInput may give a shared WebAssembly.Memory along with a view of its buffer), found again
// by that buffer: a kernel can then run WebAssembly over the input in place. Only for the task's
// run: a later message brings its own wrappers.
/**
 * A shared WebAssembly.Memory, as far as the runtime's types need to know (declared so, not as
 * WebAssembly.Memory: @types/node 20 has no WebAssembly namespace for the emitted types to use).
 */
export interface SharedMemory {
  readonly buffer: ArrayBufferLike;
}

const byBuffer = new WeakMap<ArrayBufferLike, SharedMemory>();

export function registerMemory(memory: SharedMemory): void {
  byBuffer.set(memory.buffer, memory);
}

/** The memory whose buffer this is, when one came with it. */
export function memoryOf(buffer: ArrayBufferLike): SharedMemory | undefined {
  return byBuffer.get(buffer);
}
