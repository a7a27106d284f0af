// The worker's Prometheus metrics (prom-client), loaded only when the worker serves them
// (`kubedask worker --metrics-port`). Counters and the duration histogram move as tasks run,
// transfers land and values spill; gauges are read from the worker at each scrape. Task series
// carry the task group as `task_group`; `group` is the worker group, as on the scheduler's. The
// process's RSS, CPU and heap come with every scrape as process_* and nodejs_* (see
// protocol/prometheus.ts).
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { exposition, perScrape, type Exposition } from '../../protocol/prometheus.js';
import type { WorkerGaugeSources, WorkerMetricsSink } from './metrics.js';

/** Task durations from a millisecond to ten minutes. */
const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 600];

export interface WorkerPrometheus {
  sink: WorkerMetricsSink;
  registry: Registry;
  scrape(): Promise<Exposition>;
}

export function workerPrometheus(src: WorkerGaugeSources): WorkerPrometheus {
  const registry = new Registry();
  const registers = [registry];
  const counts = perScrape(src.tasks);
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({ name, help, registers, collect() { this.set(read()); } });

  const tasks = new Counter({ name: 'kubedask_worker_tasks_total', help: 'Tasks this worker ran, by task group and outcome (finished: result stored; erred).', labelNames: ['task_group', 'outcome'], registers });
  const duration = new Histogram({ name: 'kubedask_worker_task_duration_seconds', help: 'How long tasks ran on this worker, by task group.', labelNames: ['task_group'], buckets: DURATION_BUCKETS, registers });
  const transfers = new Counter({ name: 'kubedask_worker_transfers_total', help: 'Fetches of dependencies from peer workers.', registers });
  const transferBytes = new Counter({ name: 'kubedask_worker_transfer_bytes_total', help: 'Bytes of dependencies fetched from peer workers.', registers });
  const transferSeconds = new Counter({ name: 'kubedask_worker_transfer_seconds_total', help: 'Time spent fetching dependencies from peer workers.', registers });
  const spills = new Counter({ name: 'kubedask_worker_spills_total', help: 'Values written to the spill directory.', registers });
  const spilledTotal = new Counter({ name: 'kubedask_worker_spilled_bytes_total', help: 'Bytes written to the spill directory.', registers });
  gauge('kubedask_worker_memory_bytes', 'Bytes of results held in memory.', src.memoryUsed);
  gauge('kubedask_worker_spilled_bytes', 'Bytes of results held in the spill directory.', src.spilledBytes);
  gauge('kubedask_worker_memory_limit_bytes', 'The worker\'s memory limit in bytes (0: none).', () => src.memoryLimit);
  gauge('kubedask_worker_threads', 'Tasks the worker runs at once.', () => src.nthreads);
  gauge('kubedask_worker_tasks_executing', 'Tasks running now.', () => counts().executing);
  gauge('kubedask_worker_tasks_ready', 'Tasks ready to run, waiting for a thread.', () => counts().ready);
  new Gauge({ name: 'kubedask_worker_info', help: 'Always 1: the worker\'s name and worker group (task_group on the task series is the task\'s group), to join its other series by.', labelNames: ['worker', 'group'], registers })
    .set({ worker: src.name, group: src.group }, 1);

  const sink: WorkerMetricsSink = {
    task(group, ok, seconds) {
      tasks.inc({ task_group: group, outcome: ok ? 'finished' : 'erred' });
      duration.observe({ task_group: group }, seconds);
    },
    transfer(bytes, seconds) {
      transfers.inc();
      transferBytes.inc(bytes);
      transferSeconds.inc(seconds);
    },
    spill(bytes) {
      spills.inc();
      spilledTotal.inc(bytes);
    },
  };
  return { sink, registry, scrape: () => exposition(registry) };
}
