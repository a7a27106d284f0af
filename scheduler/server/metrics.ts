// What the operator and Prometheus read: cluster-wide and per-worker figures, and the adaptive
// figures per worker group (state/adaptive.ts) with idle times from the server's clock.
import { Gauge, Registry } from 'prom-client';
import type { kubedask } from '../../protocol/generated/kubedask.js';
import { perScrape } from '../../protocol/prometheus.js';
import { DEFAULT_TARGET_DURATION_MS, type AdaptiveMetrics, type GroupShape } from '../state/adaptive.js';
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

/** The scheduler's Prometheus metrics, read from its state at each scrape. Per worker group: the
 *  groups and target duration the operator last watched with, else the groups of connected
 *  workers and a 30 s target (see state/adaptive.ts). */
export function schedulerRegistry(core: SchedulerCore): Registry {
  const registry = new Registry();
  const counts = perScrape(() => core.state.counts());
  const groups = perScrape(() => {
    const shape = core.adaptiveShape;
    return adaptiveMetrics(core, shape?.targetMs ?? DEFAULT_TARGET_DURATION_MS, shape?.groups ?? []);
  });
  const gauge = (name: string, help: string, labelNames: string[], collect: (g: Gauge) => void) =>
    new Gauge({ name, help, labelNames, registers: [registry], collect() { this.reset(); collect(this); } });

  gauge('kubedask_workers', 'Connected workers.', [], (g) => g.set(core.workers.size));
  gauge('kubedask_tasks', 'Tasks by state.', ['state'], (g) => {
    const c = counts();
    const states: [string, number][] = [['waiting', c.waiting], ['queued', c.queued], ['no-worker', c.noWorker],
      ['processing', c.processing], ['memory', c.memory], ['erred', c.erred], ['released', c.released]];
    for (const [state, n] of states) g.set({ state }, n);
  });
  gauge('kubedask_memory_bytes', 'Bytes of results held by workers.', [], (g) => g.set(counts().memoryBytes));
  gauge('kubedask_scheduler_group_tasks', 'Ready (queued), waiting-for-resource (no_worker) and processing tasks counted toward each worker group.', ['group', 'state'], (g) => {
    for (const { name: group, tasksQueued, tasksNoWorker, tasksProcessing } of groups().groups) {
      g.set({ group, state: 'queued' }, tasksQueued);
      g.set({ group, state: 'no_worker' }, tasksNoWorker);
      g.set({ group, state: 'processing' }, tasksProcessing);
    }
  });
  gauge('kubedask_scheduler_group_workers', 'Connected workers of each group, not retiring.', ['group'], (g) => {
    for (const { name: group, workers } of groups().groups) g.set({ group }, workers);
  });
  gauge('kubedask_scheduler_adaptive_target_workers', 'Workers each group needs to finish its work within the target duration and hold its data (scale on this).', ['group'], (g) => {
    for (const { name: group, target } of groups().groups) g.set({ group }, target);
  });
  gauge('kubedask_scheduler_tasks_unplaceable', 'Queued or no-worker tasks no connected worker group can run.', [], (g) => g.set(groups().tasksUnplaceable));
  return registry;
}
