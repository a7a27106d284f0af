// The scheduler's Prometheus metrics (prom-client). The server imports this module at the first
// scrape: prom-client is about 90 modules, and a LocalCluster that nobody scrapes starts without it.
import { Counter, Gauge, Registry, type Metric } from 'prom-client';
import { DURATION_BUCKETS_S, type GroupTally } from '../history/task-tally.js';
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
  historyMetrics(core, registry);
  return registry;
}

/** From the session's history: what ran (by task group), transfers and memory (by worker). */
function historyMetrics(core: SchedulerCore, registry: Registry): void {
  const history = core.history;
  const tally = perScrape(() => history.tally.byGroup());
  const transfers = perScrape(() => history.tally.transfers());
  const rows = perScrape(() => history.workerRows());
  const gauge = (name: string, help: string, labelNames: string[], collect: (g: Gauge) => void) =>
    new Gauge({ name, help, labelNames, registers: [registry], collect() { this.reset(); collect(this); } });
  const counter = (name: string, help: string, labelNames: string[], collect: (c: Counter) => void) =>
    new Counter({ name, help, labelNames, registers: [registry], collect() { this.reset(); collect(this); } });

  counter('kubedask_tasks_finished_total', 'Tasks computed, by task group.', ['group'], (c) => {
    for (const g of tally()) c.inc({ group: g.group }, g.finished);
  });
  counter('kubedask_tasks_erred_total', 'Tasks that failed on a worker, by task group.', ['group'], (c) => {
    for (const g of tally()) c.inc({ group: g.group }, g.erred);
  });
  registry.registerMetric(durationHistogram(tally) as unknown as Metric);
  gauge('kubedask_task_group_tasks', 'Tasks of each task group by progress state (as the dashboard\'s progress bars).', ['group', 'state'], (g) => {
    for (const p of core.state.groupProgress()) {
      for (const state of ['waiting', 'queued', 'processing', 'done', 'erred'] as const) g.set({ group: p.group, state }, p[state]);
    }
  });
  counter('kubedask_transfers_total', 'Dependencies fetched from peers for tasks, by the fetching worker.', ['worker'], (c) => {
    for (const t of transfers()) c.inc({ worker: t.worker }, t.transfers);
  });
  counter('kubedask_transfer_bytes_total', 'Bytes of dependencies fetched from peers, by the fetching worker.', ['worker'], (c) => {
    for (const t of transfers()) c.inc({ worker: t.worker }, t.bytes);
  });
  counter('kubedask_transfer_seconds_total', 'Time spent fetching dependencies from peers, by the fetching worker.', ['worker'], (c) => {
    for (const t of transfers()) c.inc({ worker: t.worker }, t.seconds);
  });
  // Named apart from the workers' own kubedask_worker_* series (worker/runtime/prometheus.ts):
  // these are every worker's last heartbeat, as the scheduler saw it, from one scrape target.
  gauge('kubedask_scheduler_worker_managed_bytes', 'Bytes of stored values each worker holds in memory (its last heartbeat).', ['worker'], (g) => {
    for (const w of rows()) g.set({ worker: w.name }, w.managed);
  });
  gauge('kubedask_scheduler_worker_unmanaged_bytes', 'Each worker process\'s memory beyond its stored values (RSS - managed; its last heartbeat).', ['worker'], (g) => {
    for (const w of rows()) g.set({ worker: w.name }, w.unmanaged);
  });
  gauge('kubedask_scheduler_worker_spilled_bytes', 'Bytes of stored values each worker has written to disk (its last heartbeat).', ['worker'], (g) => {
    for (const w of rows()) g.set({ worker: w.name }, w.spilled);
  });
}

/**
 * Task durations by group as a Prometheus histogram, read from the history's running tally at
 * each scrape (a prom-client Histogram would have to see every task, and the registry only
 * exists from the first scrape on).
 */
function durationHistogram(tally: () => GroupTally[]) {
  const name = 'kubedask_task_duration_seconds';
  const help = 'Compute time of finished tasks, by task group.';
  return {
    name, help, type: 'histogram', aggregator: 'sum',
    get() {
      const values: { metricName: string; labels: Record<string, string | number>; value: number }[] = [];
      for (const g of tally()) {
        let cumulative = 0;
        DURATION_BUCKETS_S.forEach((le, i) => {
          cumulative += g.buckets[i]!;
          values.push({ metricName: `${name}_bucket`, labels: { group: g.group, le }, value: cumulative });
        });
        values.push({ metricName: `${name}_bucket`, labels: { group: g.group, le: '+Inf' }, value: g.finished });
        values.push({ metricName: `${name}_sum`, labels: { group: g.group }, value: g.durationSumS });
        values.push({ metricName: `${name}_count`, labels: { group: g.group }, value: g.finished });
      }
      return { name, help, type: 'histogram', aggregator: 'sum', values };
    },
    reset() {},
  };
}

/** A scrape of this scheduler's registry (made now) and of the process's metrics. */
export function scraper(core: SchedulerCore): () => Promise<Exposition> {
  const registry = schedulerRegistry(core);
  return () => exposition(registry);
}
