// Entry of a task thread (node:worker_threads). Runs the tasks the pool posts, in order, one
// at a time, and posts results back in batches.
//
// Functions given as source are compiled with `new Function` (compile-function.ts, beside this
// file) in this thread's realm. Dynamic `import()` inside them resolves against
// dist/worker/runtime/, so bare specifiers such as `await import('nodejs-polars')` find the
// kubedask package's node_modules: tasks load packages the ordinary way and their arguments
// stay exactly the user's arguments.
//
// A thread starts lean (it says `ready` sooner and holds less memory): apache-arrow is loaded
// the first time a task takes or returns an Arrow table, not at start.
import { format } from 'node:util';
import { parentPort, receiveMessageOnPort, threadId, workerData } from 'node:worker_threads';
import { ArrowNotLoadedError, decodeValue, encodeValue, needsArrow, substituteKeys, Encoding, type ArrowModule, type EncodedValue } from '../../protocol/value-codec.js';
import { compileFunction, type Fn } from './compile-function.js';
import { loadAdapter, type ThreadAdapter } from './thread-adapters.js';
import { TaskOutput } from './task-output.js';
import type { FromThread, ThreadData, ThreadErrorInfo, ThreadFunction, ThreadResult, ThreadTask, ToThread } from './pool-protocol.js';
import { registerMemory } from './shared-memory.js';


const port = parentPort!;
const control = new Int32Array((workerData as ThreadData).control);
/** Skip messages the pool had announced (control[1]) when this thread last looked. */
let skipsSeen = 0;
const skipped = new Set<number>();
const defs = new Map<string, ThreadFunction>();
const functions = new Map<string, Fn | Promise<Fn>>();
const queue: ThreadTask[] = [];
let results: ThreadResult[] = [];
let transfer: ArrayBuffer[] = [];
let draining = false;
let firstBuffered = 0;
let arrow: ArrowModule | undefined;

/** Results are held at most this long before being posted, while a batch is still running. */
const FLUSH_AFTER_MS = 2;
/**
 * Results of ours this large move (transfer) instead of being copied. Smaller ones are copied,
 * though a move would be cheaper: a transfer detaches an ArrayBuffer, and after the first
 * detach in an isolate V8's optimised code checks every typed array access for a detached
 * buffer (its ArrayBufferDetaching protector), for the rest of the thread's life. The ML
 * kernels' loops over typed arrays ran 1.3-1.5x slower in a thread that had moved one result
 * (a boosting fit's bin-edge sample, ~4 MB of JSON, did it). A copy costs ~1 ms a MB on each
 * side (serialised here, read on the worker's main thread): worth paying up to this size;
 * past it, a DataFrame partition's Arrow bytes, the move is worth more.
 */
const TRANSFER_BYTES = 16 * 1024 * 1024;

// What tasks print goes to the worker's log with their key (task-output.ts).
const output = new TaskOutput((msg) => port.postMessage(msg), control);
output.install();

// A stray rejection from a finished task must not take the thread (and others' tasks) down. It
// goes to the worker's log with no key: the task that left it may be long finished.
process.on('unhandledRejection', (reason) => {
  output.line('error', `unhandled rejection in task thread ${threadId}: ${format(reason)}`, '');
});

port.on('message', (msg: ToThread) => {
  receive(msg);
  if (!draining) void drain();
});

function receive(msg: ToThread): void {
  if ('tasks' in msg) {
    for (const t of msg.tasks) {
      if (t.def) defs.set(t.fn, t.def); // now: a skipped task may be the one that brought it
      queue.push(t);
    }
    return;
  }
  for (const id of msg.skip) {
    const i = queue.findIndex((t) => t.id === id);
    if (i >= 0) queue.splice(i, 1)[0]!.port?.close();
    else if (Atomics.load(control, 0) === id) skipped.add(id); // taken from the queue, not started
    // else: already run; its result is ignored
  }
}

/** Takes in messages now, between two tasks of a batch, when the pool announced a skip. */
function pollSkips(): void {
  const announced = Atomics.load(control, 1);
  if (announced === skipsSeen) return;
  skipsSeen = announced;
  for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) receive(m.message as ToThread);
}
port.postMessage({ ready: true } satisfies FromThread);

async function drain(): Promise<void> {
  draining = true;
  while (queue.length > 0) {
    const task = queue.shift()!;
    // Marked running before looking for skips: the pool, cancelling, posts the skip and then
    // reads control[0], so a task is either skipped here or seen running (and the thread ended).
    Atomics.store(control, 0, task.id);
    pollSkips();
    if (skipped.delete(task.id)) {
      task.port?.close();
      Atomics.store(control, 0, 0);
      continue;
    }
    const start = performance.now();
    const startMs = performance.timeOrigin + start;
    output.runs(task.key);
    try {
      let fn = functions.get(task.fn);
      if (fn === undefined) fn = load(task.fn);
      if (fn instanceof Promise) {
        flush();
        fn = await fn;
      }
      // A function with an adapter takes and returns the adapter's values (thread-adapters.ts).
      const def = defs.get(task.fn);
      let adapter: ThreadAdapter | undefined;
      if (def?.adapter) {
        flush();
        adapter = await loadAdapter(def.adapter);
      } else if (!arrow && takesArrow(task)) {
        flush();
        arrow = await loadArrow();
      }
      let value = fn(...decodeArgs(task, adapter), ...(task.port ? [task.port] : []));
      if (value instanceof Promise || (value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function')) {
        flush();
        value = await value;
      }
      const encoded = adapter ? adapter.encode(value, def?.name || task.fn) : await encodeResult(value, task.key);
      let data = encoded.data;
      // JSON text and Arrow IPC bytes are fresh buffers of ours; returned bytes are the user's,
      // who may keep using them, so those are copied (by postMessage) rather than moved.
      let ours = encoded.encoding !== Encoding.ENCODING_BYTES;
      if (data.byteLength * 2 < data.buffer.byteLength) {
        data = new Uint8Array(data); // a view into a bigger buffer: posting would copy all of it
        ours = true;
      }
      if (ours && data.byteLength >= TRANSFER_BYTES && data.buffer instanceof ArrayBuffer && data.byteLength === data.buffer.byteLength) {
        transfer.push(data.buffer);
      }
      push({ id: task.id, ok: true, encoding: encoded.encoding, data, startMs, durationMs: performance.now() - start });
    } catch (err) {
      push({ id: task.id, ok: false, error: errorInfo(err), startMs, durationMs: performance.now() - start });
    } finally {
      Atomics.store(control, 0, 0);
      output.runs('');
    }
  }
  draining = false;
  flush();
}

function push(result: ThreadResult): void {
  if (results.length === 0) firstBuffered = performance.now();
  results.push(result);
  if (performance.now() - firstBuffered >= FLUSH_AFTER_MS) flush();
}

function flush(): void {
  output.flush(); // first: a task's lines reach the log before its result
  if (results.length === 0) return;
  const msg: FromThread = { results };
  port.postMessage(msg, transfer);
  results = [];
  transfer = [];
}

/** Compiles or imports a function once per thread; a failed load is retried by the next task. */
function load(id: string): Fn | Promise<Fn> {
  const def = defs.get(id);
  if (!def) throw new Error(`function ${id} was never sent to this thread`);
  if (def.moduleUrl) {
    const exportName = def.exportName || 'default';
    const loading = import(def.moduleUrl).then((m: Record<string, unknown>) => {
      const f = m[exportName];
      if (typeof f !== 'function') throw new TypeError(`module export ${exportName} of ${def.moduleUrl} is ${typeof f}, not a function`);
      functions.set(id, f as Fn);
      return f as Fn;
    });
    loading.catch(() => functions.delete(id));
    functions.set(id, loading);
    return loading;
  }
  const f = compileFunction(def);
  functions.set(id, f);
  return f;
}

function takesArrow(task: ThreadTask): boolean {
  return task.deps.some((d) => needsArrow({ encoding: d[1], data: d[2] }))
    || task.args.some((a) => 'encoding' in a && needsArrow(a));
}

/** Encodes a result, loading apache-arrow first when the result is or holds a table. */
async function encodeResult(value: unknown, key: string): Promise<EncodedValue> {
  const where = `result of task ${key}`;
  try {
    return encodeValue(value, arrow, where);
  } catch (err) {
    if (arrow || !(err instanceof ArrowNotLoadedError)) throw err;
    flush();
    arrow = await loadArrow();
    return encodeValue(value, arrow, where);
  }
}

async function loadArrow(): Promise<ArrowModule> {
  return import('apache-arrow');
}

function decodeArgs(task: ThreadTask, adapter: ThreadAdapter | undefined): unknown[] {
  const decode = adapter ? adapter.decode : (v: EncodedValue) => decodeValue(v, arrow);
  const decoded = new Map<string, unknown>();
  const resolve = (key: string): unknown => {
    if (decoded.has(key)) return decoded.get(key);
    const dep = task.deps.find((d) => d[0] === key);
    if (!dep) throw new Error(`dependency ${key} of ${task.key} was not provided`);
    if (dep[3]) registerMemory(dep[3]);
    const value = decode({ encoding: dep[1], data: dep[2] });
    decoded.set(key, value);
    return value;
  };
  return task.args.map((a) => {
    if ('key' in a) return resolve(a.key);
    const value = decode(a);
    return a.encoding === Encoding.ENCODING_JSON && task.deps.length > 0 ? substituteKeys(value, resolve) : value;
  });
}

function errorInfo(err: unknown): ThreadErrorInfo {
  if (err instanceof Error) return { name: err.name, message: err.message, stack: err.stack ?? '' };
  return { name: 'Error', message: `non-Error thrown: ${safeString(err)}`, stack: '' };
}

function safeString(v: unknown): string {
  try {
    return typeof v === 'string' ? v : JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
