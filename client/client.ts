// The user's handle on a cluster: submit work, get futures, gather results.
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, extname, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import type { kubedask } from '../protocol/generated/kubedask.js';
import { ChunkAssembler, toChunks } from '../protocol/chunks.js';
import { ConnectionLostError, KubedaskError } from '../protocol/errors.js';
import { SchedulerClient, channelOptions } from '../protocol/services.js';
import { decodeValue, encodeValue } from '../protocol/values.js';
import { Delayed, collectGraph } from './delayed.js';
import { Future, type FutureOwner } from './future.js';
import { buildTask, newKey, type BuiltTask, type TaskOptions } from './graph-builder.js';
import { KeyTracker, type KeyStatus } from './key-tracker.js';
import type { ModuleFunction, TaskFunction } from './task-functions.js';
import { SchedulerRpc } from './scheduler-rpc.js';

export interface ConnectOptions {
  /** How long to wait for the scheduler to answer, in ms. */
  timeoutMs?: number;
}

/** Anything with a scheduler address: an address string or a LocalCluster. */
export type ClusterTarget = string | { address: string };

const KeyState = { FINISHED: 1, ERRED: 2, CANCELLED: 3, LOST: 4 } as const;
const MAX_SUBMIT_BYTES = 32 * 1024 * 1024;

export class Client implements FutureOwner {
  readonly id = `client-${randomUUID()}`;
  private readonly keys = new KeyTracker();
  private readonly futures = new FinalizationRegistry<string>((key) => this.dropRef(key));
  private pendingTasks: BuiltTask[] = [];
  private pendingGathers = new Map<string, { resolve(v: unknown): void; reject(e: Error): void }[]>();
  private pendingReleases: string[] = [];
  private flushScheduled = false;
  private inflight: Promise<unknown> = Promise.resolve();
  private closed = false;

  private constructor(readonly address: string, private readonly rpc: SchedulerRpc) {}

  /** Connects to a scheduler at `host:port`, `grpc://host:port`, or a LocalCluster. */
  static async connect(target: ClusterTarget, options: ConnectOptions = {}): Promise<Client> {
    const address = normalizeAddress(typeof target === 'string' ? target : target.address);
    const rpc = new SchedulerRpc(new SchedulerClient(address, grpc.credentials.createInsecure(), channelOptions));
    const client = new Client(address, rpc);
    await rpc.openSession(client.id, options.timeoutMs ?? 10_000, (events) => client.onEvents(events), (err) => client.onSessionLost(err))
      .catch((err: Error) => {
        rpc.close();
        throw new ConnectionLostError(`could not reach the scheduler at ${address}: ${err.message}`, { cause: err });
      });
    return client;
  }

  /** Runs fn(...args) on the cluster. Futures among args arrive in fn as their values. */
  submit(fn: TaskFunction, ...args: unknown[]): Future {
    return this.submitWith({}, fn, ...args);
  }

  submitWith(options: TaskOptions, fn: TaskFunction, ...args: unknown[]): Future {
    this.assertOpen();
    const task = buildTask(fn, args, options);
    this.enqueue(task);
    return new Future(task.spec.key!, this);
  }

  /** Runs fn(item) for every item; one future per item, in order. */
  map(fn: TaskFunction, items: Iterable<unknown>, options: Omit<TaskOptions, 'key'> = {}): Future[] {
    this.assertOpen();
    const out: Future[] = [];
    for (const item of items) {
      const task = buildTask(fn, [item], options);
      this.enqueue(task);
      out.push(new Future(task.spec.key!, this));
    }
    return out;
  }

  /** Values of futures, keeping the shape: a Future, an array of Futures, or an object of them. */
  async gather<T = unknown>(futures: Future | Future[] | Record<string, Future>): Promise<T> {
    if (futures instanceof Future) return (await this.resultOf(futures.key)) as T;
    if (Array.isArray(futures)) return (await Promise.all(futures.map((f) => this.resultOf(f.key)))) as T;
    const entries = Object.entries(futures);
    const values = await Promise.all(entries.map(([, f]) => this.resultOf(f.key)));
    return Object.fromEntries(entries.map(([k], i) => [k, values[i]])) as T;
  }

  /** Places local data on workers; returns futures for it. */
  async scatter(data: unknown): Promise<Future>;
  async scatter(data: unknown[], options: { list: true }): Promise<Future[]>;
  async scatter(data: unknown, options?: { list: true }): Promise<Future | Future[]> {
    this.assertOpen();
    const items = options?.list ? (data as unknown[]) : [data];
    const keys = items.map(() => newKey('scatter'));
    const chunks = items.flatMap((item, i) => [...toChunks(keys[i]!, encodeValue(item))]);
    await this.rpc.scatter(this.id, chunks);
    const futures = keys.map((key) => new Future(key, this));
    return options?.list ? futures : futures[0]!;
  }

  /** Lazily built graphs (see delayed()) sent to the cluster; one Future per Delayed. */
  compute(x: Delayed): Future;
  compute(x: Delayed[]): Future[];
  compute(x: Delayed | Delayed[]): Future | Future[] {
    const list = Array.isArray(x) ? x : [x];
    for (const node of collectGraph(list)) {
      this.enqueue(buildTask(node.fn, node.args.map((a) => (a instanceof Delayed ? this.futureFor(a) : a)), { ...node.options, key: node.key }));
    }
    const futures = list.map((d) => new Future(d.key, this));
    return Array.isArray(x) ? futures : futures[0]!;
  }

  /** Like compute: the results stay in cluster memory while the returned Futures live. */
  persist(x: Delayed): Future;
  persist(x: Delayed[]): Future[];
  persist(x: Delayed | Delayed[]): Future | Future[] {
    return Array.isArray(x) ? this.compute(x) : this.compute(x);
  }

  /** Cancels futures and everything waiting on them. */
  async cancel(futures: Future | Future[]): Promise<void> {
    const keys = (Array.isArray(futures) ? futures : [futures]).map((f) => f.key);
    await this.flush();
    await this.rpc.cancel(this.id, keys);
  }

  /**
   * Makes an ES module's exports available as task functions on every worker. The module
   * must be one file; packages it imports must be installed where the workers run.
   */
  async upload(path: string): Promise<Record<string, ModuleFunction>> {
    this.assertOpen();
    const file = resolvePath(path);
    const source = await readFile(file, 'utf8');
    const name = basename(file, extname(file)).replace(/[^A-Za-z0-9_.-]/g, '_');
    const local = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    await this.rpc.uploadModule(name, source);
    const out: Record<string, ModuleFunction> = {};
    for (const [exportName, value] of Object.entries(local)) {
      if (typeof value === 'function') out[exportName] = { kind: 'kubedask-module-function', module: name, export: exportName };
    }
    return out;
  }

  /** Yields futures as they complete (finished, erred or cancelled), in completion order. */
  async *asCompleted(futures: Future[]): AsyncGenerator<Future> {
    const queue: Future[] = [];
    let wake: (() => void) | undefined;
    for (const f of futures) {
      f.wait().catch(() => undefined).finally(() => { queue.push(f); wake?.(); });
    }
    for (let yielded = 0; yielded < futures.length; yielded++) {
      while (queue.length === 0) await new Promise<void>((r) => (wake = r));
      yield queue.shift()!;
    }
  }

  /** Cluster membership and addresses. */
  async clusterInfo(): Promise<kubedask.v1.ClusterInfoReply> {
    return this.rpc.clusterInfo();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush().catch(() => undefined);
    this.closed = true;
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
      try {
        return await this.gatherOne(key);
      } catch (err) {
        // The value vanished (its worker died) after it finished: it is being recomputed.
        if (!(err instanceof MissingValue) || attempt >= 5) throw err;
        this.keys.pending(key);
      }
    }
  }

  retain(future: Future): void {
    this.futures.register(future, future.key, future);
    this.keys.retain(future.key);
  }

  release(future: Future): void {
    this.futures.unregister(future);
    this.dropRef(future.key);
  }

  // internals ---------------------------------------------------------------------------

  private futureFor(d: Delayed): Future {
    return new Future(d.key, this);
  }

  private dropRef(key: string): void {
    if (!this.keys.release(key) || this.closed) return;
    this.pendingReleases.push(key);
    this.scheduleFlush();
  }

  private enqueue(task: BuiltTask): void {
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
    const previous = this.inflight;
    this.inflight = (async () => {
      await previous.catch(() => undefined);
      for (const batch of batches(tasks)) await this.sendGraph(batch);
      if (gathers.size) await this.sendGather(gathers);
      if (releases.length) this.rpc.release(releases);
    })();
    return this.inflight;
  }

  private async sendGraph(tasks: BuiltTask[]): Promise<void> {
    const functions = [...new Map(tasks.map((t) => [t.fn.id!, t.fn])).values()];
    try {
      await this.rpc.submitGraph({ clientId: this.id, functions, tasks: tasks.map((t) => t.spec), wanted: tasks.map((t) => t.spec.key!) });
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      for (const t of tasks) this.keys.failed(t.spec.key!, error);
    }
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
    const assembler = new ChunkAssembler();
    const settle = (key: string, fn: (w: { resolve(v: unknown): void; reject(e: Error): void }) => void) => {
      for (const w of waiting.get(key) ?? []) fn(w);
      waiting.delete(key);
    };
    try {
      for await (const chunk of this.rpc.gather(this.id, [...waiting.keys()])) {
        const whole = assembler.push(chunk);
        if (!whole) continue;
        if ('missing' in whole) settle(whole.key, (w) => w.reject(new MissingValue(whole.missing)));
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
    for (const key of [...waiting.keys()]) settle(key, (w) => w.reject(new MissingValue(`no data came back for ${key}`)));
  }

  private onEvents(events: kubedask.v1.KeyEvent.$Properties[]): void {
    for (const e of events) {
      switch (e.state) {
        case KeyState.FINISHED: this.keys.finished(e.key!); break;
        case KeyState.ERRED: this.keys.erred(e.key!, {
          name: e.error?.name || 'Error', message: e.error?.message ?? '', stack: e.error?.stack ?? '', worker: e.error?.worker ?? '',
        }); break;
        case KeyState.CANCELLED: this.keys.cancelled(e.key!); break;
        case KeyState.LOST: this.keys.lost(e.key!, e.error?.message || 'released by the scheduler'); break;
      }
    }
  }

  private onSessionLost(err: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.keys.failAll(new ConnectionLostError(`lost the scheduler at ${this.address}: ${err.message}`, { cause: err }));
    this.rpc.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new ConnectionLostError(`client for ${this.address} is closed`);
  }
}

class MissingValue extends KubedaskError {
  override name = 'MissingValue';
}

function* batches(tasks: BuiltTask[]): Generator<BuiltTask[]> {
  let batch: BuiltTask[] = [];
  let bytes = 0;
  for (const t of tasks) {
    const size = 256 + (t.spec.args ?? []).reduce((n, a) => n + (a.value?.data?.byteLength ?? 0), 0) + (t.fn.source?.length ?? 0);
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

export function normalizeAddress(address: string): string {
  const bare = address.trim().replace(/^grpc:\/\//, '').replace(/\/$/, '');
  if (!bare) throw new KubedaskError('empty scheduler address');
  if (/:\d+$/.test(bare) || bare.startsWith('unix:')) return bare;
  return `${bare}:8786`;
}
