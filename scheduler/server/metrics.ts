// What the operator and Prometheus read: cluster-wide and per-worker figures, and the adaptive
// figures per worker group (state/adaptive.ts) with idle times from the server's clock.
import type { kubedask } from '../../protocol/generated/kubedask.js';
import type { AdaptiveMetrics, GroupShape } from '../state/adaptive.js';
import type { SchedulerCore } from './core.js';

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

export function adaptiveMetrics(core: SchedulerCore, targetDurationMs: number, groups: readonly GroupShape[]): AdaptiveMetrics {
  const now = Date.now();
  return core.state.adaptive({ targetDurationMs, groups, idleSeconds: (id) => since(core.workers.get(id)?.idleSince, now) });
}
