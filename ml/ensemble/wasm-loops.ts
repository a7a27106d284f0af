// The WebAssembly build of a round's loops (wasm/hist-loops.c), run on a state that lives in
// a shared WebAssembly.Memory: V8's code for the JavaScript loops (hist-loops.ts) checks every
// typed-array access, and these run 1.5-3 times faster. A state in a plain SharedArrayBuffer (a
// copy read back from disk or fetched from a peer) keeps the JavaScript loops; both give the same
// results, to the bit.
import { HIST_LOOPS_WASM } from './hist-loops-wasm.js';
import type { SharedMemory } from '../../worker/runtime/shared-memory.js';

export interface WasmLoops {
  /** Byte offsets into the memory (see hist-loops.c). */
  build(rows: number, start: number, end: number, binned: number, p: number, offsets: number, g: number, h: number, hist: number): void;
  partition(rows: number, start: number, end: number, binned: number, p: number, feature: number, goes: number, scratch: number): number;
  /** losses.ts's binaryGradients of n rows, from E = e^-F. */
  logistic(E: number, y: number, g: number, h: number, n: number): void;
  /** logistic, state.ts's naturalOrder and build over the training rows in one pass; 0 (nothing done) past 8 features. */
  logistic_root(E: number, y: number, g: number, h: number, n: number, valRows: number, nVal: number, trainRows: number, binned: number, p: number, offsets: number, hist: number): number;
  /** Adds `value` to the raw scores F of rows[start, end) (a leaf's training rows). */
  add_leaf(F: number, rows: number, start: number, end: number, value: number): void;
  /** add_leaf for a binary state: also E = e^-F of those rows times `factor`, e^-value; returns how many left rounds.ts's E_RANGE. */
  add_leaf_binary(F: number, E: number, rows: number, start: number, end: number, value: number, factor: number): number;
}

let compiled: WebAssembly.Module | undefined;
const instances = new WeakMap<SharedMemory, WasmLoops>();

/** The loops over this memory (one instance per memory). */
export function wasmLoops(memory: SharedMemory): WasmLoops {
  let loops = instances.get(memory);
  if (!loops) {
    compiled ??= new WebAssembly.Module(Buffer.from(HIST_LOOPS_WASM, 'base64'));
    loops = new WebAssembly.Instance(compiled, { env: { memory } }).exports as unknown as WasmLoops;
    instances.set(memory, loops);
  }
  return loops;
}
