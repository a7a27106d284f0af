// The operator's only channel to a running cluster: the scheduler's Control service (DESIGN.md:
// "the operator knows a cluster only through Control"). One gRPC client per scheduler address,
// reused across reconciles; every call has a deadline so a hung scheduler cannot stall a worker
// of the work queue.
import * as grpc from '@grpc/grpc-js';
import { ControlClient, channelOptions } from '../../protocol/services.js';
import { channelCredentials, type Tls } from '../../protocol/tls.js';
import type { kubedask } from '../../protocol/generated/kubedask.js';

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

/** What reconcilers need from a scheduler; tests may supply their own. */
export interface SchedulerControl {
  metrics(address: string, tls?: Tls): Promise<ClusterMetrics>;
  retire(address: string, names: string[], tls?: Tls, timeoutSeconds?: number): Promise<RetireResult>;
  forget(address: string): void;
  close(): void;
}

type Unary<Req, Res> = (req: Req, meta: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Res) => void) => void;
interface RawControl extends grpc.Client {
  getMetrics: Unary<kubedask.v1.IMetricsRequest, kubedask.v1.ClusterMetrics>;
  retireWorkers: Unary<kubedask.v1.IRetireWorkersRequest, kubedask.v1.RetireWorkersReply>;
}

const num = (v: number | { toNumber(): number } | null | undefined): number =>
  v === null || v === undefined ? 0 : typeof v === 'number' ? v : v.toNumber();

/** A failed Control call. Its message is stable (the gRPC status name), so conditions built from
 * it do not change on every attempt; the details stay in `cause`. */
export class ControlError extends Error {
  override name = 'ControlError';
  readonly code: grpc.status;
  constructor(target: string, method: string, err: grpc.ServiceError) {
    super(`Control.${method} at ${target}: ${grpc.status[err.code] ?? 'UNKNOWN'}`, { cause: err });
    this.code = err.code;
  }
}

export function grpcSchedulerControl(o: { metricsTimeoutMs?: number } = {}): SchedulerControl {
  const clients = new Map<string, RawControl>();
  const client = (address: string, tls?: Tls): RawControl => {
    const key = `${tls ? 'tls' : 'plain'}:${address}`;
    let c = clients.get(key);
    if (!c) {
      c = new ControlClient(address, channelCredentials(tls), channelOptions) as unknown as RawControl;
      clients.set(key, c);
    }
    return c;
  };
  const call = <Req, Res>(method: string, address: string, fn: Unary<Req, Res>, c: RawControl, req: Req, timeoutMs: number): Promise<Res> =>
    new Promise((resolve, reject) => {
      fn.call(c, req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => (err ? reject(new ControlError(address, method, err)) : resolve(res!)));
    });
  return {
    async metrics(address, tls) {
      const c = client(address, tls);
      const m = await call('GetMetrics', address, c.getMetrics, c, {}, o.metricsTimeoutMs ?? 3000);
      return {
        workers: m.workers, tasksQueued: m.tasksQueued, tasksNoWorker: m.tasksNoWorker, tasksProcessing: m.tasksProcessing,
        tasksWaiting: m.tasksWaiting, tasksInMemory: m.tasksInMemory, memoryUsed: num(m.memoryUsed), idleSeconds: m.idleSeconds,
        workerMetrics: (m.workerMetrics ?? []).map((w) => ({
          name: w.name ?? '', group: w.group ?? '', tasksProcessing: w.tasksProcessing ?? 0, keysHeld: w.keysHeld ?? 0,
          memoryUsed: num(w.memoryUsed), idleSeconds: w.idleSeconds ?? 0, retiring: w.retiring ?? false,
        })),
      };
    },
    async retire(address, names, tls, timeoutSeconds = 60) {
      const c = client(address, tls);
      const r = await call('RetireWorkers', address, c.retireWorkers, c, { names, timeoutSeconds }, (timeoutSeconds + 10) * 1000);
      return { retired: [...r.retired], refused: { ...r.refused } };
    },
    forget(address) {
      for (const [key, c] of clients) if (key.endsWith(`:${address}`)) { c.close(); clients.delete(key); }
    },
    close() {
      for (const c of clients.values()) c.close();
      clients.clear();
    },
  };
}
