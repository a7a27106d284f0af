// The Control service: the operator's view. Metrics (cluster-wide and per worker), graceful
// retirement of named workers (see retirement.ts), and shutdown.
import type * as grpc from '@grpc/grpc-js';
import type { kubedask } from '../../protocol/generated/kubedask.js';
import type { SchedulerCore } from './core.js';
import { retireWorkers } from './retirement.js';

type Unary<Req, Res> = (call: grpc.ServerUnaryCall<Req, Res>, cb: grpc.sendUnaryData<Res>) => void;

const since = (t: number | undefined, now: number): number => (t === undefined ? 0 : (now - t) / 1000);

export function clusterMetrics(core: SchedulerCore): kubedask.v1.ClusterMetrics.$Properties {
  const c = core.state.counts();
  const now = Date.now();
  return {
    workers: core.workers.size,
    tasksQueued: c.queued,
    tasksNoWorker: c.noWorker,
    tasksProcessing: c.processing,
    tasksWaiting: c.waiting,
    tasksInMemory: c.memory,
    memoryUsed: c.memoryBytes,
    idleSeconds: since(core.idleSince, now),
    workerMetrics: [...core.workers.values()].map((w) => {
      const summary = core.state.workerSummary(w.def.workerId);
      return {
        name: w.def.name,
        group: w.def.group,
        tasksProcessing: summary?.processing ?? 0,
        keysHeld: summary?.inMemory ?? 0,
        memoryUsed: w.memoryUsed,
        idleSeconds: since(w.idleSince, now),
        // No summary: retired and told to close, not yet hung up.
        retiring: w.retiring || (core.state.retiring(w.def.workerId) ?? true),
        resources: w.def.resources,
      };
    }),
  };
}

export function controlHandlers(core: SchedulerCore, shutdown: () => void) {
  const getMetrics: Unary<kubedask.v1.MetricsRequest, kubedask.v1.ClusterMetrics.$Properties> = (_call, cb) => {
    cb(null, clusterMetrics(core));
  };
  const retire: Unary<kubedask.v1.RetireWorkersRequest, kubedask.v1.RetireWorkersReply.$Properties> = (call, cb) => {
    retireWorkers(core, call.request.names, call.request.timeoutSeconds).then((r) => cb(null, r), (err: Error) => cb(err));
  };
  const shutdownCall: Unary<kubedask.v1.ShutdownRequest, kubedask.v1.ShutdownReply.$Properties> = (_call, cb) => {
    cb(null, {});
    setImmediate(shutdown);
  };
  return { getMetrics, retireWorkers: retire, shutdown: shutdownCall };
}
