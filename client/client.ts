// The user's handle on a cluster: submit work, get futures, gather results.
import { createHash, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, extname, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConnectionLostError, GraphValidationError, KubedaskError, SchedulerUnreachableError } from '../protocol/errors.js';
import { DEFAULT_SCHEDULER_PORT, SCHEDULER_PORT_HINT } from '../protocol/reachability.js';
import { decodeValue, encodeValue } from '../protocol/values.js';
import { checkTls, type Tls } from '../protocol/tls.js';
import { argsWithKeyRefs, collectGraph, type Delayed } from './delayed.js';
import { Future, type FutureOwner } from './future.js';
import { buildTask, newKey, type BuiltTask, type TaskOptions } from './graph-builder.js';
import { InlineValues } from './inline-values.js';
import { KeyTracker, type KeyStatus } from './key-tracker.js';
import { specBytes, type ClusterInfo, type KeyEvent } from './messages.js';
import { findNested, replaceNested } from './nested.js';
import type { AnyFunction, ModuleFunction, ModuleFunctions, TaskFunction } from './task-functions.js';
import type { ArgOf, ArgsOf, FuturesOf, Gathered, ResultOf } from './typed-args.js';
import { SchedulerRpc, type RebalanceResult } from './scheduler-rpc.js';
import { DEFAULT_REBALANCE_TIMEOUT_MS, MAX_TIMER_MS } from '../scheduler/server/balance.js';
import { ScatterFailedError, ValueMissingError } from './errors.js';
import { SCHEDULER_ADDRESS_ENV, TLS_ENV } from '../operator/api/types.js';
import { checkWorkerLogsOptions, type WorkerLogs, type WorkerLogsOptions } from './worker-logs.js';
import { fetchHistory, withPerformanceReport, writeTraceEvents, type PerformanceReportOptions, type TraceEventsOptions } from './history.js';
import type { DeltaRequest, HistoryDelta, HistorySnapshot } from '../scheduler/history/types.js';
import type { KeysProgress } from './progress-types.js';

export interface ConnectOptions {
  /** How long to wait for the scheduler to answer, in ms. */
  timeoutMs?: number;
  /** The cluster's CA and this client's certificate and key, when the scheduler uses TLS. */
  tls?: Tls;
}

/** Anything with a scheduler address: an address string, a LocalCluster, or a KubeCluster (whose `tls` is used unless options give one). */
export type ClusterTarget = string | { address: string; tls?: Tls | undefined };

/** What asCompleted yields: a record, since a bare Future is awaitable and would be unwrapped. */
export interface Completed<F extends Future = Future> {
  future: F;
  /** Its position in the futures given to asCompleted. */
  index: number;
}

const MAX_SUBMIT_BYTES = 32 * 1024 * 1024;
/** How long cancel() waits for the scheduler's reports before returning anyway. */
const CANCEL_REPORT_MS = 10_000;

export class Client implements FutureOwner {
  /** Open clients, oldest first: the last is the default client. */
  private static readonly open: Client[] = [];

  readonly id = `client-${randomUUID()}`;
  private readonly keys = new KeyTracker();
  /** Small results that came with their finish events (read before asking for a Gather). */
  private readonly inline = new InlineValues();
  /** Keys queued or sent in a graph the scheduler has not answered yet (how many times). */
  private readonly unconfirmed = new Map<string, number>();
  private readonly futures = new FinalizationRegistry<string>((key) => this.dropRef(key));
  private pendingTasks: BuiltTask[] = [];
  private pendingGathers = new Map<string, { resolve(v: unknown): void; reject(e: Error): void }[]>();
  private pendingReleases: string[] = [];
  /** Keys whose scatter failed, and tasks failed for using them: the scattered key and its error,
   *  so a task using one fails with that cause instead of being sent (the scheduler never had it). */
  private readonly failedScatters = new Map<string, { scatterKey: string; error: Error }>();
  private flushScheduled = false;
  private inflight: Promise<unknown> = Promise.resolve();
  private closed = false;

  private dashboard = '';

  private constructor(readonly address: string, private readonly rpc: SchedulerRpc) {}

  /**
   * Connects to a scheduler at `host:port`, `grpc://host:port`, or a LocalCluster; with no target,
   * to $KUBEDASK_SCHEDULER_ADDRESS (what a DaskJob's runner and the cluster's pods are given).
   */
  static async connect(target?: ClusterTarget, options: ConnectOptions = {}): Promise<Client> {
    const address = normalizeAddress(targetAddress(target));
    const tls = options.tls ?? (typeof target === 'object' ? target.tls : undefined) ?? (target === undefined ? await tlsFromEnvironment() : undefined);
    const rpc = new SchedulerRpc(address, tls);
    const client = new Client(address, rpc);
    await rpc.openSession(client.id, options.timeoutMs ?? 10_000, (events) => client.onEvents(events), (err) => client.onSessionLost(err))
      .catch((err: Error) => {
        rpc.close();
        throw err instanceof KubedaskError ? err : new SchedulerUnreachableError(address, 'timeout', err.message, { cause: err });
      });
    client.dashboard = (await rpc.clusterInfo().catch(() => undefined))?.dashboard ?? '';
    Client.open.push(client);
    return client;
  }

  /**
   * The default client: the most recently connected one still open (when it closes, the one
   * connected before it). What the data layers use when not given a client.
   */
  static current(): Client {
    const client = Client.open.at(-1);
    if (!client) throw new KubedaskError('no open Client: connect one first with `await Client.connect(address or cluster)`');
    return client;
  }

  /** The scheduler's dashboard URL, as it reported at connect time ('' when it serves none). */
  get dashboardLink(): string {
    return this.dashboard;
  }

  /**
   * Runs fn(...args) on the cluster and returns at once. Futures among args (also inside arrays
   * and plain objects) arrive in fn as their values, so a Future<X> may stand for an X.
   */
  submit<A extends unknown[], R>(fn: TaskFunction<A, R>, ...args: ArgsOf<A>): Future<ResultOf<R>> {
    return this.submitWith({}, fn, ...args);
  }

  submitWith<A extends unknown[], R>(options: TaskOptions, fn: TaskFunction<A, R>, ...args: ArgsOf<A>): Future<ResultOf<R>> {
    this.assertOpen();
    const task = buildTask(fn, args, options);
    this.enqueue(task);
    return new Future(task.spec.key, this);
  }

  /** Runs fn(item) for every item; one future per item, in order. */
  map<A, R>(fn: TaskFunction<[A], R>, items: Iterable<ArgOf<A>>, options: Omit<TaskOptions, 'key'> = {}): Future<ResultOf<R>>[] {
    this.assertOpen();
    const out: Future<ResultOf<R>>[] = [];
    for (const item of items) {
      const task = buildTask(fn, [item], options);
      this.enqueue(task);
      out.push(new Future(task.spec.key, this));
    }
    return out;
  }

  /**
   * The values of the futures in x, keeping its shape: a Future, or arrays and plain objects
   * holding Futures (at any depth) and other values, which come back as they are.
   */
  async gather<const X>(x: X): Promise<Gathered<X>> {
    const futures = findNested(x, (v): v is Future => v instanceof Future);
    // Wait until every key is done, then fetch them all in one Gather rather than in many
    // small ones as they trickle in.
    await Promise.all(futures.map((f) => this.keys.wait(f.key)));
    const keys = [...new Set(futures.map((f) => f.key))];
    const values = await Promise.all(keys.map((key) => this.resultOf(key)));
    const byKey = new Map(keys.map((key, i) => [key, values[i]]));
    return replaceNested(x, (v) => (v instanceof Future ? { value: byKey.get(v.key) } : undefined)) as Gathered<X>;
  }

  /**
   * Places local data on workers and returns at once, as submit does: a Future per value,
   * finished once the data is on a worker. Tasks submitted after it, using it, wait for it; if
   * the scatter fails, they fail with ScatterFailedError, its error as their cause. The encoded
   * values stay in this process until sent: `await future.wait()` before scattering more.
   */
  scatter<T>(data: T): Future<T>;
  scatter<T>(data: Iterable<T>, options: { list: true }): Future<T>[];
  scatter(data: unknown, options?: { list: true }): Future | Future[] {
    this.assertOpen();
    const items = options?.list ? scatterItems(data) : [data];
    const values = items.map((item, i) => ({ key: newKey('scatter'), value: encodeValue(item, options?.list ? `scattered item ${i}` : 'scattered value') }));
    const futures = values.map(({ key }) => new Future(key, this));
    this.inOrder(() => this.rpc.scatter(this.id, values)).catch((err: unknown) => {
      const error = err instanceof Error ? err : new Error(String(err));
      for (const { key } of values) {
        this.failedScatters.set(key, { scatterKey: key, error });
        this.keys.failed(key, error);
      }
    });
    return options?.list ? futures : futures[0]!;
  }

  /** Lazily built graphs (see delayed()) sent to the cluster; returns at once, one Future per Delayed. */
  compute<T>(x: Delayed<T>): Future<T>;
  compute<const L extends readonly Delayed[]>(x: L): FuturesOf<L>;
  compute(x: Delayed | readonly Delayed[]): Future | Future[] {
    return isDelayedList(x) ? this.sendDelayed(x) : this.sendDelayed([x])[0]!;
  }

  /**
   * As compute, named as in Dask: returns at once, without waiting for the computation, and the
   * results stay in cluster memory while the returned Futures live. Do not `await` the Future
   * it returns unless you want its value brought here.
   */
  persist<T>(x: Delayed<T>): Future<T>;
  persist<const L extends readonly Delayed[]>(x: L): FuturesOf<L>;
  persist(x: Delayed | readonly Delayed[]): Future | Future[] {
    return isDelayedList(x) ? this.sendDelayed(x) : this.sendDelayed([x])[0]!;
  }

  /** Cancels futures and everything waiting on them. */
  async cancel(futures: Future | Future[]): Promise<void> {
    const keys = (Array.isArray(futures) ? futures : [futures]).map((f) => f.key);
    await this.flush();
    await this.rpc.cancel(this.id, keys);
    // The scheduler reports each cancelled key on the session stream, which may trail this
    // reply: wait for those reports, so that status reads cancelled on return and a stale
    // report cannot hit a key submitted again afterwards.
    const settled = Promise.all(keys.map((k) => this.keys.wait(k).catch(() => undefined)));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([settled, new Promise((r) => { timer = setTimeout(r, CANCEL_REPORT_MS); })]);
    clearTimeout(timer);
  }

  /**
   * Makes an ES module's exports available as task functions on every worker. The module
   * must be one file; packages it imports must be installed where the workers run. Given the
   * module's type (`client.upload<typeof import('./tasks.js')>('./tasks.js')`), each export
   * keeps its signature for submit and map.
   */
  async upload<M = Record<string, AnyFunction>>(path: string): Promise<ModuleFunctions<M>> {
    this.assertOpen();
    const file = resolvePath(path);
    const source = await readFile(file, 'utf8');
    const name = basename(file, extname(file)).replace(/[^A-Za-z0-9_.-]/g, '_');
    // A query naming the content makes Node import an edited module afresh.
    const version = createHash('sha256').update(source).digest('hex').slice(0, 16);
    const local = (await import(`${pathToFileURL(file).href}?v=${version}`)) as Record<string, unknown>;
    await this.rpc.uploadModule(name, source);
    const out: Record<string, ModuleFunction> = {};
    for (const [exportName, value] of Object.entries(local)) {
      if (typeof value === 'function') out[exportName] = { kind: 'kubedask-module-function', module: name, export: exportName };
    }
    return out as ModuleFunctions<M>;
  }

  /**
   * Yields `{ future, index }` for each future as it completes (finished, erred or cancelled),
   * in completion order. Not the bare Future: `for await` would await it into its value.
   */
  async *asCompleted<F extends Future>(futures: Iterable<F>): AsyncGenerator<Completed<F>> {
    const list = [...futures];
    const queue: Completed<F>[] = [];
    let wake: (() => void) | undefined;
    list.forEach((future, index) => {
      future.wait().catch(() => undefined).finally(() => { queue.push({ future, index }); wake?.(); });
    });
    for (let yielded = 0; yielded < list.length; yielded++) {
      while (queue.length === 0) await new Promise<void>((r) => (wake = r));
      yield queue.shift()!;
    }
  }

  /** Cluster membership and addresses. */
  async clusterInfo(): Promise<ClusterInfo> {
    return this.rpc.clusterInfo();
  }

  /**
   * Workers' recent log lines, keyed by worker address, as Dask's get_worker_logs: each worker's
   * own lines and its tasks' console output (those with `key`). A worker that did not answer in
   * time has an `error` instead of lines.
   */
  async getWorkerLogs(options: WorkerLogsOptions = {}): Promise<Record<string, WorkerLogs>> {
    return this.rpc.workerLogs(checkWorkerLogsOptions(options));
  }

  /**
   * What the scheduler has recorded of the session (scheduler/history/types.ts): the whole of
   * it, or with a request (the cursor, lane and group counts and time of what you have) only
   * what came after.
   */
  history(): Promise<HistorySnapshot>;
  history(request: DeltaRequest): Promise<HistoryDelta>;
  async history(request?: DeltaRequest): Promise<HistorySnapshot | HistoryDelta> {
    return request === undefined ? fetchHistory(this.rpc) : fetchHistory(this.rpc, request);
  }

  /**
   * Runs fn and writes one self-contained HTML file of what ran meanwhile (task stream, time per
   * task group, worker memory, scaling, failures) that opens without the cluster: Dask's
   * performance_report. Written also when fn throws (then its error passes on).
   */
  async performanceReport<T>(path: string, fn: () => T | Promise<T>, options: PerformanceReportOptions = {}): Promise<T> {
    this.assertOpen();
    return withPerformanceReport(this.rpc, path, fn, options);
  }

  /** Writes the session's task stream and memory as a Chrome trace (open it in Perfetto);
   *  resolves to the number of trace events written. */
  async traceEvents(path: string, options: TraceEventsOptions = {}): Promise<number> {
    return writeTraceEvents(this.rpc, path, options);
  }

  /**
   * Where the keys (or futures) stand, per task group: they and every task they depend on that
   * the scheduler still knows, counted by state, in one call. Sent after what was submitted
   * before it, so it sees those tasks. What progress() draws; poll it, don't spin on it.
   */
  async progressOf(keys: string | Future | Iterable<string | Future>): Promise<KeysProgress> {
    this.assertOpen();
    const items = typeof keys === 'string' || keys instanceof Future ? [keys] : [...keys];
    const list = items.map((k) => (k instanceof Future ? k.key : k));
    if (list.some((k) => typeof k !== 'string')) throw new KubedaskError('progressOf: give keys (strings) or Futures');
    if (this.pendingTasks.length > 0) void this.flush().catch(() => undefined); // send this turn's submits first
    return this.inOrder(() => this.rpc.progress(list));
  }

  /**
   * Moves data between workers so that each holds about its share (in proportion to its
   * threads), as dask.distributed's rebalance: the futures' values once they are computed, or
   * every key in memory when none are given. Persisted data can land unevenly (partitions go
   * to whichever worker is free first; a worker added later holds nothing), and work that
   * stays with its data then runs on fewer workers. Moves only what brings both workers
   * nearer their shares; a value a task is reading stays. Resolves when every move ended, or
   * after `timeoutMs` (default 60 s) with the rest counted as abandoned.
   */
  async rebalance(futures?: Future | Iterable<Future>, options: { timeoutMs?: number } = {}): Promise<RebalanceResult> {
    this.assertOpen();
    const list = futures === undefined ? [] : futures instanceof Future ? [futures] : [...futures];
    if (list.some((f) => !(f instanceof Future))) throw new KubedaskError('rebalance: give Futures (or nothing, for every key in memory)');
    const timeoutMs = options.timeoutMs ?? DEFAULT_REBALANCE_TIMEOUT_MS;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_TIMER_MS) {
      throw new KubedaskError(`rebalance: timeoutMs must be an integer from 1 to ${MAX_TIMER_MS}, got ${String(timeoutMs)}`);
    }
    if (futures !== undefined && list.length === 0) return { moved: 0, bytes: 0, dropped: 0, abandoned: 0 };
    if (this.pendingTasks.length > 0) await this.flush();
    await Promise.all(list.map((f) => this.waitFor(f.key)));
    // After what was sent before it, but not in the send chain: a rebalance may take a while,
    // and submits, scatters and releases made meanwhile must not wait for it.
    await this.inflight.catch(() => undefined);
    return this.rpc.rebalance(list.map((f) => f.key), timeoutMs);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush().catch(() => undefined);
    this.closed = true;
    this.forget();
    this.rpc.close();
    this.keys.failAll(new KubedaskError('client closed'));
  }

  // FutureOwner -------------------------------------------------------------------------

  statusOf(key: string): KeyStatus {
    return this.keys.status(key);
  }

  waitFor(key: string): Promise<void> {
    return this.keys.wait(key);
  }

  async resultOf(key: string): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      await this.keys.wait(key);
      const inline = this.inline.get(key);
      // A copy each time: a caller that changes its bytes must not change the next read.
      if (inline) return decodeValue({ encoding: inline.encoding, data: inline.data.slice() });
      try {
        return await this.gatherOne(key);
      } catch (err) {
        // The value vanished (its worker died) after it finished: it is being recomputed. Ask
        // the scheduler for the key's state again, so a finish we already saw is not missed.
        if (!(err instanceof ValueMissingError) || attempt >= 5) throw err;
        this.keys.pending(key);
        this.rpc.want([key]);
      }
    }
  }

  retain(future: Future): void {
    this.futures.register(future, future.key, future);
    this.keys.retain(future.key);
    // Dropped and taken up again before the release left: the key stays wanted.
    const pending = this.pendingReleases.indexOf(future.key);
    if (pending >= 0) this.pendingReleases.splice(pending, 1);
  }

  release(future: Future): void {
    this.futures.unregister(future);
    this.dropRef(future.key);
  }

  // internals ---------------------------------------------------------------------------

  /** Queues the graphs of the outputs (each node once) and returns a Future per output. */
  private sendDelayed(outputs: readonly Delayed[]): Future[] {
    this.assertOpen();
    const wanted = new Set(outputs.map((d) => d.key));
    for (const node of collectGraph(outputs)) {
      this.enqueue(buildTask(node.fn, argsWithKeyRefs(node), { ...node.options, key: node.key }, wanted.has(node.key)));
    }
    return outputs.map((d) => new Future(d.key, this));
  }

  /** No longer the default client. */
  private forget(): void {
    const at = Client.open.indexOf(this);
    if (at >= 0) Client.open.splice(at, 1);
  }

  private dropRef(key: string): void {
    if (!this.keys.release(key) || this.closed) return;
    this.failedScatters.delete(key);
    this.inline.delete(key);
    this.pendingReleases.push(key);
    this.scheduleFlush();
  }

  private enqueue(task: BuiltTask): void {
    this.keys.resubmitted(task.spec.key);
    this.inline.delete(task.spec.key);
    this.unconfirmed.set(task.spec.key, (this.unconfirmed.get(task.spec.key) ?? 0) + 1);
    this.failedScatters.delete(task.spec.key); // defined anew: checked again when sent
    this.pendingTasks.push(task);
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => void this.flush().catch(() => undefined));
  }

  /** Sends what submit/map/release queued in this turn: one graph, then releases. */
  private flush(): Promise<unknown> {
    this.flushScheduled = false;
    const tasks = this.pendingTasks;
    const gathers = this.pendingGathers;
    const releases = this.pendingReleases;
    this.pendingTasks = [];
    this.pendingGathers = new Map();
    this.pendingReleases = [];
    // Graphs, scatters and releases keep program order (a release must not overtake the graph
    // that made the key); gathers only follow finished keys, so they need not wait behind them.
    const sent = this.inOrder(async () => {
      for (const batch of batches(tasks)) await this.sendGraph(batch);
      if (releases.length) this.rpc.release(releases);
    });
    const confirmed = () => {
      for (const t of tasks) {
        const n = this.unconfirmed.get(t.spec.key)!;
        if (n > 1) this.unconfirmed.set(t.spec.key, n - 1);
        else this.unconfirmed.delete(t.spec.key);
      }
    };
    if (tasks.length) sent.then(confirmed, confirmed);
    const gathered = gathers.size ? this.sendGather(gathers) : Promise.resolve();
    return Promise.all([sent, gathered]);
  }

  /** Runs send once everything sent before it is done, failed or not. */
  private inOrder<T>(send: () => Promise<T>): Promise<T> {
    const sent = this.inflight.catch(() => undefined).then(send);
    this.inflight = sent;
    return sent;
  }

  /**
   * Sends one batch. A key submitted twice in a batch is one task (the first definition). When
   * the scheduler refuses the batch because of one key, only that key and what depends on it
   * in the batch fail; the rest is sent again.
   */
  private async sendGraph(batch: BuiltTask[]): Promise<void> {
    let tasks = this.withoutFailedScatters([...new Map(batch.map((t) => [t.spec.key, t])).values()]);
    for (let attempt = 0; tasks.length > 0 && attempt < 3; attempt++) {
      const functions = [...new Map(tasks.map((t) => [t.fn.id, t.fn])).values()];
      try {
        await this.rpc.submitGraph({
          clientId: this.id, functions, tasks: tasks.map((t) => t.spec), wanted: tasks.filter((t) => t.wanted).map((t) => t.spec.key),
        });
        return;
      } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        const culprit = err instanceof GraphValidationError && err.key ? err.key : undefined;
        const failed = culprit ? dependentsWithin(tasks, culprit) : new Set(tasks.map((t) => t.spec.key));
        for (const key of failed) this.keys.failed(key, error);
        tasks = tasks.filter((t) => !failed.has(t.spec.key));
      }
    }
  }

  /** The tasks that use no failed scatter (within the batch too); the others fail with its error. */
  private withoutFailedScatters(tasks: BuiltTask[]): BuiltTask[] {
    if (this.failedScatters.size === 0) return tasks;
    for (let grew = true; grew;) {
      grew = false;
      for (const t of tasks) {
        if (this.failedScatters.has(t.spec.key)) continue;
        const used = t.spec.dependencies.map((d) => this.failedScatters.get(d)).find((f) => f !== undefined);
        if (!used) continue;
        this.failedScatters.set(t.spec.key, used);
        this.keys.failed(t.spec.key, new ScatterFailedError(t.spec.key, used.scatterKey, used.error));
        grew = true;
      }
    }
    return tasks.filter((t) => !this.failedScatters.has(t.spec.key));
  }

  private gatherOne(key: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const waiting = this.pendingGathers.get(key) ?? [];
      waiting.push({ resolve, reject });
      this.pendingGathers.set(key, waiting);
      this.scheduleFlush();
    });
  }

  private async sendGather(waiting: Map<string, { resolve(v: unknown): void; reject(e: Error): void }[]>): Promise<void> {
    const settle = (key: string, fn: (w: { resolve(v: unknown): void; reject(e: Error): void }) => void) => {
      for (const w of waiting.get(key) ?? []) fn(w);
      waiting.delete(key);
    };
    try {
      for await (const whole of this.rpc.gather(this.id, [...waiting.keys()])) {
        if ('missing' in whole) settle(whole.key, (w) => w.reject(new ValueMissingError(whole.missing)));
        else {
          let value: unknown;
          try { value = decodeValue(whole.value); } catch (err) { settle(whole.key, (w) => w.reject(err as Error)); continue; }
          settle(whole.key, (w) => w.resolve(value));
        }
      }
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      for (const key of [...waiting.keys()]) settle(key, (w) => w.reject(error));
    }
    for (const key of [...waiting.keys()]) settle(key, (w) => w.reject(new ValueMissingError(`no data came back for ${key}`)));
  }

  private onEvents(events: KeyEvent[]): void {
    for (const e of events) {
      switch (e.state) {
        case 'finished':
          // Not for a key let go (an orphan), nor one sent again and not yet accepted: its
          // finish may be the last definition's (a Gather then asks the scheduler).
          if (e.value && this.keys.holds(e.key) && !this.unconfirmed.has(e.key)) this.inline.put(e.key, e.value);
          this.keys.finished(e.key);
          break;
        case 'erred': this.keys.erred(e.key, e.error); break;
        case 'cancelled': this.keys.cancelled(e.key); break;
        case 'lost': this.keys.lost(e.key, e.why); break;
      }
      if (e.state !== 'finished') this.inline.delete(e.key);
    }
  }

  private onSessionLost(err: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.forget();
    this.keys.failAll(new ConnectionLostError(`lost the scheduler at ${this.address}: ${err.message}`, { cause: err }));
    this.rpc.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new ConnectionLostError(`client for ${this.address} is closed`);
  }
}

/** The client Client.current() returns (see there). */
export function defaultClient(): Client {
  return Client.current();
}

function isDelayedList(x: Delayed | readonly Delayed[]): x is readonly Delayed[] {
  return Array.isArray(x);
}

/** scatter(data, { list: true })'s items: an array or another iterable, but not a string. */
function scatterItems(data: unknown): unknown[] {
  if (Array.isArray(data)) return data;
  const iterable = data !== null && typeof data === 'object' && typeof (data as Iterable<unknown>)[Symbol.iterator] === 'function';
  if (!iterable) {
    const what = typeof data === 'string' ? 'a string (scatter it whole without { list: true })' : data === null ? 'null' : typeof data;
    throw new KubedaskError(`scatter(data, { list: true }): data must be an array or another iterable of the values to scatter, got ${what}`);
  }
  return [...(data as Iterable<unknown>)];
}

/** The key and every task in the batch that depends on it, directly or not. */
function dependentsWithin(tasks: BuiltTask[], key: string): Set<string> {
  const out = new Set([key]);
  for (let grew = true; grew;) {
    grew = false;
    for (const t of tasks) {
      if (!out.has(t.spec.key) && t.spec.dependencies.some((d) => out.has(d))) {
        out.add(t.spec.key);
        grew = true;
      }
    }
  }
  return out;
}

function* batches(tasks: BuiltTask[]): Generator<BuiltTask[]> {
  let batch: BuiltTask[] = [];
  let bytes = 0;
  for (const t of tasks) {
    const size = specBytes(t.spec) + (t.fn.source?.length ?? 0);
    if (batch.length && bytes + size > MAX_SUBMIT_BYTES) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(t);
    bytes += size;
  }
  if (batch.length) yield batch;
}

/** The PEM files named by $KUBEDASK_TLS_CA/CERT/KEY (a DaskJob runner of a TLS cluster gets them). */
async function tlsFromEnvironment(): Promise<Tls | undefined> {
  const paths = Object.entries(TLS_ENV).map(([part, name]) => [part, process.env[name]] as const);
  const given = paths.filter(([, path]) => path);
  if (given.length === 0) return undefined;
  if (given.length < 3) throw new KubedaskError(`Client.connect: $${Object.values(TLS_ENV).join(', $')} go together; only ${given.map(([part]) => `$${TLS_ENV[part as keyof Tls]}`).join(', ')} set`);
  const read = async (part: keyof Tls, path: string) => readFile(path).catch((err: Error) => {
    throw new KubedaskError(`Client.connect: cannot read $${TLS_ENV[part]} (${path}): ${err.message}`, { cause: err });
  });
  const [ca, cert, key] = await Promise.all(paths.map(([part, path]) => read(part as keyof Tls, path!)));
  return checkTls({ ca: ca!, cert: cert!, key: key! });
}

function targetAddress(target: ClusterTarget | undefined): string {
  if (target !== undefined) return typeof target === 'string' ? target : target.address;
  const fromEnv = process.env[SCHEDULER_ADDRESS_ENV];
  if (!fromEnv) throw new KubedaskError(`Client.connect: no scheduler address given and $${SCHEDULER_ADDRESS_ENV} is not set`);
  return fromEnv;
}

function normalizeAddress(address: string): string {
  const bare = address.trim().replace(/^(grpc|tls):\/\//, '').replace(/\/$/, '');
  if (!bare) throw new KubedaskError('empty scheduler address');
  if (/^https?:\/\//i.test(bare)) throw new SchedulerUnreachableError(bare, 'not-grpc', `a web URL, such as the dashboard's, is not a scheduler address; ${SCHEDULER_PORT_HINT}`);
  if (/:\d+$/.test(bare) || bare.startsWith('unix:')) return bare;
  return `${bare}:${DEFAULT_SCHEDULER_PORT}`;
}
