// A scheduler in this process and N worker processes on this machine.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { retireWorkers } from '../scheduler/server/retirement.js';
import { startScheduler, type RunningScheduler } from '../scheduler/server/scheduler-server.js';
import { KubedaskError } from '../protocol/errors.js';
import { isValidLogLines, MAX_LOG_LINES } from '../worker/runtime/log-buffer.js';
import { WORKER_GLIBC_TUNABLES } from '../operator/builders/worker-malloc.js';

export interface LocalClusterOptions {
  workers?: number;
  threads?: number;
  /** Per worker: bytes, or a size such as '2GiB'. 0 means no limit. */
  memoryLimit?: number | string;
  /** Scheduler gRPC port; 0 (default) picks a free one. */
  port?: number;
  /** Dashboard port; 0 (default) picks a free one, -1 disables it. */
  dashboardPort?: number;
  /** Extra resources each worker advertises, e.g. { GPU: 1 }. */
  resources?: Record<string, number>;
  /**
   * GPU device ids (client/gpus.ts visibleGpus()): one worker per GPU instead of `workers`,
   * each seeing only its own (CUDA_VISIBLE_DEVICES) and advertising GPU=1.
   */
  gpus?: string[];
  /** How long start() waits for every worker to register. */
  startTimeoutMs?: number;
  /** The scheduler removes a worker silent this long (default 30 s). */
  heartbeatTimeoutMs?: number;
  /** Worker process stderr: 'inherit' to see worker logs, 'ignore' by default. */
  workerOutput?: 'inherit' | 'ignore';
  /** Recent log lines each worker keeps for client.getWorkerLogs() (as `worker --log-lines`;
   *  default 10 000, 0 keeps none). */
  logLines?: number;
}

/** What scale() did: the workers now running, and those the scheduler kept, with why. */
export interface ScaleResult {
  workers: number;
  refused: Record<string, string>;
}

const cliMain = fileURLToPath(new URL('../cli/main.js', import.meta.url));

export class LocalCluster {
  private running?: RunningScheduler;
  private readonly processes = new Map<string, ChildProcess>();
  private readonly ready: Promise<void>;
  private closing?: Promise<void>;
  private nextWorker = 0;
  private scaling: Promise<unknown> = Promise.resolve();

  constructor(readonly options: LocalClusterOptions = {}) {
    const { logLines } = options;
    if (logLines !== undefined && !isValidLogLines(logLines)) {
      throw new KubedaskError(`LocalCluster: logLines must be an integer from 0 to ${MAX_LOG_LINES}, got ${logLines}`);
    }
    this.ready = this.start();
    this.ready.catch(() => undefined);
  }

  /** Resolves when the scheduler is up and every worker has registered. */
  async started(): Promise<this> {
    await this.ready;
    return this;
  }

  /** The in-process scheduler (for inspection: state counts, workers). */
  get scheduler(): RunningScheduler {
    if (!this.running) throw new KubedaskError('LocalCluster is not started yet: await cluster.started()');
    return this.running;
  }

  get address(): string {
    return this.scheduler.address;
  }

  get dashboardUrl(): string {
    return this.running?.dashboardUrl ?? '';
  }

  /** Worker names mapped to their process ids. */
  get workerPids(): Record<string, number> {
    return Object.fromEntries([...this.processes].map(([name, p]) => [name, p.pid ?? 0]));
  }

  /** Starts one more worker process; resolves when it has registered. */
  async addWorker(extra: { resources?: Record<string, number>; name?: string; env?: Record<string, string> } = {}): Promise<string> {
    const scheduler = this.scheduler;
    const name = extra.name ?? `local-${this.nextWorker++}`;
    const resources = { ...(this.options.resources ?? {}), ...(extra.resources ?? {}) };
    const args = [cliMain, 'worker', '--scheduler', scheduler.address, '--name', name,
      '--nthreads', String(this.options.threads ?? 1), '--memory-limit', String(this.options.memoryLimit ?? 0), '--exit-with-parent'];
    if (this.options.logLines !== undefined) args.push('--log-lines', String(this.options.logLines));
    if (Object.keys(resources).length) args.push('--resources', Object.entries(resources).map(([k, v]) => `${k}=${v}`).join(','));
    const inherit = this.options.workerOutput === 'inherit';
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', inherit ? 'inherit' : 'pipe', 'ipc'], env: { GLIBC_TUNABLES: WORKER_GLIBC_TUNABLES, ...process.env, ...extra.env } });
    // Keep the tail of a quiet worker's stderr: it explains a worker that fails to start.
    let stderrTail = '';
    child.stderr?.on('data', (b: Buffer) => { stderrTail = (stderrTail + b.toString()).slice(-2000); });
    this.processes.set(name, child);
    child.once('exit', () => this.processes.delete(name));
    await waitFor(() => [...scheduler.core.workers.values()].some((w) => w.def.name === name),
      this.options.startTimeoutMs ?? 30_000,
      () => (this.closing ? 'the cluster was closed' : child.exitCode !== null || child.signalCode !== null ? 'its process exited' : undefined),
      `worker ${name} did not register`, () => stderrTail.trim());
    return name;
  }

  /**
   * Grows or shrinks to `n` workers; resolves when they have registered or gone. Shrinking
   * retires workers through the scheduler first, in its order (idle, least memory first): the
   * results only they hold move to the workers that stay, so nothing is recomputed. A worker
   * the scheduler will not retire (say, the last holder of data with nowhere to move it) stays
   * and is named in `refused`.
   */
  scale(n: number, options: { retireTimeoutSeconds?: number } = {}): Promise<ScaleResult> {
    if (!Number.isInteger(n) || n < 0) return Promise.reject(new KubedaskError(`LocalCluster.scale: the number of workers must be an integer >= 0, got ${n}`));
    // One at a time: two calls reading the same count would both add workers.
    const next = this.scaling.then(() => this.scaleNow(n, options));
    this.scaling = next.catch(() => undefined);
    return next;
  }

  private async scaleNow(n: number, options: { retireTimeoutSeconds?: number }): Promise<ScaleResult> {
    await this.ready;
    if (this.closing) throw new KubedaskError('LocalCluster.scale: the cluster is closed');
    const running = this.processes.size;
    if (n >= running) {
      await Promise.all(Array.from({ length: n - running }, () => this.addWorker()));
      return { workers: this.processes.size, refused: {} };
    }
    const core = this.scheduler.core;
    const order = core.state.adaptive({ targetDurationMs: 0, groups: [] }).groups.flatMap((g) => g.removeFirst);
    const victims = [...order.filter((name) => this.processes.has(name)), ...this.processes.keys()]
      .filter((name, i, all) => all.indexOf(name) === i).slice(0, running - n);
    const { retired, refused } = await retireWorkers(core, victims, options.retireTimeoutSeconds ?? 0);
    // A retired worker is told to close and exits by itself; stopProcess only makes sure.
    await Promise.all(retired.map((name) => this.processes.get(name)).filter((p) => p !== undefined).map((p) => stopProcess(p, 5000)));
    return { workers: this.processes.size, refused };
  }

  private async start(): Promise<void> {
    this.running = await startScheduler({
      port: this.options.port ?? 0,
      dashboardPort: this.options.dashboardPort ?? 0,
      ...(this.options.heartbeatTimeoutMs ? { heartbeatTimeoutMs: this.options.heartbeatTimeoutMs } : {}),
      logLevel: 'error',
    });
    const gpus = this.options.gpus;
    if (gpus) {
      if (gpus.length === 0) throw new KubedaskError('LocalCluster: gpus is empty: no GPU to start a worker for');
      await Promise.all(gpus.map((id) => this.addWorker({ resources: { GPU: 1 }, env: { CUDA_VISIBLE_DEVICES: id } })));
      return;
    }
    const n = this.options.workers ?? 2;
    await Promise.all(Array.from({ length: n }, () => this.addWorker()));
  }

  /** Stops workers (SIGTERM, then SIGKILL after a grace period) and the scheduler. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.ready.catch(() => undefined);
      const exits = [...this.processes.values()].map((child) => stopProcess(child, 5000));
      await Promise.all(exits);
      await this.running?.close();
    })();
    return this.closing;
  }
}

function stopProcess(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => { clearTimeout(timer); resolve(); });
    child.kill('SIGTERM');
  });
}

/** Polls a condition each event-loop tick batch until true, failing fast once `gone()` says why. */
function waitFor(cond: () => boolean, timeoutMs: number, gone: () => string | undefined, what: string, why: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const because = () => (why() ? `: ${why()}` : '');
  return new Promise((resolve, reject) => {
    const check = () => {
      if (cond()) return resolve();
      const end = gone();
      if (end) return reject(new KubedaskError(`${what}: ${end}${because()}`));
      if (Date.now() > deadline) return reject(new KubedaskError(`${what} within ${timeoutMs} ms${because()}`));
      setTimeout(check, 5); // cheap (a map lookup), and start-up latency is what a user sees
    };
    check();
  });
}
