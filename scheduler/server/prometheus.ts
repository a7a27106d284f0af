// The scheduler's Prometheus metrics (prom-client). The server imports this module at the first
// scrape: prom-client is about 90 modules, and a LocalCluster that nobody scrapes starts without it.
import { Gauge, Registry } from 'prom-client';
import { exposition, perScrape, type Exposition } from '../../protocol/prometheus.js';
import { DEFAULT_TARGET_DURATION_MS } from '../state/adaptive.js';
import type { SchedulerCore } from './core.js';
import { adaptiveMetrics } from './metrics.js';

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

/** A scrape of this scheduler's registry (made now) and of the process's metrics. */
export function scraper(core: SchedulerCore): () => Promise<Exposition> {
  const registry = schedulerRegistry(core);
  return () => exposition(registry);
}
