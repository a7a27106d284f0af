// Messages between the task pool (main thread) and its task threads. Both sides batch: the
// pool posts every task dispatched in one turn as one message, a thread posts the results it
// has at the end of a batch (or before it awaits a task's promise) as one message.
import type { MessagePort } from 'node:worker_threads';
import type { SharedMemory } from './shared-memory.js';

/** A task function as the wire gives it (proto FunctionDef). */
export interface TaskFunction {
  id: string;
  name: string;
  /** Source of a self-contained function, e.g. `(a, b) => a + b`. */
  source?: string;
  /** Uploaded module name and export, when not `source`. */
  module?: string;
  export?: string;
  /** A built-in kernel's name: run by the worker itself, never by a task thread, except a pool kernel (see builtinUrl). */
  builtin?: string;
  /** A pool kernel's module (builtins.ts): the thread calls its export `export`. */
  builtinUrl?: string;
  /** How the thread hands values to the function ('' as decoded; see thread-adapters.ts). */
  adapter?: string;
}

/** How a thread loads a function: from source, or from an installed module file. */
export interface ThreadFunction {
  name: string;
  source?: string;
  moduleUrl?: string;
  exportName?: string;
  adapter?: string;
}

/** A positional argument: a dependency's value, or a literal (JSON may hold $kd_key placeholders). */
export type WireArg = { key: string } | { encoding: number; data: Uint8Array };

export interface ThreadTask {
  id: number;
  key: string;
  /** Cache key of the function in the thread. */
  fn: string;
  /** Sent the first time a thread meets `fn`. */
  def?: ThreadFunction;
  args: WireArg[];
  /** Encoded values of the dependencies named by args. */
  deps: ThreadDep[];
  /** A channel to the task's caller while it runs (transferred): the function gets it after its arguments. */
  port?: MessagePort;
}

/** A task's dependency as a thread gets it; `memory`: the shared WebAssembly.Memory whose buffer `data` views, when it has one (shared-memory.ts). */
export type ThreadDep = [key: string, encoding: number, data: Uint8Array, memory?: SharedMemory];

export interface ThreadErrorInfo {
  name: string;
  message: string;
  stack: string;
}

export type ThreadResult =
  | { id: number; ok: true; encoding: number; data: Uint8Array; startMs: number; durationMs: number }
  | { id: number; ok: false; error: ThreadErrorInfo; startMs: number; durationMs: number };

/** Tasks to run, or ids of tasks sent earlier to drop unstarted (the task was cancelled). */
export type ToThread = { tasks: ThreadTask[] } | { skip: number[] };
/** A line a task printed (console.*, process.stdout/stderr), for the worker's log. */
export interface ThreadLogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  /** The task running when it was printed; '' between tasks. */
  key: string;
}

/** Printed lines, and how many were dropped since the last such message because the main
 *  thread had not yet taken `chars` (see ThreadData's control[2]). */
export interface ThreadOutput { logs: ThreadLogLine[]; dropped: number; chars: number }

/** A thread says `ready` once its imports loaded: dying before that means it cannot start. */
export type FromThread = { results: ThreadResult[] } | { ready: true } | ThreadOutput;

/** workerData of a task thread. `control`, as an Int32Array over a SharedArrayBuffer: [0] holds
 * the id of the task the thread is running, 0 when none (after a crash it names the task to
 * blame); [1] is bumped by the pool after each skip message, so the thread takes those in
 * (synchronously) before starting a task, even in the middle of a batch; [2] counts the
 * characters of output the thread has posted and the pool not yet taken (the thread adds, the
 * pool subtracts), so a task printing faster than the worker writes drops lines instead of
 * queueing them without bound. */
export interface ThreadData { control: SharedArrayBuffer }

/** Int32 slots of ThreadData's control. */
export const CONTROL_SLOTS = 3;
