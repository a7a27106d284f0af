// A kubedask worker: serves WorkerData to peers, talks to the scheduler over WorkerStream, and
// runs tasks on a pool of threads. WorkerState decides; this file only moves bytes: scheduler
// commands and I/O outcomes become state events, state instructions become I/O.
//
// Choices:
// - cancel: a task not started is dropped; a running one is interrupted (its thread is
//   terminated and replaced, see TaskPool.cancel), so even `for (;;) {}` gives its slot back.
//   Nothing is reported (the scheduler has moved on; a Rejected would only make it reschedule
//   again).
// - steal: a task not started is dropped as on cancel but answered with Rejected "stolen", so
//   the scheduler reschedules it on an idle worker; a started one is left to finish.
// - task pool broken (threads die as they start): the worker closes with PoolBrokenError, so
//   the scheduler reschedules its tasks elsewhere instead of seeing every one of them fail.
// - start-up: the worker registers first; its task threads start when the scheduler has
//   answered the registration and load in the background (a task sent meanwhile waits in the
//   pool for a ready thread), so registration does not wait on them.
// - uploaded module files are removed when the worker closes.
// - scheduler lost: the stream breaking means the scheduler has written this worker off and
//   rescheduled its work, so the worker drops its data and state and registers afresh, retrying
//   with backoff for `reconnectTimeoutMs` (30 s), then closes with SchedulerLostError (or
//   SchedulerUnreachableError when it never reached the scheduler).
import { hostname, networkInterfaces, totalmem } from 'node:os';
import type { MessagePort } from 'node:worker_threads';
import { kubedask } from '../../protocol/generated/kubedask.js';
import { WorkerState } from '../state/worker-state.js';
import type { ComputeRequest, InstructionOf, InstructionType, ToScheduler, Transfer, WorkerEvent as StateEvent } from '../state/types.js';
import { DataStore } from './data-store.js';
import { DependencyLostError, InputsMissingError, UnknownFunctionError, UnknownKernelError, WorkerError, WorkerOptionsError } from './errors.js';
import { resolveKernel, resolvePartCutter, resolvePoolKernel, type Collective, type PoolKernel } from './builtins.js';
import { decodeValue, encodeValue, type EncodedValue } from '../../protocol/value-codec.js';
import { Mailbox } from './mailbox.js';
import { isNativeValue, type NativeValue, type StoredValue } from './data-store.js';
import { ModuleStore } from './module-store.js';
import { PeerClients } from '../../protocol/data-client.js';
import { SchedulerUnreachableError } from '../../protocol/errors.js';
import { routeGrpcLogs } from '../../protocol/grpc-log.js';
import { createLogger, type Logger, type LogLevel } from '../../protocol/log.js';
import { channelCredentials, serverCredentials, type Tls } from '../../protocol/tls.js';
import { joinHostPort, startPeerServer, type PeerServer, type ValuePart } from './peer-server.js';
import { readParts } from './parts.js';
import { PART_ENCODING } from '../../protocol/parted.js';
import { isValidLogLines, LogBuffer, MAX_LOG_LINES, lineOfRecord } from './log-buffer.js';
import { keepTaskOutput } from './task-output-log.js';
import { startMetricsListener, type MetricsListener } from '../../protocol/metrics-http.js';
import type { WorkerMetricsSink } from './metrics.js';
import type { TaskFunction, ThreadDep, WireArg } from './pool-protocol.js';
import { SchedulerLink } from './scheduler-link.js';
import { TaskPool, type TaskOutcome } from './task-pool.js';
import { memoryPressure } from './memory-pressure.js';

type Spec = kubedask.v1.TaskSpec.$Properties;
type Command = kubedask.v1.SchedulerCommand.$Properties;
type CommandKind = NonNullable<Command['kind']>;
type WireEvent = kubedask.v1.WorkerEvent.$Properties;

export interface WorkerOptions {
  /** host:port of the scheduler's gRPC endpoint. */
  scheduler: string;
  /** Mutual TLS for the scheduler stream, the data port and fetches from peers. */
  tls?: Tls;
  /** Unique in the cluster; defaults to the worker's address. */
  name?: string;
  nthreads: number;
  /** Bytes, 0 = none. Values spill to disk past SPILL_FRACTION of it. */
  memoryLimit: number;
  resources: Record<string, number>;
  group?: string;
  /** Address to bind, and to advertise unless advertiseHost is given (default 127.0.0.1). */
  host?: string;
  /** Host that peers and the scheduler reach this worker at. Default: `host`, or for a wildcard
   * `host` (0.0.0.0, ::) the first non-internal IPv4 address of this machine (hostname() if it
   * has none): pod hostnames do not resolve from other pods, pod IPs are reachable. */
  advertiseHost?: string;
  /** Heap limit of each task thread in MiB (default: see threadHeapMb). */
  threadHeapMb?: number;
  /** WorkerData port; 0 = ephemeral. */
  port?: number;
  heartbeatMs?: number;
  reconnectTimeoutMs?: number;
  /** Where uploaded modules are written (default <package>/.kubedask/modules). */
  modulesDir?: string;
  /** Parent of the spill directory (default os.tmpdir()). */
  spillRoot?: string;
  /** Default 'info'. */
  logLevel?: LogLevel;
  /** Recent log lines kept for getWorkerLogs: the worker's own and its tasks' console output
   *  (default 10 000, as Dask; 0 keeps none; at most MAX_LOG_LINES). Bytes are bounded too (see log-buffer.ts). */
  logLines?: number;
  /** Serve Prometheus metrics on this port (on `host`) at /metrics; 0 picks a free one;
   *  undefined or -1: none, and prom-client is never loaded. */
  metricsPort?: number;
}

export interface WorkerExit {
  reason: string;
  error?: Error;
}

export interface RunningWorker {
  name: string;
  /** host:port of its WorkerData service. */
  address: string;
  /** http://host:port/metrics when the worker serves metrics, else ''. */
  metricsUrl: string;
  close(reason?: string): Promise<void>;
  closed: Promise<WorkerExit>;
}

/** Like Dask's memory target: managed memory past this share of the limit goes to disk. */
const SPILL_FRACTION = 0.6;
/** Tasks whose group has been running under PIPELINE.belowMs go out up to PIPELINE.depth per
 * thread: one postMessage and one thread wake-up then serve many tiny tasks. */
const PIPELINE = { depth: 16, belowMs: 1 };

export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  validate(options);
  const worker = new WorkerProcess(options);
  try {
    await worker.start();
  } catch (err) {
    await worker.close('start failed', err as Error); // its task threads would keep the process alive
    throw err;
  }
  return { name: worker.name, address: worker.address, metricsUrl: worker.metricsUrl, close: (reason) => worker.close(reason), closed: worker.closed };
}

function validate(o: WorkerOptions): void {
  if (!/^[^:]+:\d+$|^\[.+\]:\d+$/.test(o.scheduler)) throw new WorkerOptionsError(`scheduler address must be host:port, got "${o.scheduler}"`, 'scheduler');
  if (!Number.isInteger(o.nthreads) || o.nthreads < 1) throw new WorkerOptionsError(`nthreads must be a positive integer, got ${o.nthreads}`, 'nthreads');
  if (!(o.memoryLimit >= 0)) throw new WorkerOptionsError(`memoryLimit must be >= 0 bytes, got ${o.memoryLimit}`, 'memoryLimit');
  if (o.metricsPort !== undefined && !(Number.isInteger(o.metricsPort) && o.metricsPort >= -1 && o.metricsPort <= 65535)) {
    throw new WorkerOptionsError(`metricsPort must be a port from 0 to 65535, or -1 for none, got ${o.metricsPort}`, 'metricsPort');
  }
  if (o.logLines !== undefined && !isValidLogLines(o.logLines)) {
    throw new WorkerOptionsError(`logLines must be an integer from 0 to ${MAX_LOG_LINES}, got ${o.logLines}`, 'logLines');
  }
  for (const [name, amount] of Object.entries(o.resources)) {
    if (!(amount >= 0)) throw new WorkerOptionsError(`resource ${name} must be >= 0, got ${amount}`, 'resources');
  }
}

class WorkerProcess {
  name = '';
  address = '';
  metricsUrl = '';
  readonly closed: Promise<WorkerExit>;
  private resolveClosed!: (exit: WorkerExit) => void;
  private readonly store: DataStore;
  private readonly modules: ModuleStore;
  private readonly pool: TaskPool;
  private readonly peers: PeerClients;
  private readonly functions = new Map<string, TaskFunction>();
  /** Key -> id of its current run; an outcome of any other run (interrupted) is dropped. */
  private readonly runs = new Map<string, number>();
  private runSeq = 0;
  /** Dependencies fetched from peers and not yet reported with the task that used them. */
  private readonly transfers = new Map<string, Transfer>();
  /** Barrier tasks sent and not yet run: their dependencies' holders (what they run with). */
  private readonly barrierInputs = new Map<string, Record<string, string[]>>();
  /** Built-in kernels running on this thread, to abort when interrupted (a collective's waits). */
  private readonly aborts = new Map<string, AbortController>();
  /** Parts of collectives from peers' tasks (ml/gbdt-grow). */
  private readonly mailbox = new Mailbox();
  private poolSeq = 0;
  /** Keys a client waits on (ComputeTask.report_value): a small value goes back with the finish. */
  private readonly reportValues = new Set<string>();
  /** The value to send with the finish being reported now (see execute). */
  private finishedValue: { key: string; value: EncodedValue } | undefined;
  private state: WorkerState<Spec>;
  /** Bumped on every reset: outcomes of older I/O are dropped. */
  private generation = 0;
  private server: PeerServer | undefined;
  private metricsServer: MetricsListener | undefined;
  /** Present while the worker serves metrics. */
  private metrics: WorkerMetricsSink | undefined;
  private link: SchedulerLink | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private closing: Promise<void> | undefined;
  private exit: WorkerExit | undefined;
  private seq = 0;
  private log: Logger;
  /** Logs task output; keeps none of it in recentLogs itself (keepTaskOutput does, whatever the level). */
  private taskLog: Logger;
  private readonly recentLogs: LogBuffer;

  constructor(private readonly options: WorkerOptions) {
    this.recentLogs = new LogBuffer(options.logLines);
    const level = options.logLevel ?? 'info';
    this.log = createLogger({ component: 'worker', level, onLine: (line) => this.recentLogs.push(lineOfRecord(line)) });
    this.taskLog = createLogger({ component: 'worker', level });
    routeGrpcLogs(this.log);
    this.peers = new PeerClients({ credentials: channelCredentials(options.tls) });
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    this.store = new DataStore({
      memoryLimit: options.memoryLimit * SPILL_FRACTION, spillRoot: options.spillRoot, onSpill: (bytes) => this.metrics?.spill(bytes), onPressure: memoryPressure,
    });
    this.modules = new ModuleStore(options.modulesDir);
    this.pool = new TaskPool({
      nthreads: options.nthreads, modules: this.modules, maxPerThread: PIPELINE.depth,
      resourceLimits: { maxOldGenerationSizeMb: options.threadHeapMb ?? threadHeapMb(options.memoryLimit, options.nthreads) },
      onBroken: (err) => void this.close('task pool broken', err),
      onOutput: (thread, lines, dropped) => keepTaskOutput(this.recentLogs, this.taskLog, thread, lines, dropped),
    });
    this.state = this.newState();
  }

  async start(): Promise<void> {
    const host = this.bindHost;
    const port = this.options.port ?? 0;
    const metricsPort = this.options.metricsPort ?? -1;
    // prom-client loads alongside the data port's start, only when metrics are served.
    const prometheus = metricsPort >= 0 ? import('./prometheus.js') : undefined;
    this.server = await startPeerServer({
      store: this.store, host, port, credentials: serverCredentials(this.options.tls),
      onPut: (values) => this.handle({ type: 'data-put', keys: values, stimulusId: this.stimulus('put') }),
      logs: (n) => this.recentLogs.recent(n),
      part: (key, part) => this.cutPart(key, part),
      exchange: (part) => this.mailbox.deliver(part),
    }).catch((err: Error) => {
      throw new WorkerError(`cannot serve worker data on ${joinHostPort(host, port)}: ${err.message}`, { cause: err });
    });
    if (this.exit) {
      // Closed meanwhile (the task pool broke): close() found no server to stop.
      await this.server.close();
      throw this.exit.error ?? new WorkerError(`worker closed while starting: ${this.exit.reason}`);
    }
    const wildcard = host === '0.0.0.0' || host === '::' || host === '[::]';
    this.address = joinHostPort(this.options.advertiseHost || (wildcard ? externalIPv4() ?? hostname() : host), this.server.port);
    this.name = this.options.name || this.address;
    this.log = this.log.child({ worker: this.name });
    this.taskLog = this.taskLog.child({ worker: this.name });
    if (prometheus) await this.serveMetrics(await prometheus, host, metricsPort);
    this.link = new SchedulerLink({
      credentials: channelCredentials(this.options.tls),
      tls: this.options.tls !== undefined,
      address: this.options.scheduler,
      reconnectTimeoutMs: this.options.reconnectTimeoutMs ?? 30_000,
      register: () => ({
        name: this.name, address: this.address, nthreads: this.options.nthreads, memoryLimit: this.options.memoryLimit,
        resources: this.options.resources, group: this.options.group ?? '', pid: process.pid,
      }),
      onCommands: (commands) => this.onCommands(commands),
      onDisconnected: () => this.reset(),
      onGiveUp: (err) => void this.close(err instanceof SchedulerUnreachableError ? 'scheduler unreachable' : 'scheduler lost', err),
    });
    this.link.start();
    this.heartbeat = setInterval(() => this.sendHeartbeat(), this.options.heartbeatMs ?? 1_000);
  }

  private async serveMetrics(prometheus: typeof import('./prometheus.js'), host: string, port: number): Promise<void> {
    const metrics = prometheus.workerPrometheus({
      name: this.name, group: this.options.group ?? '', nthreads: this.options.nthreads, memoryLimit: this.options.memoryLimit,
      memoryUsed: () => this.store.memoryUsed, spilledBytes: () => this.store.spilledBytes, tasks: () => this.state.counts(),
    });
    this.metricsServer = await startMetricsListener(metrics.scrape, host, port).catch((err: Error) => {
      throw new WorkerError(`cannot serve metrics on ${joinHostPort(host, port)}: ${err.message}`, { cause: err });
    });
    this.metrics = metrics.sink;
    this.metricsUrl = `http://${joinHostPort(this.address.slice(0, this.address.lastIndexOf(':')), this.metricsServer.port)}/metrics`;
  }

  close(reason = 'closed', error?: Error): Promise<void> {
    this.exit ??= error ? { reason, error } : { reason };
    this.closing ??= (async () => {
      clearInterval(this.heartbeat);
      this.handle({ type: 'close', reason, stimulusId: this.stimulus('close') });
      for (const a of this.aborts.values()) a.abort(new WorkerError(`worker ${reason}`));
      await this.link?.close();
      this.generation++; // outcomes still arriving are dropped
      await Promise.allSettled([this.pool.close(), this.server?.close(), this.metricsServer?.close(), this.store.close()]);
      await this.modules.close(); // after the pool: no thread imports them any more
      this.peers.close();
      this.resolveClosed(this.exit!);
    })();
    return this.closing;
  }

  private newState(): WorkerState<Spec> {
    return new WorkerState<Spec>({ nthreads: this.options.nthreads, resources: this.options.resources, pipeline: PIPELINE });
  }

  /** The scheduler wrote this worker off: start clean for the next registration. */
  private reset(): void {
    this.generation++;
    this.state = this.newState();
    this.store.clear();
    this.functions.clear();
    this.runs.clear();
    this.transfers.clear();
    this.reportValues.clear();
  }

  private stimulus(what: string): string {
    return `${what}-${++this.seq}`;
  }

  private sendHeartbeat(): void {
    if (!this.link?.connected) return;
    const c = this.state.counts();
    this.link.send({ heartbeat: {
      memoryUsed: this.store.memoryUsed, spilledBytes: this.store.spilledBytes, rss: process.memoryUsage.rss(),
      executing: c.executing, ready: c.ready, inMemory: c.inMemory,
    } });
  }

  private onCommands(commands: Command[]): void {
    for (const cmd of commands) {
      const kind = cmd.kind;
      const body = kind ? cmd[kind] : undefined;
      if (kind && body) (this.commandHandlers[kind] as (b: typeof body) => void)(body);
    }
  }

  private readonly commandHandlers: { [K in CommandKind]: (body: NonNullable<Command[K]>) => void } = {
    registered: () => this.pool.start(),
    compute: (compute) => {
      for (const f of compute.functions ?? []) {
        this.functions.set(f.id ?? '', { id: f.id ?? '', name: f.name ?? '', source: f.source ?? '', module: f.module ?? '', export: f.export ?? '', builtin: f.builtin ?? '', adapter: f.adapter ?? '' });
      }
      const spec = compute.task;
      if (!spec?.key) return;
      const whoHas: Record<string, string[]> = {};
      for (const w of compute.whoHas ?? []) whoHas[w.key ?? ''] = w.addresses ?? [];
      // A barrier reads no data: its dependencies' holders are its input (see runBuiltin).
      if (spec.barrier) this.barrierInputs.set(spec.key, whoHas);
      if (compute.reportValue) this.reportValues.add(spec.key);
      else this.reportValues.delete(spec.key);
      const task: ComputeRequest<Spec> = {
        key: spec.key, dependencies: spec.barrier ? [] : spec.dependencies ?? [], whoHas: spec.barrier ? {} : whoHas, priority: spec.priority ?? 0,
        resources: spec.resources ?? {}, group: this.groupOf(spec), spec,
      };
      this.handle({ type: 'compute-task', task, stimulusId: this.stimulus('compute') });
    },
    free: (free) => {
      for (const key of free.keys ?? []) {
        this.barrierInputs.delete(key);
        this.reportValues.delete(key);
      }
      this.handle({ type: 'free-keys', keys: free.keys ?? [], stimulusId: this.stimulus('free') });
    },
    cancel: (cancel) => {
      this.barrierInputs.delete(cancel.key ?? '');
      this.reportValues.delete(cancel.key ?? '');
      this.handle({ type: 'cancel-task', key: cancel.key ?? '', stimulusId: this.stimulus('cancel') });
    },
    steal: (steal) => {
      this.barrierInputs.delete(steal.key ?? ''); // given up if not started; if started, already read
      this.reportValues.delete(steal.key ?? '');
      this.handle({ type: 'steal-task', key: steal.key ?? '', stimulusId: this.stimulus('steal') });
    },
    module: (module) => {
      try {
        this.modules.install(module.name ?? '', module.source ?? '');
      } catch (err) {
        // Its tasks will fail with ModuleNotInstalledError and say so to the client.
        this.log.error('module not installed', { module: module.name, error: err });
      }
    },
    close: (close) => void this.close(close.reason || 'closed by the scheduler'),
    replicate: (replicate) => {
      const whoHas: Record<string, string[]> = {};
      for (const w of replicate.whoHas ?? []) whoHas[w.key ?? ''] = w.addresses ?? [];
      this.handle({ type: 'acquire-replicas', whoHas, stimulusId: this.stimulus('replicate') });
    },
  };

  /** The task's group: as the client named it, else its function's name. */
  private groupOf(spec: Spec): string {
    return spec.group || this.functions.get(spec.functionId ?? '')?.name || (spec.functionId ?? '');
  }

  private handle(event: StateEvent<Spec>): void {
    for (const ins of this.state.handle(event)) {
      (this.instructionHandlers[ins.type] as (i: typeof ins) => void)(ins);
    }
  }

  private readonly instructionHandlers: { [T in InstructionType]: (ins: InstructionOf<T, Spec>) => void } = {
    fetch: (ins) => {
      const gen = this.generation;
      const startMs = Date.now();
      const started = performance.now();
      this.peers.fetch(ins.from, ins.keys).then((res) => {
        if (gen !== this.generation) return;
        const durationMs = Date.now() - startMs;
        const bytes = res.values.reduce((n, { value }) => n + value.data.byteLength, 0);
        // One fetch brought them all: each key gets its share of the time (by bytes, the
        // stream's order), so the entries add up to the fetch rather than repeating it.
        let at = startMs;
        for (const { key, value } of res.values) {
          this.store.put(key, value);
          const share = bytes > 0 ? value.data.byteLength / bytes : 1 / res.values.length;
          this.transfers.set(key, { key, startMs: at, durationMs: durationMs * share, nbytes: value.data.byteLength });
          at += durationMs * share;
        }
        this.metrics?.transfer(bytes, (performance.now() - started) / 1000);
        this.handle({
          type: 'fetch-done', from: ins.from, stimulusId: this.stimulus('fetched'),
          keys: res.values.map(({ key, value }) => ({ key, nbytes: value.data.byteLength, encoding: value.encoding })),
          missing: res.missing.map((m) => m.key),
        });
      }, (err: Error) => {
        if (gen !== this.generation) return;
        this.handle({ type: 'fetch-failed', from: ins.from, keys: ins.keys, reason: err.message, stimulusId: this.stimulus('fetch-failed') });
      });
    },
    execute: (ins) => void this.execute(ins.key, ins.spec),
    interrupt: (ins) => {
      this.runs.delete(ins.key);
      this.barrierInputs.delete(ins.key);
      this.aborts.get(ins.key)?.abort(new WorkerError(`${ins.key}: interrupted`));
      this.pool.cancel(ins.key);
    },
    'send-to-scheduler': (ins) => {
      const event = wireEvent[ins.message.type](ins.message as never, this.address);
      const value = this.finishedValue;
      if (event.finished && value && value.key === event.finished.key) event.finished.value = value.value;
      // Answered (finished, erred, missing or rejected): a later compute of the key says again.
      if ('key' in ins.message) this.reportValues.delete(ins.message.key);
      this.link?.send(event);
    },
    'release-data': (ins) => {
      for (const key of ins.keys) {
        this.store.delete(key);
        this.transfers.delete(key);
      }
    },
  };

  private async execute(key: string, spec: Spec): Promise<void> {
    const gen = this.generation;
    const run = ++this.runSeq;
    this.runs.set(key, run);
    const current = (): boolean => gen === this.generation && this.runs.get(key) === run && !this.closing;
    // Read now, before any await: a later compute of the same key brings its own.
    const holders = spec.barrier ? this.barrierInputs.get(key) ?? {} : undefined;
    this.barrierInputs.delete(key);
    let outcome: BuiltinOutcome;
    const fn = this.functions.get(spec.functionId ?? '');
    if (!fn) {
      outcome = failure(new UnknownFunctionError(key, spec.functionId ?? ''));
    } else if (fn.builtin) {
      const pooled = await resolvePoolKernel(fn.builtin).catch(() => undefined); // a failed load fails in runBuiltin, named
      const ran = pooled ? await this.runPooled(key, fn.builtin, pooled, spec, current) : await this.runBuiltin(key, fn.builtin, spec, current, holders);
      if (!ran) return;
      outcome = ran;
    } else {
      const deps: Array<[string, number, Uint8Array]> = [];
      let lost: string | undefined;
      for (const dep of spec.dependencies ?? []) {
        const value = this.store.peek(dep) ?? await this.store.get(dep).catch(() => undefined);
        if (!value) lost ??= dep;
        else deps.push([dep, value.encoding, value.data]);
      }
      const args: WireArg[] = (spec.args ?? []).map((a) => a.key
        ? { key: a.key }
        : { encoding: a.value?.encoding ?? kubedask.v1.Encoding.ENCODING_JSON, data: exact(a.value?.data) });
      if (!current()) return; // interrupted while its dependencies were read back
      outcome = lost !== undefined
        ? failure(new DependencyLostError(key, lost))
        : await this.pool.run({ key, fn, args, deps });
    }
    if (!current()) return;
    this.runs.delete(key);
    if ('missing' in outcome) {
      this.handle({ type: 'execute-missing', key, missing: outcome.missing, durationMs: outcome.durationMs, stimulusId: this.stimulus('missing') });
      return;
    }
    this.metrics?.task(this.groupOf(spec), outcome.ok, outcome.durationMs / 1000);
    if (outcome.ok) {
      this.store.put(key, outcome.value);
      const nbytes = isNativeValue(outcome.value) ? outcome.value.nbytes : outcome.value.data.byteLength;
      const value = this.reportValues.has(key) ? inlineValue(outcome.value) : undefined;
      this.finishedValue = value && { key, value };
      try {
        this.handle({
          type: 'execute-done', key, nbytes, encoding: outcome.value.encoding, startMs: outcome.startMs,
          durationMs: outcome.durationMs, thread: outcome.thread,
          transfers: [...this.takeTransfers(spec.dependencies ?? []), ...('transfers' in outcome ? outcome.transfers ?? [] : [])],
          stimulusId: this.stimulus('done'),
        });
      } finally {
        this.finishedValue = undefined;
      }
    } else {
      this.handle({
        type: 'execute-failed', key, error: outcome.error, startMs: outcome.startMs, durationMs: outcome.durationMs,
        thread: outcome.thread, stimulusId: this.stimulus('failed'),
      });
    }
  }

  /** Part of a value held here, for a peer, cut by the built-in kernel the peer names (a take's bucket of a split). */
  private async cutPart(key: string, part: ValuePart): Promise<EncodedValue | undefined> {
    const bytes = await this.store.readPart(key, part.index); // kept as parted bytes: that range only
    if (bytes) return { encoding: PART_ENCODING, data: bytes };
    const value = await this.store.getStored(key);
    if (!value) return undefined;
    const cutter = await resolvePartCutter(part.cutter);
    if (!cutter) throw new UnknownKernelError(key, part.cutter);
    const out = await cutter({ index: part.index, count: part.count }, [value], {
      key, nthreads: this.options.nthreads, memoryLimit: this.options.memoryLimit, readParts: () => Promise.reject(new WorkerError(`${part.cutter} reads no other values`)),
    });
    return isNativeValue(out) ? { encoding: out.encoding, data: out.encode() } : out;
  }

  /** Where the worker listens (its data port; its task threads' links). */
  private get bindHost(): string {
    return this.options.host ?? '127.0.0.1';
  }

  /** What a built-in kernel run for `key` may do as part of a collective (KernelContext.collective). */
  private collectiveFor(key: string, signal: AbortSignal): Collective {
    return {
      address: this.address,
      send: (address, part) => (address === this.address
        ? Promise.resolve(this.mailbox.deliver(part))
        : this.peers.exchange(address, part, COLLECTIVE_SEND_TIMEOUT_MS)),
      take: (group, step, ranks, timeoutMs, stop) => this.mailbox.take(group, step, ranks, timeoutMs, stop ? AbortSignal.any([signal, stop]) : signal),
      ended: (group) => this.mailbox.ended(group),
      close: (group) => {
        this.mailbox.close(group);
        // Blocks come back to back, but the last may be the last for a while: an open stream would hold the channel (and the process) until it idles out.
        this.peers.endIdleExchanges();
      },
      runPool: (name, params, inputs, options) => this.runPoolKernel(key, signal, name, params, inputs, options),
      idleThreads: () => this.pool.idleThreads(),
      links: { host: this.bindHost, ...(this.options.tls ? { tls: this.options.tls } : {}) },
    };
  }

  /** Runs pool kernel `name` in a task thread for a built-in kernel's run. */
  private async runPoolKernel(key: string, signal: AbortSignal, name: string, params: unknown, inputs: StoredValue[], options: { port?: MessagePort; whole?: boolean } = {}): Promise<EncodedValue> {
    signal.throwIfAborted();
    const kernel = await resolvePoolKernel(name);
    if (!kernel) throw new UnknownKernelError(key, name);
    const poolKey = `${key}#${++this.poolSeq}`;
    const deps = inputs.map((value, i) => threadDep(`${poolKey}/${i}`, kernel, value));
    const args: WireArg[] = [encodeValue(params), ...deps.map(([k]) => ({ key: k }))];
    const fn = poolFunction(name, kernel);
    // Not cancelled with the task: a kernel may update its inputs in place (a boosting round),
    // and one cut short would leave them torn; the caller stops at its next await instead.
    const outcome = await this.pool.run({ key: poolKey, fn, args, deps, ...options });
    if (!outcome.ok) throw Object.assign(new Error(outcome.error.message), { name: outcome.error.name, stack: outcome.error.stack });
    return outcome.value;
  }

  /** The fetches made for these dependencies, reported once (with the first task to use them). */
  private takeTransfers(dependencies: string[]): Transfer[] {
    const out: Transfer[] = [];
    for (const dep of dependencies) {
      const t = this.transfers.get(dep);
      if (!t) continue;
      this.transfers.delete(dep);
      out.push(t);
    }
    return out;
  }

  /**
   * Runs a pool kernel in a task thread: its parameters go as the literal they are, its inputs
   * as the kernel's threadInput makes them from the stored values (shared memory, not copied).
   * Undefined when the run was interrupted meanwhile.
   */
  private async runPooled(key: string, name: string, kernel: PoolKernel, spec: Spec, current: () => boolean): Promise<TaskOutcome | undefined> {
    const deps: ThreadDep[] = [];
    try {
      for (const dep of spec.dependencies ?? []) {
        let value = await this.store.getStored(dep).catch(() => undefined);
        if (!value) return failure(new DependencyLostError(key, dep));
        if (!('native' in value) && kernel.adopt) {
          const native = kernel.adopt(value);
          this.store.adoptNative(dep, native);
          value = { encoding: native.encoding, native: native.native };
        }
        deps.push(threadDep(dep, kernel, value));
      }
    } catch (err) {
      return failure(err instanceof Error ? err : new Error(String(err)));
    }
    const args: WireArg[] = (spec.args ?? []).map((a) => a.key
      ? { key: a.key }
      : { encoding: a.value?.encoding ?? kubedask.v1.Encoding.ENCODING_JSON, data: exact(a.value?.data) });
    if (!current()) return undefined;
    return this.pool.run({ key, fn: poolFunction(name, kernel), args, deps });
  }

  /**
   * Runs a built-in kernel here, on this thread (its heavy work is on the native library's own
   * threads). Its first argument is its parameters (JSON), the others the keys it reads.
   * Undefined when the run was interrupted meanwhile.
   */
  private async runBuiltin(key: string, name: string, spec: Spec, current: () => boolean, holders?: Record<string, string[]>): Promise<BuiltinOutcome | undefined> {
    const startMs = Date.now();
    const failed = (err: Error): BuiltinOutcome => ({ ...failure(err), startMs, durationMs: Date.now() - startMs, thread: 0 });
    try {
      const kernel = await resolveKernel(name);
      if (!kernel) return failed(new UnknownKernelError(key, name));
      const [paramsArg, ...inputArgs] = spec.args ?? [];
      const params: unknown = paramsArg?.value?.data?.byteLength ? decodeValue({ encoding: paramsArg.value.encoding ?? kubedask.v1.Encoding.ENCODING_JSON, data: paramsArg.value.data }) : {};
      const inputs: StoredValue[] = [];
      const inputsAt = holders && inputArgs.map((arg): [string, string[]] => [arg.key ?? '', holders[arg.key ?? ''] ?? []]);
      const transfers: Transfer[] = [];
      const onFetched = (k: string, nbytes: number, at: number, ms: number): void => {
        transfers.push({ key: k, startMs: at, durationMs: ms, nbytes });
        this.metrics?.transfer(nbytes, ms / 1000);
      };
      for (const arg of holders ? [] : inputArgs) {
        const value = arg.key ? await this.store.getStored(arg.key).catch(() => undefined) : undefined;
        if (!value) return failed(new DependencyLostError(key, arg.key ?? '(a literal)'));
        inputs.push(value);
      }
      if (!current()) return undefined;
      const abort = new AbortController();
      this.aborts.get(key)?.abort(new WorkerError(`${key}: run again`));
      this.aborts.set(key, abort);
      try {
        const value = await kernel(params, inputs, {
          key, nthreads: this.options.nthreads, memoryLimit: this.options.memoryLimit, inputsAt, signal: abort.signal, collective: this.collectiveFor(key, abort.signal),
          readParts: (of, part) => readParts({ store: this.store, peers: this.peers, self: this.address, onFetched }, key, of, part),
        });
        return { ok: true, value, startMs, durationMs: Date.now() - startMs, thread: 0, transfers };
      } finally {
        if (this.aborts.get(key) === abort) this.aborts.delete(key);
      }
    } catch (err) {
      if (err instanceof InputsMissingError) return { missing: err.keys, durationMs: Date.now() - startMs };
      return failed(err instanceof Error ? err : new Error(String(err)));
    }
  }
}

/** A built-in kernel runs on the worker's main thread: its entries go on lane 0. */
type BuiltinOutcome = TaskOutcome
  | { ok: true; value: EncodedValue | NativeValue; startMs: number; durationMs: number; thread: number; transfers?: Transfer[] }
  /** Inputs read through a barrier could not be read: reported missing, not as an error. */
  | { missing: string[]; durationMs: number };

/**
 * Values up to this size travel with their finish to a waiting client: a Gather's round trip
 * (client -> scheduler -> worker and back) costs milliseconds, and a Gather would pass the value
 * through the scheduler anyway. Only encoded values (task functions' and kernels' results):
 * a native one is a DataFrame partition, which is mostly persisted rather than gathered.
 */
export const INLINE_VALUE_MAX_BYTES = 256 * 1024;

/** A pool kernel's input as its task thread gets it (threadInput), with its memory when it has one. */
function threadDep(key: string, kernel: PoolKernel, value: StoredValue): ThreadDep {
  const input = kernel.threadInput(value);
  return input.memory ? [key, input.encoding, input.data, input.memory] : [key, input.encoding, input.data];
}

/** The task function that runs pool kernel `name` in a task thread. */
function poolFunction(name: string, kernel: PoolKernel): TaskFunction {
  return { id: `builtin:${name}`, name, builtin: name, builtinUrl: kernel.moduleUrl, export: kernel.exportName };
}

/** How long a collective's part may take to reach a peer's mailbox. */
const COLLECTIVE_SEND_TIMEOUT_MS = 30_000;

/** The value as it would be fetched, if it may go with its finish (else undefined). */
function inlineValue(value: EncodedValue | NativeValue): EncodedValue | undefined {
  return !isNativeValue(value) && value.data.byteLength <= INLINE_VALUE_MAX_BYTES ? value : undefined;
}

/** Decoded bytes are views into the whole received batch; postMessage would copy all of it. */
function exact(data: Uint8Array | null | undefined): Uint8Array {
  if (!data) return new Uint8Array(0);
  return data.byteLength * 2 < data.buffer.byteLength ? new Uint8Array(data) : data;
}

function failure(err: Error): TaskOutcome {
  return { ok: false, error: { name: err.name, message: err.message, stack: err.stack ?? '' }, startMs: Date.now(), durationMs: 0, thread: -1 };
}

const wireEvent: { [T in ToScheduler['type']]: (m: Extract<ToScheduler, { type: T }>, worker: string) => WireEvent } = {
  finished: (m) => ({ finished: {
    key: m.key, nbytes: m.nbytes, encoding: m.encoding, startMs: m.startMs, durationMs: m.durationMs, thread: m.thread, transfers: m.transfers,
  } }),
  erred: (m, worker) => ({ erred: {
    key: m.key, startMs: m.startMs, durationMs: m.durationMs, thread: m.thread, error: { key: m.key, ...m.error, worker },
  } }),
  added: (m) => ({ added: { keys: m.keys, nbytes: m.nbytes } }),
  missing: (m) => ({ missing: { key: m.key, missing: m.missing } }),
  rejected: (m) => ({ rejected: { key: m.key, reason: m.reason } }),
};

/** The first non-internal IPv4 address of this machine (a pod's IP), if any. */
function externalIPv4(): string | undefined {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

/**
 * Each task thread gets a heap limit, so a task that allocates without bound ends only its
 * thread (reported as erred) instead of the whole worker: its share of the memory limit, or
 * of half this machine's memory when there is no limit.
 */
function threadHeapMb(memoryLimit: number, nthreads: number): number {
  const budget = memoryLimit > 0 ? memoryLimit : totalmem() / 2;
  return Math.max(128, Math.floor(budget / Math.max(1, nthreads) / 2 ** 20));
}
