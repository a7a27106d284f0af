import { schedulerBench } from '../../bench/scheduler.js';
import { simBench } from '../../bench/sim.js';
import { operatorBench } from '../../bench/operator.js';
import { autoscaleBench } from '../../bench/autoscale.js';
import { startupBench, startupTable } from '../../bench/startup.js';
import { parse, parseCount, UsageError } from '../options.js';


export async function benchCommand(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (name === 'sim') return simCommand(rest);
  if (name === 'operator') return operatorCommand(rest);
  if (name === 'autoscale') return autoscaleCommand(rest);
  if (name === 'startup') return startupCommand(rest);
  if (name !== 'scheduler') throw new UsageError(name ? `unknown benchmark "${name}" (known: scheduler, sim, operator, autoscale, startup)` : 'name a benchmark: scheduler, sim, operator, autoscale or startup');
  const v = parse(rest, {
    json: { type: 'boolean' }, tasks: { type: 'string' }, chain: { type: 'string' }, repeat: { type: 'string' }, 'no-peer': { type: 'boolean' },
  });
  const result = await schedulerBench({
    tasks: parseCount(v.tasks, '--tasks', 5_000),
    chain: parseCount(v.chain, '--chain', 1000),
    repeat: parseCount(v.repeat, '--repeat', 3),
    peer: !v['no-peer'],
  });
  if (v.json) {
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

async function simCommand(argv: string[]): Promise<void> {
  const v = parse(argv, { json: { type: 'boolean' }, objects: { type: 'string' }, watches: { type: 'string' }, concurrency: { type: 'string' } });
  const result = await simBench({
    objects: parseCount(v.objects, '--objects', 10_000),
    watches: parseCount(v.watches, '--watches', 100),
    concurrency: parseCount(v.concurrency, '--concurrency', 16),
  });
  if (v.json) return void process.stdout.write(`${JSON.stringify(result)}\n`);
  process.stdout.write(`kube-sim: ${result.creates_per_s.toFixed(0)} creates/s; watch latency p50 ${result.watch_latency_ms.p50.toFixed(1)} ms, p99 ${result.watch_latency_ms.p99.toFixed(1)} ms over ${result.watches} watches (${result.events_missing} events missing)\n`);
}

async function operatorCommand(argv: string[]): Promise<void> {
  const v = parse(argv, { json: { type: 'boolean' }, clusters: { type: 'string' }, repeat: { type: 'string' } });
  const result = await operatorBench({ clusters: parseCount(v.clusters, '--clusters', 200), repeat: parseCount(v.repeat, '--repeat', 3) });
  if (v.json) return void process.stdout.write(`${JSON.stringify(result)}\n`);
  const m = result.many_clusters;
  process.stdout.write(`operator: apply to Ready median ${result.apply_to_ready.median_s} s; ${m.clusters} clusters converged in ${m.converge_s} s, reconcile p50 ${m.reconcile_ms.p50} ms, p99 ${m.reconcile_ms.p99} ms, RSS ${m.operator_rss_mib} MiB\n`);
}

async function autoscaleCommand(argv: string[]): Promise<void> {
  const v = parse(argv, {
    json: { type: 'boolean' }, tasks: { type: 'string' }, 'task-ms': { type: 'string' }, repeat: { type: 'string' }, bursts: { type: 'string' },
    'burst-tasks': { type: 'string' }, 'gap-s': { type: 'string' }, 'max-workers': { type: 'string' }, 'no-peer': { type: 'boolean' },
  });
  const result = await autoscaleBench({
    tasks: parseCount(v.tasks, '--tasks', 600),
    taskMs: parseCount(v['task-ms'], '--task-ms', 200),
    repeat: parseCount(v.repeat, '--repeat', 3),
    bursts: parseCount(v.bursts, '--bursts', 5),
    burstTasks: parseCount(v['burst-tasks'], '--burst-tasks', 150),
    gapS: parseCount(v['gap-s'], '--gap-s', 4),
    maxWorkers: parseCount(v['max-workers'], '--max-workers', 6),
    peer: !v['no-peer'],
  });
  if (v.json) return void process.stdout.write(`${JSON.stringify(result)}\n`);
  const k = result.kubedask;
  process.stdout.write(`kubedask: backlog to pods requested median ${k.burst.median.pods_requested_ms} ms, drain ${k.burst.median.drain_s} s; trace idle/busy ${k.trace.idle_fraction}, ${k.trace.direction_changes} direction changes; results lost ${k.results_lost}\n`);
  process.stdout.write(`dask adaptive: ${JSON.stringify(result.dask_adaptive)}\n`);
}

async function startupCommand(argv: string[]): Promise<void> {
  const v = parse(argv, { json: { type: 'boolean' }, repeat: { type: 'string' }, 'no-peer': { type: 'boolean' } });
  const result = await startupBench({ repeat: parseCount(v.repeat, '--repeat', 3), peer: !v['no-peer'] });
  process.stdout.write(v.json ? `${JSON.stringify(result)}\n` : startupTable(result));
}
