// `kubedask bench scheduler`: task throughput and chain latency on a LocalCluster (2 worker
// processes, 1 thread each), and the same workloads on Dask in the same run.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client } from '../client/client.js';
import type { Future } from '../client/future.js';
import { LocalCluster } from '../client/local-cluster.js';
import { median } from './stats.js';

export interface SchedulerBenchOptions {
  tasks: number;
  chain: number;
  repeat: number;
  /** Run Dask too (needs /usr/bin/python3 with distributed). */
  peer: boolean;
}

const inc = (x: number) => x + 1;
const add = (a: number, b: number) => a + b;

async function independent(client: Client, n: number): Promise<number> {
  const t0 = performance.now();
  const futures = client.map(inc, Array.from({ length: n }, (_, i) => i));
  const values = await client.gather<number[]>(futures);
  const seconds = (performance.now() - t0) / 1000;
  if (values.length !== n || values[n - 1] !== n) throw new Error('independent workload returned wrong results');
  return seconds;
}

async function tree(client: Client, n: number): Promise<number> {
  const t0 = performance.now();
  let layer: Future[] = client.map(inc, Array.from({ length: n }, (_, i) => i));
  while (layer.length > 1) {
    const next: Future[] = [];
    for (let i = 0; i + 1 < layer.length; i += 2) next.push(client.submit(add, layer[i], layer[i + 1]));
    if (layer.length % 2) next.push(layer[layer.length - 1]!);
    layer = next;
  }
  const total = await layer[0]!.result();
  const seconds = (performance.now() - t0) / 1000;
  if (total !== (n * (n + 1)) / 2) throw new Error(`tree reduction returned ${String(total)}`);
  return seconds;
}

async function chain(client: Client, n: number): Promise<number> {
  const t0 = performance.now();
  let x = client.submit(inc, 0);
  for (let i = 1; i < n; i++) x = client.submit(inc, x);
  const value = await x.result();
  const seconds = (performance.now() - t0) / 1000;
  if (value !== n) throw new Error(`chain returned ${String(value)}`);
  return seconds;
}

export async function runKubedask(opts: SchedulerBenchOptions) {
  const cluster = await new LocalCluster({ workers: 2, threads: 1, dashboardPort: -1 }).started();
  const client = await Client.connect(cluster);
  try {
    await independent(client, 200); // warm up threads, channels and function caches
    const samples = { independent: [] as number[], tree: [] as number[], chain: [] as number[] };
    for (let r = 0; r < opts.repeat; r++) {
      samples.independent.push(await independent(client, opts.tasks));
      samples.tree.push(await tree(client, opts.tasks));
      samples.chain.push(await chain(client, opts.chain));
    }
    return {
      workers: 2, threads: 1,
      independent: { tasks: opts.tasks, tasks_per_s: opts.tasks / median(samples.independent), samples_s: samples.independent },
      tree: { tasks: 2 * opts.tasks - 1, tasks_per_s: (2 * opts.tasks - 1) / median(samples.tree), samples_s: samples.tree },
      chain: { tasks: opts.chain, latency_s: median(samples.chain), samples_s: samples.chain },
    };
  } finally {
    await client.close();
    await cluster.close();
  }
}

const peerScript = fileURLToPath(new URL('../../bench/dask_peer.py', import.meta.url));
const peerPython = '/usr/bin/python3';

export function runDask(opts: SchedulerBenchOptions): Record<string, unknown> {
  if (!existsSync(peerPython)) return { error: `${peerPython} not found: install Debian's python3-distributed` };
  const out = spawnSync(peerPython, [peerScript, '--tasks', String(opts.tasks), '--repeat', String(opts.repeat), '--chain', String(opts.chain)],
    { encoding: 'utf8', timeout: 15 * 60_000, env: { ...process.env, PYTHONWARNINGS: 'ignore' } });
  const last = out.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last) as Record<string, unknown>;
  } catch {
    return { error: `dask peer failed (exit ${out.status}): ${(out.stderr || last).trim().split('\n').slice(-3).join(' ')}` };
  }
}

export async function schedulerBench(opts: SchedulerBenchOptions) {
  const kubedask = await runKubedask(opts);
  const dask = opts.peer ? runDask(opts) : { skipped: true };
  const d = dask as { independent?: { tasks_per_s: number }; tree?: { tasks_per_s: number }; chain?: { latency_s: number } };
  const ratios = d.independent && d.tree && d.chain ? {
    independent_throughput_x: kubedask.independent.tasks_per_s / d.independent.tasks_per_s,
    tree_throughput_x: kubedask.tree.tasks_per_s / d.tree.tasks_per_s,
    chain_latency_x: d.chain.latency_s / kubedask.chain.latency_s,
  } : undefined;
  return { bench: 'scheduler', node: process.version, kubedask, dask, ratios };
}
