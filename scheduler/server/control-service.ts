// The Control service: the operator's view. Metrics (cluster-wide and per worker), the
// adaptive metrics stream (see metrics-watch.ts), graceful retirement of named workers (see
// retirement.ts), scaling decisions the operator made (kept in the history), and shutdown.
import type * as grpc from '@grpc/grpc-js';
import type { kubedask } from '../../protocol/generated/kubedask.js';
import { toServiceError } from '../../protocol/wire-errors.js';
import type { SchedulerCore } from './core.js';
import { clusterMetrics } from './metrics.js';
import type { MetricsWatches } from './metrics-watch.js';
import { retireWorkers } from './retirement.js';

type Unary<Req, Res> = (call: grpc.ServerUnaryCall<Req, Res>, cb: grpc.sendUnaryData<Res>) => void;

export function controlHandlers(core: SchedulerCore, watches: MetricsWatches, shutdown: () => void) {
  const getMetrics: Unary<kubedask.v1.MetricsRequest, kubedask.v1.ClusterMetrics.$Properties> = (_call, cb) => {
    cb(null, clusterMetrics(core));
  };
  const retire: Unary<kubedask.v1.RetireWorkersRequest, kubedask.v1.RetireWorkersReply.$Properties> = (call, cb) => {
    retireWorkers(core, call.request.names, call.request.timeoutSeconds).then((r) => cb(null, r), (err: unknown) => cb(toServiceError(err)));
  };
  const shutdownCall: Unary<kubedask.v1.ShutdownRequest, kubedask.v1.ShutdownReply.$Properties> = (_call, cb) => {
    cb(null, {});
    setImmediate(shutdown);
  };
  const recordDecision: Unary<kubedask.v1.AutoscalingDecision, kubedask.v1.RecordDecisionReply.$Properties> = (call, cb) => {
    cb(null, { recorded: recordOperatorDecision(core, call.request) });
  };
  return { getMetrics, retireWorkers: retire, shutdown: shutdownCall, watchMetrics: watches.watch, recordDecision };
}

/** Keeps the operator's decision in the scheduler's history. */
export function recordOperatorDecision(core: SchedulerCore, d: kubedask.v1.IAutoscalingDecision, now = Date.now()): boolean {
  core.history.recordDecision({
    t: d.timeMs || now, source: 'operator', group: d.group ?? '', from: d.from ?? 0, to: d.to ?? 0, reason: d.reason ?? '',
  });
  return true;
}
