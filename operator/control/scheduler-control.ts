// The operator's only channel to a running cluster: the scheduler's Control service (DESIGN.md:
// "the operator knows a cluster only through Control"). One gRPC client per scheduler address,
// reused across reconciles; every call has a deadline so a hung scheduler cannot stall a worker
// of the work queue. Where the channel goes is the dialer's choice (scheduler-dialer.ts).
import * as grpc from '@grpc/grpc-js';
import { ControlClient, channelOptions } from '../../protocol/services.js';
import { channelCredentials, type Tls } from '../../protocol/tls.js';
import type { kubedask } from '../../protocol/generated/kubedask.js';
import type { GroupMetrics } from '../../scheduler/state/index.js';
import { ControlError } from './errors.js';
import { directDialer, type SchedulerDialer } from './scheduler-dialer.js';

export interface WorkerMetrics {
  name: string;
  group: string;
  tasksProcessing: number;
  keysHeld: number;
  memoryUsed: number;
  idleSeconds: number;
  retiring: boolean;
}

export interface ClusterMetrics {
  workers: number;
  tasksQueued: number;
  tasksNoWorker: number;
  tasksProcessing: number;
  tasksWaiting: number;
  tasksInMemory: number;
  memoryUsed: number;
  idleSeconds: number;
  workerMetrics: WorkerMetrics[];
}

export interface RetireResult {
  retired: string[];
  refused: Record<string, string>;
}

/** One worker group's queue and adaptive target, from Control.WatchMetrics: the scheduler's own
 *  shape (type only; the operator runs none of the scheduler's code). */
export type { GroupMetrics };

export interface MetricsUpdate {
  cluster: ClusterMetrics;
  groups: GroupMetrics[];
  tasksUnplaceable: number;
}

/** The groups the autoscaler manages and how fast work should finish. */
export interface WatchRequest {
  targetDurationSeconds: number;
  groups: { name: string; resources: Record<string, number>; threads: number; memoryLimit: number }[];
  /** The most seconds between two updates (heartbeat); default 1. */
  intervalSeconds?: number;
}

export interface WatchHandlers {
  update(u: MetricsUpdate): void;
  /** The stream ended: the scheduler went away or closed it (err), or close() was called (no err). */
  end(err?: Error): void;
}

export interface MetricsWatch { close(): void }

/** A scaling decision the operator wrote, as the scheduler keeps it for its dashboard. */
export interface ScalingDecisionReport {
  group: string;
  from: number;
  to: number;
  reason: string;
  /** ms since the Unix epoch. */
  timeMs: number;
}

/** What reconcilers need from a scheduler; tests may supply their own. */
export interface SchedulerControl {
  metrics(address: string, tls?: Tls): Promise<ClusterMetrics>;
  /** Streams metrics and adaptive targets until closed; `end` is called exactly once. */
  watch(address: string, request: WatchRequest, handlers: WatchHandlers, tls?: Tls): MetricsWatch;
  retire(address: string, names: string[], tls?: Tls, timeoutSeconds?: number): Promise<RetireResult>;
  /** Tells the scheduler of a decision (Control.RecordDecision); resolves to whether it kept it. */
  recordDecision(address: string, decision: ScalingDecisionReport, tls?: Tls): Promise<boolean>;
  forget(address: string): void;
  close(): void;
}

type Unary<Req, Res> = (req: Req, meta: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Res) => void) => void;
interface RawControl extends grpc.Client {
  getMetrics: Unary<kubedask.v1.IMetricsRequest, kubedask.v1.ClusterMetrics>;
  watchMetrics(req: kubedask.v1.IWatchMetricsRequest, meta: grpc.Metadata, opts: grpc.CallOptions): grpc.ClientReadableStream<kubedask.v1.MetricsUpdate>;
  retireWorkers: Unary<kubedask.v1.IRetireWorkersRequest, kubedask.v1.RetireWorkersReply>;
  recordDecision: Unary<kubedask.v1.IAutoscalingDecision, kubedask.v1.RecordDecisionReply>;
}

const num = (v: number | { toNumber(): number } | null | undefined): number =>
  v === null || v === undefined ? 0 : typeof v === 'number' ? v : v.toNumber();

function toCluster(m: kubedask.v1.IClusterMetrics): ClusterMetrics {
  return {
    workers: m.workers ?? 0, tasksQueued: m.tasksQueued ?? 0, tasksNoWorker: m.tasksNoWorker ?? 0, tasksProcessing: m.tasksProcessing ?? 0,
    tasksWaiting: m.tasksWaiting ?? 0, tasksInMemory: m.tasksInMemory ?? 0, memoryUsed: num(m.memoryUsed), idleSeconds: m.idleSeconds ?? 0,
    workerMetrics: (m.workerMetrics ?? []).map((w) => ({
      name: w.name ?? '', group: w.group ?? '', tasksProcessing: w.tasksProcessing ?? 0, keysHeld: w.keysHeld ?? 0,
      memoryUsed: num(w.memoryUsed), idleSeconds: w.idleSeconds ?? 0, retiring: w.retiring ?? false,
    })),
  };
}

function toUpdate(u: kubedask.v1.MetricsUpdate): MetricsUpdate {
  return {
    cluster: toCluster(u.cluster ?? {}),
    tasksUnplaceable: u.tasksUnplaceable ?? 0,
    groups: (u.groups ?? []).map((g) => ({
      name: g.name ?? '', workers: g.workers ?? 0, tasksQueued: g.tasksQueued ?? 0, tasksNoWorker: g.tasksNoWorker ?? 0,
      tasksProcessing: g.tasksProcessing ?? 0, memoryUsed: num(g.memoryUsed), memoryLimit: num(g.memoryLimit),
      workSeconds: g.workSeconds ?? 0, target: g.target ?? 0, reason: g.reason ?? '', removeFirst: [...(g.removeFirst ?? [])],
      idleSeconds: g.idleSeconds ?? 0,
    })),
  };
}

/** A dial that failed before any call (no tunnel to the scheduler): UNAVAILABLE, like a refused connection. */
function dialError(err: Error): grpc.ServiceError {
  return Object.assign(new Error(err.message, { cause: err }), { code: grpc.status.UNAVAILABLE, details: err.message, metadata: new grpc.Metadata() });
}

export function grpcSchedulerControl(o: { metricsTimeoutMs?: number; decisionTimeoutMs?: number; dialer?: SchedulerDialer } = {}): SchedulerControl {
  const dialer = o.dialer ?? directDialer;
  const clients = new Map<string, Promise<RawControl>>();
  const client = (address: string, tls?: Tls): Promise<RawControl> => {
    const key = `${tls ? 'tls' : 'plain'}:${address}`;
    let c = clients.get(key);
    if (!c) {
      c = dialer.target(address).then((target) => new ControlClient(target, channelCredentials(tls), channelOptions) as unknown as RawControl);
      clients.set(key, c);
      // A failed dial is not kept: the next call dials again.
      c.catch(() => { if (clients.get(key) === c) clients.delete(key); });
    }
    return c.catch((err: Error) => { throw new ControlError(address, 'dial', dialError(err)); });
  };
  const call = <Req, Res>(method: string, address: string, fn: Unary<Req, Res>, c: RawControl, req: Req, timeoutMs: number): Promise<Res> =>
    new Promise((resolve, reject) => {
      fn.call(c, req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => (err ? reject(new ControlError(address, method, err)) : resolve(res!)));
    });
  return {
    async metrics(address, tls) {
      const c = await client(address, tls);
      const m = await call('GetMetrics', address, c.getMetrics, c, {}, o.metricsTimeoutMs ?? 3000);
      return toCluster(m);
    },
    watch(address, request, handlers, tls) {
      let stream: grpc.ClientReadableStream<kubedask.v1.MetricsUpdate> | undefined;
      let ended = false;
      let closed = false;
      const end = (err?: Error) => {
        if (ended) return;
        ended = true;
        handlers.end(closed ? undefined : err);
      };
      const open = (c: RawControl) => {
        if (ended) return;
        stream = c.watchMetrics({
          targetDurationSeconds: request.targetDurationSeconds, intervalSeconds: request.intervalSeconds ?? 0,
          groups: request.groups.map((g) => ({ name: g.name, resources: g.resources, threads: g.threads, memoryLimit: g.memoryLimit })),
        }, new grpc.Metadata(), {});
        stream.on('data', (u: kubedask.v1.MetricsUpdate) => {
          if (!ended) handlers.update(toUpdate(u));
        });
        stream.on('error', (err: grpc.ServiceError) => end(new ControlError(address, 'WatchMetrics', err)));
        // A stream the server ends without an error still ends the watch: the caller reconnects.
        stream.on('status', (st: grpc.StatusObject) => {
          if (st.code !== grpc.status.OK) return; // 'error' reports it
          const err = Object.assign(new Error('stream ended by the scheduler'), { ...st, code: grpc.status.UNAVAILABLE });
          end(new ControlError(address, 'WatchMetrics', err));
        });
      };
      client(address, tls).then(open, (err: Error) => end(err));
      return {
        close() {
          closed = true;
          stream?.cancel();
          end();
        },
      };
    },
    async retire(address, names, tls, timeoutSeconds = 60) {
      const c = await client(address, tls);
      const r = await call('RetireWorkers', address, c.retireWorkers, c, { names, timeoutSeconds }, (timeoutSeconds + 10) * 1000);
      return { retired: [...r.retired], refused: { ...r.refused } };
    },
    async recordDecision(address, d, tls) {
      const c = await client(address, tls);
      const r = await call('RecordDecision', address, c.recordDecision, c, { group: d.group, from: d.from, to: d.to, reason: d.reason, timeMs: d.timeMs }, o.decisionTimeoutMs ?? 2000);
      return r.recorded;
    },
    forget(address) {
      for (const [key, c] of clients) {
        if (key.endsWith(`:${address}`)) { void c.then((x) => x.close(), () => undefined); clients.delete(key); }
      }
      dialer.forget(address);
    },
    close() {
      for (const c of clients.values()) void c.then((x) => x.close(), () => undefined);
      clients.clear();
      dialer.close();
    },
  };
}
