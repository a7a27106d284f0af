// `kubedask bench ...`: the only module that loads bench/, and only when a benchmark runs.
import { schedulerBench, type SchedulerBenchOptions } from '../../bench/scheduler.js';
import { simBench, type SimBenchOptions } from '../../bench/sim.js';
import { operatorBench, type OperatorBenchOptions } from '../../bench/operator.js';
import { autoscaleBench, type AutoscaleBenchOptions } from '../../bench/autoscale.js';
import { startupBench, startupTable, type StartupBenchOptions } from '../../bench/startup.js';
import { dataframeBench, dataframeTable, type DataframeBenchOptions } from '../../bench/dataframe.js';
import { dashboardBench, type DashboardBenchOptions } from '../../bench/dashboard.js';
import { mlBench, mlTable, type MlBenchOptions } from '../../bench/ml.js';
import { searchBench, searchTable, type SearchBenchOptions } from '../../bench/search.js';
import { gbdtBench, gbdtTable, type GbdtBenchOptions } from '../../bench/gbdt.js';

/** Options of the `kubedask bench` subcommands, as ../definitions/bench.ts defines them. */
interface Output { json?: boolean }
export type SchedulerBenchFlags = SchedulerBenchOptions & Output;
export type SimBenchFlags = SimBenchOptions & Output;
export type OperatorBenchFlags = OperatorBenchOptions & Output;
export type AutoscaleBenchFlags = AutoscaleBenchOptions & Output;
export type StartupBenchFlags = StartupBenchOptions & Output;
export type DataframeBenchFlags = DataframeBenchOptions & Output;
export type DashboardBenchFlags = DashboardBenchOptions & Output;
export type MlBenchFlags = MlBenchOptions & Output;
export type SearchBenchFlags = SearchBenchOptions & Output;
export type GbdtBenchFlags = GbdtBenchOptions & Output;

export async function schedulerBenchCommand({ json, ...options }: SchedulerBenchFlags): Promise<void> {
  const result = await schedulerBench(options);
  if (json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const k = result.kubedask;
  process.stdout.write(`kubedask: independent ${k.independent.tasks_per_s.toFixed(0)} tasks/s, tree ${k.tree.tasks_per_s.toFixed(0)} tasks/s, chain ${(k.chain.latency_s * 1000).toFixed(0)} ms\n`);
  if (result.ratios) {
    const r = result.ratios;
    process.stdout.write(`vs dask: independent ${r.independent_throughput_x.toFixed(1)}x, tree ${r.tree_throughput_x.toFixed(1)}x, chain latency ${r.chain_latency_x.toFixed(1)}x lower\n`);
  } else {
    process.stdout.write(`dask: ${JSON.stringify(result.dask)}\n`);
  }
}

export async function simBenchCommand({ json, ...options }: SimBenchFlags): Promise<void> {
  const result = await simBench(options);
  if (json) return void process.stdout.write(`${JSON.stringify(result)}\n`);
  process.stdout.write(`kube-sim: ${result.creates_per_s.toFixed(0)} creates/s; watch latency p50 ${result.watch_latency_ms.p50.toFixed(1)} ms, p99 ${result.watch_latency_ms.p99.toFixed(1)} ms over ${result.watches} watches (${result.events_missing} events missing)\n`);
}

export async function operatorBenchCommand({ json, ...options }: OperatorBenchFlags): Promise<void> {
  const result = await operatorBench(options);
  if (json) return void process.stdout.write(`${JSON.stringify(result)}\n`);
  const m = result.many_clusters;
  process.stdout.write(`operator: apply to Ready median ${result.apply_to_ready.median_s} s; ${m.clusters} clusters converged in ${m.converge_s} s, reconcile p50 ${m.reconcile_ms.p50} ms, p99 ${m.reconcile_ms.p99} ms, RSS ${m.operator_rss_mib} MiB\n`);
}

export async function autoscaleBenchCommand({ json, ...options }: AutoscaleBenchFlags): Promise<void> {
  const result = await autoscaleBench(options);
  if (json) return void process.stdout.write(`${JSON.stringify(result)}\n`);
  const k = result.kubedask;
  process.stdout.write(`kubedask: backlog to pods requested median ${k.burst.median.pods_requested_ms} ms, drain ${k.burst.median.drain_s} s; trace idle/busy ${k.trace.idle_fraction}, ${k.trace.direction_changes} direction changes; results lost ${k.results_lost}\n`);
  process.stdout.write(`dask adaptive: ${JSON.stringify(result.dask_adaptive)}\n`);
}

export async function startupBenchCommand({ json, ...options }: StartupBenchFlags): Promise<void> {
  const result = await startupBench(options);
  process.stdout.write(json ? `${JSON.stringify(result)}\n` : startupTable(result));
}

export async function dataframeBenchCommand({ json, ...options }: DataframeBenchFlags): Promise<void> {
  // The human output shows each query's progress on a terminal; --json prints only the result.
  const result = await dataframeBench({ ...options, progress: !json });
  process.stdout.write(json ? `${JSON.stringify(result)}\n` : dataframeTable(result));
}

export async function mlBenchCommand({ json, ...options }: MlBenchFlags): Promise<void> {
  const result = await mlBench(options);
  process.stdout.write(json ? `${JSON.stringify(result)}\n` : mlTable(result));
}

export async function searchBenchCommand({ json, ...options }: SearchBenchFlags): Promise<void> {
  const result = await searchBench(options);
  process.stdout.write(json ? `${JSON.stringify(result)}\n` : searchTable(result));
}

export async function gbdtBenchCommand({ json, ...options }: GbdtBenchFlags): Promise<void> {
  const result = await gbdtBench(options);
  process.stdout.write(json ? `${JSON.stringify(result)}\n` : gbdtTable(result));
}

export async function dashboardBenchCommand({ json, ...options }: DashboardBenchFlags): Promise<void> {
  const result = await dashboardBench(options);
  if (json) return void process.stdout.write(`${JSON.stringify(result)}\n`);
  const { tasks_per_s: t, slowdown_pct: s, goal } = result;
  process.stdout.write(`scheduler with ${options.tasks} tasks on ${options.workers} workers: ${t.no_page} tasks/s with no dashboard connected, ${t.pages} with ${options.pages} (${s.pages >= 0 ? '+' : ''}${s.pages} % time; goal within ${goal.pages_within_pct} %: ${goal.met ? 'met' : 'not met'}); the history's recording costs ${s.history} % (${t.history_off} tasks/s without it)\n`);
}
