// WebAssembly memories handed to this task thread with a task's inputs (a pool kernel's
// threadInput may give a shared WebAssembly.Memory along with a view of its buffer), found again
// by that buffer: a kernel can then run WebAssembly over the input in place. Only for the task's
// run: a later message brings its own wrappers.
const byBuffer = new WeakMap<ArrayBufferLike, WebAssembly.Memory>();

export function registerMemory(memory: WebAssembly.Memory): void {
  byBuffer.set(memory.buffer, memory);
}

/** The memory whose buffer this is, when one came with it. */
export function memoryOf(buffer: ArrayBufferLike): WebAssembly.Memory | undefined {
  return byBuffer.get(buffer);
}
