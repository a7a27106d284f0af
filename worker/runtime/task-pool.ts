// A pool of task threads (node:worker_threads), so the main thread keeps serving gRPC and
// heartbeats while tasks compute. Tasks submitted in one turn go out as one message per
// thread; a thread that dies is replaced and only the task it was running is reported erred.
// A cancelled task that a thread is running cannot be interrupted in place: that thread is
// terminated and replaced, and the other tasks it held run again on the pool.
// Threads start on start() (or the first run()), not in the constructor, so a worker registers
// before it pays for them; tasks go only to threads that said ready and wait in the queue
// until one has.
import { Worker, type MessagePort, type ResourceLimits } from 'node:worker_threads';
import type { EncodedValue } from '../../protocol/values.js';
import { ModuleNotInstalledError, PoolBrokenError, PoolClosedError, TaskCancelledError, TaskThreadCrashedError } from './errors.js';
import type { ModuleStore } from './module-store.js';
import {
  CONTROL_SLOTS, type FromThread, type TaskFunction, type ThreadData, type ThreadErrorInfo, type ThreadFunction, type ThreadLogLine,
  type ThreadDep, type ThreadResult, type ThreadTask, type ToThread, type WireArg,
} from './pool-protocol.js';

export interface PoolTask {
  key: string;
  fn: TaskFunction;
  args: WireArg[];
  /** Encoded values of the dependencies named by args (copied to the thread). */
  deps: ThreadDep[];
  /** Goes to the thread with the task (transferred), as the function's last argument. A task
   *  that has one is not run again elsewhere when its thread dies: its channel died with it. */
  port?: MessagePort;
  /** Runs on a thread of its own: sent only to a thread with nothing in flight, and nothing
   *  joins it there (a task that waits on others, which must not queue behind it). */
  whole?: boolean;
}

/** `thread`: the slot (0 .. nthreads-1) whose thread ran it; -1 when no thread did. */
export type TaskOutcome =
  | { ok: true; value: EncodedValue; startMs: number; durationMs: number; thread: number }
  | { ok: false; error: ThreadErrorInfo; startMs: number; durationMs: number; thread: number };

export interface TaskPoolOptions {
  nthreads: number;
  /** Where uploaded modules are installed; needed only for module functions. */
  modules?: ModuleStore;
  /** Tasks one thread may hold at once (default 1). More lets tiny tasks go out in batches;
   * the caller decides how many it hands out (see WorkerState's pipeline option). */
  maxPerThread?: number;
  resourceLimits?: ResourceLimits;
  /** Threads kept dying as they started and the pool closed itself: it can run nothing more. */
  onBroken?: (err: PoolBrokenError) => void;
  /** What tasks printed (see task-output.ts); without it, printed lines are dropped. */
  onOutput?: (threadId: number, lines: ThreadLogLine[], dropped: number) => void;
}

interface Pending {
  id: number;
  task: PoolTask;
  fnKey: string;
  def: ThreadFunction;
  dispatchedAt: number;
  resolve: (outcome: TaskOutcome) => void;
}

interface Slot {
  /** Its place in the pool: a replacement thread takes the same index. */
  index: number;
  worker: Worker;
  threadId: number;
  /** [0] the id of the task running (0: none), [1] bumped when a skip message is posted, [2]
   *  output characters posted by the thread and not yet taken (see ThreadData). */
  control: Int32Array;
  /** Dispatched, not yet answered, in dispatch order. */
  inflight: Map<number, Pending>;
  known: Set<string>;
  /** The thread loaded and said so; only then does it get tasks. */
  ready: boolean;
  error: Error | undefined;
}

const THREAD_URL = new URL('./task-thread.js', import.meta.url);
/** Threads dying before they come online this many times in a row: the pool is broken. */
const MAX_START_FAILURES = 3;
/** A thread whose oldest task has run this long is skipped while another can take work. */
const BUSY_MS = 20;

export class TaskPool {
  readonly nthreads: number;
  private readonly maxPerThread: number;
  private readonly slots: Slot[] = [];
  private queue: Pending[] = [];
  private nextId = 1;
  private flushQueued = false;
  private started = false;
  private closed = false;
  private startFailures = 0;
  /** Threads terminated for a cancelled task, until they are gone. */
  private readonly retiring = new Set<Promise<unknown>>();

  constructor(private readonly options: TaskPoolOptions) {
    if (!(options.nthreads >= 1)) throw new RangeError(`nthreads must be >= 1, got ${options.nthreads}`);
    this.nthreads = options.nthreads;
    this.maxPerThread = Math.max(1, options.maxPerThread ?? 1);
  }

  /** Starts the threads (once); they load in the background while the caller goes on. */
  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    for (let i = 0; i < this.nthreads; i++) this.slots.push(this.spawn(i));
  }

  /** Threads ready and holding no task now. */
  idleThreads(): number {
    return this.slots.filter((s) => s.ready && s.inflight.size === 0).length;
  }

  /** Queues a task (starting the threads if need be); it runs when a thread is ready. */
  run(task: PoolTask): Promise<TaskOutcome> {
    return new Promise<TaskOutcome>((resolve) => {
      if (this.closed) return resolve(failed(new PoolClosedError(task.key)));
      this.start();
      const fn = this.resolveFunction(task.fn);
      if (fn instanceof Error) return resolve(failed(fn));
      this.queue.push({ id: this.nextId++, task, fnKey: fn.key, def: fn.def, dispatchedAt: 0, resolve });
      this.scheduleFlush();
    });
  }

  /**
   * Stops the run of `key`: its promise resolves at once with TaskCancelledError, and nothing
   * of it is reported later. Queued, it is dropped; sent to a thread but not started, the
   * thread skips it; running, its thread is terminated and replaced, and the other tasks that
   * thread held are queued again. Returns whether the pool had the task.
   */
  cancel(key: string): boolean {
    if (this.closed) return false;
    const queued = this.queue.findIndex((p) => p.task.key === key);
    if (queued >= 0) {
      const [p] = this.queue.splice(queued, 1);
      p!.resolve(failed(new TaskCancelledError(key)));
      return true;
    }
    for (let index = 0; index < this.slots.length; index++) {
      const slot = this.slots[index]!;
      for (const p of slot.inflight.values()) {
        if (p.task.key !== key) continue;
        slot.inflight.delete(p.id);
        p.resolve(failed(new TaskCancelledError(key)));
        this.scheduleFlush(); // its room may be what a queued task waits for
        // Skip message first, then the check: the thread marks a task running before it looks
        // for skips, so either it sees this skip or this sees it running (see task-thread.ts).
        const msg: ToThread = { skip: [p.id] };
        slot.worker.postMessage(msg);
        Atomics.add(slot.control, 1, 1);
        if (Atomics.load(slot.control, 0) === p.id) this.replace(index, slot);
        return true;
      }
    }
    return false;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.queue) p.resolve(failed(new PoolClosedError(p.task.key)));
    this.queue = [];
    await Promise.all(this.slots.map(async (s) => {
      for (const p of s.inflight.values()) p.resolve(failed(new PoolClosedError(p.task.key)));
      s.inflight.clear();
      await s.worker.terminate();
    }));
    await Promise.allSettled([...this.retiring]);
  }

  private resolveFunction(fn: TaskFunction): { key: string; def: ThreadFunction } | Error {
    const adapter = fn.adapter || undefined;
    if (fn.source) return { key: fn.id, def: { name: fn.name, source: fn.source, adapter } };
    if (fn.builtinUrl) return { key: fn.id, def: { name: fn.name, moduleUrl: fn.builtinUrl, exportName: fn.export || 'default', adapter } };
    const url = fn.module ? this.options.modules?.url(fn.module) : undefined;
    if (!url) return new ModuleNotInstalledError(fn.module || '(none)');
    return { key: `${fn.id}@${url}`, def: { name: fn.name, moduleUrl: url, exportName: fn.export || 'default', adapter } };
  }

  private scheduleFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    // A microtask: everything submitted by the current job (one batch of scheduler commands,
    // one batch of results) leaves together.
    queueMicrotask(() => this.flush());
  }

  private flush(): void {
    this.flushQueued = false;
    if (this.closed || this.queue.length === 0) return;
    const batches = new Map<Slot, ThreadTask[]>();
    const now = performance.now();
    let i = 0;
    for (; i < this.queue.length; i++) {
      const p = this.queue[i]!;
      const slot = this.pickSlot(now, p.task.whole === true);
      if (!slot) break;
      p.dispatchedAt = now;
      slot.inflight.set(p.id, p);
      const t: ThreadTask = { id: p.id, key: p.task.key, fn: p.fnKey, args: p.task.args, deps: p.task.deps, ...(p.task.port ? { port: p.task.port } : {}) };
      if (!slot.known.has(p.fnKey)) {
        t.def = p.def;
        slot.known.add(p.fnKey);
      }
      let batch = batches.get(slot);
      if (!batch) batches.set(slot, (batch = []));
      batch.push(t);
    }
    this.queue = i === this.queue.length ? [] : this.queue.slice(i);
    for (const [slot, tasks] of batches) {
      const msg: ToThread = { tasks };
      slot.worker.postMessage(msg, tasks.flatMap((t) => (t.port ? [t.port] : [])));
    }
  }

  /**
   * The least loaded ready thread with room, not one stuck in a long task if another has room;
   * for a whole task, an idle one. A thread running a whole task takes nothing else.
   */
  private pickSlot(now: number, whole: boolean): Slot | undefined {
    let best: Slot | undefined;
    let bestLoad = Infinity;
    for (const s of this.slots) {
      if (!s.ready || s.inflight.size >= (whole ? 1 : this.maxPerThread)) continue;
      const oldest = s.inflight.size > 0 ? s.inflight.values().next().value! : undefined;
      if (oldest?.task.whole) continue;
      const load = s.inflight.size + (oldest && now - oldest.dispatchedAt > BUSY_MS ? this.maxPerThread : 0);
      if (load < bestLoad) {
        best = s;
        bestLoad = load;
      }
    }
    return best;
  }

  /** Terminates a slot's thread (running a cancelled task) and puts a fresh one in its place. */
  private replace(index: number, slot: Slot): void {
    this.slots[index] = this.spawn(index);
    this.queue = [...this.requeued(slot, [...slot.inflight.values()], undefined), ...this.queue];
    slot.inflight.clear();
    const gone = slot.worker.terminate().catch(() => undefined);
    this.retiring.add(gone);
    void gone.finally(() => this.retiring.delete(gone));
    this.scheduleFlush();
  }

  private spawn(index: number): Slot {
    const control = new SharedArrayBuffer(CONTROL_SLOTS * Int32Array.BYTES_PER_ELEMENT);
    const workerData: ThreadData = { control };
    const worker = startThread({ workerData, resourceLimits: this.options.resourceLimits });
    const slot: Slot = {
      index, worker, threadId: worker.threadId, control: new Int32Array(control), inflight: new Map(),
      known: new Set(), ready: false, error: undefined,
    };
    worker.on('message', (msg: FromThread) => {
      if ('results' in msg) {
        this.onResults(slot, msg.results);
      } else if ('logs' in msg) {
        Atomics.sub(slot.control, 2, msg.chars);
        this.options.onOutput?.(slot.threadId, msg.logs, msg.dropped);
      } else {
        slot.ready = true;
        this.startFailures = 0;
        if (this.queue.length > 0) this.scheduleFlush();
      }
    });
    worker.on('error', (err) => {
      slot.error = err;
    });
    worker.on('exit', (code) => this.onExit(index, slot, code));
    return slot;
  }

  private onResults(slot: Slot, results: ThreadResult[]): void {
    for (const r of results) {
      const p = slot.inflight.get(r.id);
      if (!p) continue;
      slot.inflight.delete(r.id);
      p.resolve(r.ok
        ? { ok: true, value: { encoding: r.encoding, data: r.data }, startMs: r.startMs, durationMs: r.durationMs, thread: slot.index }
        : { ok: false, error: r.error, startMs: r.startMs, durationMs: r.durationMs, thread: slot.index });
    }
    if (this.queue.length > 0) this.scheduleFlush();
  }

  private onExit(index: number, slot: Slot, code: number): void {
    if (this.closed || this.slots[index] !== slot) return; // closing, or replaced by cancel()
    const culprit = Atomics.load(slot.control, 0);
    const requeue: Pending[] = [];
    for (const p of slot.inflight.values()) {
      if (p.id === culprit) {
        p.resolve({ ...failed(new TaskThreadCrashedError(p.task.key, slot.threadId, code, slot.error ? { cause: slot.error } : undefined)), thread: index });
      } else {
        requeue.push(p); // innocent: not started, or its result was lost with the thread
      }
    }
    slot.inflight.clear();
    if (!slot.ready && ++this.startFailures >= MAX_START_FAILURES) {
      const err = new PoolBrokenError(`task threads exit as they start (last exit code ${code})`, { cause: slot.error });
      const lost = [...requeue, ...this.queue];
      this.queue = [];
      void this.close();
      this.options.onBroken?.(err); // before the failures below are seen, so the owner knows why
      for (const p of lost) p.resolve(failed(err, p.task.key));
      return;
    }
    this.queue = [...this.requeued(slot, requeue, code), ...this.queue];
    this.slots[index] = this.spawn(index);
    this.scheduleFlush();
  }

  /** The tasks a lost thread held that can run again: not those whose channel (port) went with it, which fail. */
  private requeued(slot: Slot, tasks: Pending[], code: number | undefined): Pending[] {
    for (const p of tasks) if (p.task.port) p.resolve({ ...failed(new TaskThreadCrashedError(p.task.key, slot.threadId, code, slot.error ? { cause: slot.error } : undefined)), thread: slot.index });
    return tasks.filter((p) => !p.task.port);
  }
}

/** The flags task threads start with: the process's, less those a thread refuses (found once). */
let execArgv: string[] | undefined;

/**
 * A task thread. `new Worker` refuses V8 and process-wide flags in execArgv (a worker started as
 * `node --max-old-space-size=... kubedask worker` would start none), naming them: those are left
 * out (a thread's heap has its own limit, resourceLimits).
 */
function startThread(options: { workerData: ThreadData; resourceLimits: ResourceLimits | undefined }): Worker {
  execArgv ??= threadExecArgv();
  try {
    return new Worker(THREAD_URL, { ...options, execArgv });
  } catch (err) {
    if ((err as { code?: string }).code !== 'ERR_WORKER_INVALID_EXEC_ARGV') throw err;
    const refused = new Set(((err as Error).message.split(': ')[1] ?? '').split(', '));
    const kept = execArgv.filter((a) => !refused.has(a));
    if (kept.length === execArgv.length) throw err;
    execArgv = kept;
    return new Worker(THREAD_URL, { ...options, execArgv });
  }
}

/** The process's flags, less those that only make sense for a main script given as text. */
function threadExecArgv(): string[] {
  const out: string[] = [];
  const args = process.execArgv;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-e' || a === '-p' || a === '--eval' || a === '--print') i++; // and its code
    else if (!/^--(input-type|eval|print)=/.test(a)) out.push(a);
  }
  return out;
}

function failed(err: Error, key?: string): TaskOutcome {
  const message = key && !err.message.includes(key) ? `${err.message} (task ${key})` : err.message;
  return { ok: false, error: { name: err.name, message, stack: err.stack ?? '' }, startMs: Date.now(), durationMs: 0, thread: -1 };
}
