// The Control service: the operator's view. Metrics and retirement stay minimal here; the
// autoscaling work fills them in.
import type * as grpc from '@grpc/grpc-js';
import type { kubedask } from '../../protocol/generated/kubedask.js';
import type { SchedulerCore } from './core.js';

type Unary<Req, Res> = (call: grpc.ServerUnaryCall<Req, Res>, cb: grpc.sendUnaryData<Res>) => void;

export function controlHandlers(core: SchedulerCore, shutdown: () => void) {
  const getMetrics: Unary<kubedask.v1.MetricsRequest, kubedask.v1.ClusterMetrics.$Properties> = (_call, cb) => {
    const c = core.state.counts();
    cb(null, {
      workers: core.workers.size,
      tasksQueued: c.queued,
      tasksNoWorker: c.noWorker,
      tasksProcessing: c.processing,
      tasksWaiting: c.waiting,
      tasksInMemory: c.memory,
      memoryUsed: c.memoryBytes,
      idleSeconds: core.idleSince === undefined ? 0 : (Date.now() - core.idleSince) / 1000,
    });
  };
  const retireWorkers: Unary<kubedask.v1.RetireWorkersRequest, kubedask.v1.RetireWorkersReply.$Properties> = (call, cb) => {
    // Minimal: only workers that hold no data and run nothing are retired here.
    const retired: string[] = [];
    const refused: Record<string, string> = {};
    for (const name of call.request.names) {
      const link = core.workerByName(name);
      if (!link) { refused[name] = 'no such worker'; continue; }
      const summary = core.state.workerSummary(link.def.workerId);
      const busy = summary?.processing ?? 0;
      const holds = summary?.inMemory ?? 0;
      if (busy || holds) { refused[name] = `worker is running ${busy} tasks and holds ${holds} keys; graceful data movement is not implemented yet`; continue; }
      link.retiring = true;
      link.send({ close: { reason: 'retired' } });
      retired.push(name);
    }
    cb(null, { retired, refused });
  };
  const shutdownCall: Unary<kubedask.v1.ShutdownRequest, kubedask.v1.ShutdownReply.$Properties> = (_call, cb) => {
    cb(null, {});
    setImmediate(shutdown);
  };
  return { getMetrics, retireWorkers, shutdown: shutdownCall };
}
