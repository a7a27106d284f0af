// Runs one bound pod: its containers as local processes on the pod's own loopback address,
// readiness probes, restarts by restartPolicy, graceful stop; reports through pods/status.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { containerArgv, type ContainerSpec } from './container-command.js';
import { ContainerLog } from './container-log.js';
import type { PodEventRecorder } from './events.js';
import { ERR_IMAGE_PULL_SHOWN_MS, PULL_BACKOFF_MS, pullImage } from './images.js';
import { runProbe } from './probes.js';
import type { KubeObject, Rest } from './rest.js';

export interface PodContext {
  rest: Rest;
  /** Images mapped to a local entrypoint (`kubedask sim --image`), besides the project's. */
  images: Record<string, string[]>;
  events: PodEventRecorder;
  /** Environment every pod process gets (API server address, DNS shim preload, kubeconfig). */
  baseEnv: Record<string, string>;
  logDir: string;
  hostIP: string;
}

interface ContainerRun {
  spec: ContainerSpec;
  child?: ChildProcess;
  restarts: number;
  /** Failed pulls in a row, for the pull back-off. */
  pullFailures: number;
  ready: boolean;
  startedAt?: string;
  /** The environment the running process was started with, which exec runs in too. */
  env?: Record<string, string>;
  state: Record<string, unknown>;
  lastState: Record<string, unknown>;
  exitCode?: number;
}

/** What the kubelet's log endpoint needs of a container. */
export interface ContainerLogView {
  state: Record<string, unknown>;
  lastState: Record<string, unknown>;
  log: ContainerLog;
}

/** What a command run in a container (exec) gets: the container's spec and environment. */
export interface ExecContext {
  spec: ContainerSpec;
  env: Record<string, string>;
}

const RESTART_BACKOFF_MS = [500, 1000, 2000, 5000, 10000];
/** A status write that failed is tried again after this long. */
const REPORT_RETRY_MS = 500;

export class PodRunner {
  private readonly containers: ContainerRun[];
  private readonly startTime = new Date().toISOString();
  private stopping = false;
  private timers = new Set<NodeJS.Timeout>();
  private reported = '';
  /** The status write in flight: writes go one at a time, so an older one never lands last. */
  private reporting: Promise<void> = Promise.resolve();
  private readonly logs = new Map<string, ContainerLog>();
  readonly name: string;
  readonly namespace: string;

  constructor(private readonly pod: KubeObject, readonly podIP: string, private readonly ctx: PodContext) {
    this.name = pod.metadata.name;
    this.namespace = pod.metadata.namespace ?? 'default';
    const spec = pod.spec as { containers?: ContainerSpec[] };
    this.containers = (spec.containers ?? []).map((c) => ({ spec: c, restarts: 0, pullFailures: 0, ready: false, state: { waiting: { reason: 'ContainerCreating' } }, lastState: {} }));
  }

  private get restartPolicy(): string {
    return ((this.pod.spec as { restartPolicy?: string }).restartPolicy) ?? 'Always';
  }

  async start(): Promise<void> {
    const env = await this.podEnv();
    for (const c of this.containers) this.launch(c, env);
    await this.report();
  }

  /** SIGTERM, then SIGKILL after the grace period; resolves when every process is gone. */
  async stop(graceSeconds: number): Promise<void> {
    this.stopping = true;
    for (const t of this.timers) clearTimeout(t);
    await Promise.all(this.containers.map((c) => stopChild(c.child, graceSeconds * 1000)));
  }

  /** Whether the pod has a container of that name (init containers are not run here). */
  hasContainer(name: string): boolean {
    return this.containers.some((c) => c.spec.name === name);
  }

  logView(container: string): ContainerLogView | undefined {
    const c = this.containers.find((x) => x.spec.name === container);
    return c && { state: c.state, lastState: c.lastState, log: this.logOf(c) };
  }

  /** Undefined unless the container is running, as a runtime refuses exec into a stopped one. */
  execContext(container: string): ExecContext | undefined {
    const c = this.containers.find((x) => x.spec.name === container);
    if (!c?.child || !c.env) return undefined;
    return { spec: c.spec, env: c.env };
  }

  private logOf(c: ContainerRun): ContainerLog {
    let log = this.logs.get(c.spec.name);
    if (!log) {
      log = new ContainerLog(join(podLogDir(this.ctx.logDir, this.pod), c.spec.name));
      this.logs.set(c.spec.name, log);
    }
    return log;
  }

  private async podEnv(): Promise<Record<string, string>> {
    return {
      ...this.ctx.baseEnv,
      KUBE_SIM_NAMESPACE: this.namespace,
      POD_IP: this.podIP,
      HOSTNAME: this.name,
    };
  }

  private async containerEnv(c: ContainerSpec, podEnv: Record<string, string>): Promise<Record<string, string>> {
    const env: Record<string, string> = { ...podEnv };
    for (const from of c.envFrom ?? []) {
      const ref = from.configMapRef ?? from.secretRef;
      if (!ref) continue;
      const kind = from.configMapRef ? 'configmaps' : 'secrets';
      const obj = await this.ctx.rest.get<{ data?: Record<string, string> }>(`/api/v1/namespaces/${this.namespace}/${kind}/${ref.name}`);
      for (const [k, v] of Object.entries(obj.data ?? {})) env[`${from.prefix ?? ''}${k}`] = kind === 'secrets' ? Buffer.from(v, 'base64').toString() : v;
    }
    for (const e of c.env ?? []) {
      if (e.value !== undefined) env[e.name] = e.value;
      else if (e.valueFrom) env[e.name] = await this.valueFrom(e.valueFrom);
    }
    return env;
  }

  private async valueFrom(from: Record<string, Record<string, string>>): Promise<string> {
    const field = from.fieldRef?.fieldPath;
    if (field) {
      const fields: Record<string, string> = {
        'metadata.name': this.name, 'metadata.namespace': this.namespace, 'metadata.uid': this.pod.metadata.uid ?? '',
        'status.podIP': this.podIP, 'status.hostIP': this.ctx.hostIP, 'spec.nodeName': String((this.pod.spec as { nodeName?: string }).nodeName ?? ''),
        'spec.serviceAccountName': String((this.pod.spec as { serviceAccountName?: string }).serviceAccountName ?? 'default'),
      };
      return fields[field] ?? '';
    }
    const ref = from.configMapKeyRef ?? from.secretKeyRef;
    if (ref) {
      const kind = from.configMapKeyRef ? 'configmaps' : 'secrets';
      const obj = await this.ctx.rest.get<{ data?: Record<string, string> }>(`/api/v1/namespaces/${this.namespace}/${kind}/${ref.name}`);
      const raw = obj.data?.[ref.key!] ?? '';
      return kind === 'secrets' ? Buffer.from(raw, 'base64').toString() : raw;
    }
    return '';
  }

  private launch(c: ContainerRun, podEnv: Record<string, string>): void {
    const pulled = pullImage(c.spec.image ?? '', c.spec.imagePullPolicy, this.ctx.images);
    if (!('entrypoint' in pulled)) return this.pullFailed(c, podEnv, pulled.reason, pulled.message);
    c.pullFailures = 0;
    // .catch, not .then's second argument: a throw while starting (the log file, or spawn refusing
    // an argument) must become the container's status, not an unhandled rejection that ends the sim.
    void this.containerEnv(c.spec, podEnv)
      .then((env) => this.run(c, podEnv, env, pulled.entrypoint), (err: Error) => this.cannotStart(c, 'CreateContainerConfigError', err.message))
      .catch((err: Error) => this.cannotStart(c, 'CreateContainerError', err.message));
  }

  private run(c: ContainerRun, podEnv: Record<string, string>, env: Record<string, string>, entrypoint: string[]): void {
    if (this.stopping) return;
    const argv = containerArgv(c.spec, env, entrypoint);
    const log = this.logOf(c).start();
    let child: ChildProcess;
    try {
      child = spawn(argv[0]!, argv.slice(1), { env, cwd: c.spec.workingDir, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    } catch (err) {
      log.end();
      throw err;
    }
    child.stdout?.on('data', (b: Buffer) => log.append('stdout', b));
    child.stderr?.on('data', (b: Buffer) => log.append('stderr', b));
    // 'close', not 'exit': output still in the pipes when the process exits belongs to this run.
    child.once('close', () => log.end());
    c.child = child;
    c.env = env;
    c.startedAt = new Date().toISOString();
    c.state = { running: { startedAt: c.startedAt } };
    c.ready = !c.spec.readinessProbe;
    child.once('error', (err) => this.cannotStart(c, 'CreateContainerError', err.message));
    child.once('exit', (code, signal) => this.onExit(c, podEnv, code ?? (signal ? 128 + 9 : 1), signal));
    if (c.spec.readinessProbe) this.probe(c, env);
    void this.report();
  }

  /** A container that could not be created: waiting with the reason, and the kubelet's Failed Event. */
  private cannotStart(c: ContainerRun, reason: 'CreateContainerConfigError' | 'CreateContainerError', message: string): void {
    c.child = undefined;
    c.state = { waiting: { reason, message } };
    void this.ctx.events.record(this.pod, `spec.containers{${c.spec.name}}`, 'Warning', 'Failed', `Error: ${message}`);
    void this.report();
  }

  /** An image this node cannot pull: ErrImagePull, then ImagePullBackOff until the next try
   *  (later each time), with the kubelet's Events; the pod stays Pending meanwhile. */
  private pullFailed(c: ContainerRun, podEnv: Record<string, string>, reason: string, message: string): void {
    const image = c.spec.image ?? '';
    const event = (type: 'Normal' | 'Warning', why: string, text: string) =>
      void this.ctx.events.record(this.pod, `spec.containers{${c.spec.name}}`, type, why, text);
    c.state = { waiting: { reason, message } };
    void this.report();
    if (reason !== 'ErrImagePull') { // retrying would change nothing
      event('Warning', reason === 'InvalidImageName' ? 'InspectFailed' : reason, message);
      return event('Warning', 'Failed', `Error: ${reason}`);
    }
    event('Normal', 'Pulling', `Pulling image "${image}"`);
    event('Warning', 'Failed', `Failed to pull image "${image}": ${message}`);
    event('Warning', 'Failed', 'Error: ErrImagePull');
    const wait = PULL_BACKOFF_MS[Math.min(c.pullFailures, PULL_BACKOFF_MS.length - 1)]!;
    c.pullFailures += 1;
    this.after(ERR_IMAGE_PULL_SHOWN_MS, () => {
      c.state = { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}": ErrImagePull: ${message}` } };
      event('Normal', 'BackOff', `Back-off pulling image "${image}"`);
      event('Warning', 'Failed', 'Error: ImagePullBackOff');
      void this.report();
    });
    this.after(ERR_IMAGE_PULL_SHOWN_MS + wait, () => this.launch(c, podEnv));
  }

  /** Runs `fn` after `ms` unless the pod is stopped first. */
  private after(ms: number, fn: () => void): void {
    const t = setTimeout(() => { this.timers.delete(t); if (!this.stopping) fn(); }, ms);
    this.timers.add(t);
  }

  private onExit(c: ContainerRun, podEnv: Record<string, string>, code: number, signal: NodeJS.Signals | null): void {
    c.child = undefined;
    c.ready = false;
    c.exitCode = code;
    const terminated = { exitCode: code, reason: code === 0 ? 'Completed' : 'Error', ...(signal ? { signal } : {}), startedAt: c.startedAt, finishedAt: new Date().toISOString() };
    c.state = { terminated };
    if (this.stopping) return void this.report();
    const policy = this.restartPolicy;
    if (policy === 'Always' || (policy === 'OnFailure' && code !== 0)) {
      c.lastState = { terminated };
      c.state = { waiting: { reason: 'CrashLoopBackOff', message: `back-off restarting failed container ${c.spec.name}` } };
      const delay = RESTART_BACKOFF_MS[Math.min(c.restarts, RESTART_BACKOFF_MS.length - 1)]!;
      c.restarts += 1;
      const t = setTimeout(() => { this.timers.delete(t); if (!this.stopping) this.launch(c, podEnv); }, delay);
      this.timers.add(t);
    }
    void this.report();
  }

  private probe(c: ContainerRun, env: Record<string, string>): void {
    const p = c.spec.readinessProbe!;
    // Probe periods are honoured up to 1 s: the emulator favours quick tests over realism here.
    const period = Math.min(1, p.periodSeconds ?? 10) * 1000;
    const tick = async () => {
      if (this.stopping || !c.child) return;
      const ok = await runProbe(p, this.podIP, env).catch(() => false);
      if (ok !== c.ready) { c.ready = ok; await this.report(); }
      const t = setTimeout(() => { this.timers.delete(t); void tick(); }, period);
      this.timers.add(t);
    };
    const t = setTimeout(() => { this.timers.delete(t); void tick(); }, (p.initialDelaySeconds ?? 0) * 1000);
    this.timers.add(t);
  }

  private phase(): string {
    if (this.containers.some((c) => 'running' in c.state)) return 'Running';
    if (this.containers.every((c) => 'terminated' in c.state)) {
      const allZero = this.containers.every((c) => c.exitCode === 0);
      if (allZero) return 'Succeeded';
      // Failed containers of an Always/OnFailure pod are being restarted (waiting), so only
      // Never reaches here with a failure.
      return 'Failed';
    }
    return this.containers.some((c) => c.restarts > 0) ? 'Running' : 'Pending';
  }

  /** Writes status only through pods/status, and only when it changed. Writes are queued: two
   *  in flight at once could land out of order and leave an older status (not Ready) in place
   *  while the newer one is remembered as written. Each computes the status when its turn comes. */
  report(): Promise<void> {
    this.reporting = this.reporting.then(() => this.writeStatus());
    return this.reporting;
  }

  private async writeStatus(): Promise<void> {
    const allReady = this.containers.every((c) => c.ready && 'running' in c.state);
    const now = new Date().toISOString();
    const condition = (type: string, ok: boolean) => ({ type, status: ok ? 'True' : 'False', lastTransitionTime: now });
    const status = {
      phase: this.phase(),
      hostIP: this.ctx.hostIP,
      podIP: this.podIP,
      podIPs: [{ ip: this.podIP }],
      startTime: this.startTime,
      conditions: [condition('PodScheduled', true), condition('Initialized', true), condition('ContainersReady', allReady), condition('Ready', allReady)],
      containerStatuses: this.containers.map((c) => ({
        name: c.spec.name, image: c.spec.image ?? '', imageID: '', ready: c.ready && 'running' in c.state,
        restartCount: c.restarts, started: 'running' in c.state, state: c.state, lastState: c.lastState,
      })),
    };
    const fingerprint = JSON.stringify({ ...status, conditions: status.conditions.map((c) => [c.type, c.status]) });
    if (fingerprint === this.reported) return;
    this.reported = fingerprint;
    await this.ctx.rest.mergePatch(`/api/v1/namespaces/${this.namespace}/pods/${this.name}/status`, { status }).catch(() => {
      // Not written: try again shortly, or a change nobody reports again (a probe that stays
      // passing) would never reach the API.
      this.reported = '';
      if (this.stopping) return;
      const t = setTimeout(() => { this.timers.delete(t); void this.report(); }, REPORT_RETRY_MS);
      this.timers.add(t);
    });
  }
}

/** A pod's output files are under <logDir>/<ns>_<pod>_<uid>/<container>/, as the kubelet lays out /var/log/pods. */
export function podLogDir(logDir: string, pod: KubeObject): string {
  return join(logDir, `${pod.metadata.namespace ?? 'default'}_${pod.metadata.name}_${pod.metadata.uid ?? ''}`);
}

function stopChild(child: ChildProcess | undefined, graceMs: number): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const group = (signal: NodeJS.Signals) => { try { process.kill(-child.pid!, signal); } catch { child.kill(signal); } };
    const timer = setTimeout(() => group('SIGKILL'), graceMs);
    child.once('exit', () => { clearTimeout(timer); resolve(); });
    group('SIGTERM');
  });
}
