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
  const values = await client.gather(futures);
  const seconds = (performance.now() - t0) / 1000;
  if (values.length !== n || values[n - 1] !== n) throw new Error('independent workload returned wrong results');
  return seconds;
}

async function tree(client: Client, n: number): Promise<number> {
  const t0 = performance.now();
  let layer: Future<number>[] = client.map(inc, Array.from({ length: n }, (_, i) => i));
  while (layer.length > 1) {
    const next: Future<number>[] = [];
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

interface Samples { independent: number[]; tree: number[]; chain: number[] }

/** The same warm-up as the Dask peer: threads, channels and function caches get going. */
async function warmUp(client: Client, opts: SchedulerBenchOptions): Promise<void> {
  await independent(client, Math.min(opts.tasks, 200));
  await tree(client, Math.min(opts.tasks, 64));
  await chain(client, Math.min(opts.chain, 20));
}

async function sampleKubedask(client: Client, opts: SchedulerBenchOptions, into: Samples): Promise<void> {
  into.independent.push(await independent(client, opts.tasks));
  into.tree.push(await tree(client, opts.tasks));
  into.chain.push(await chain(client, opts.chain));
}

function summary(samples: Samples, opts: SchedulerBenchOptions) {
  return {
    independent: { tasks: opts.tasks, tasks_per_s: opts.tasks / median(samples.independent), samples_s: samples.independent },
    tree: { tasks: 2 * opts.tasks - 1, tasks_per_s: (2 * opts.tasks - 1) / median(samples.tree), samples_s: samples.tree },
    chain: { tasks: opts.chain, latency_s: median(samples.chain), samples_s: samples.chain },
  };
}

const peerScript = fileURLToPath(new URL('../../bench/dask_peer.py', import.meta.url));
const peerPython = '/usr/bin/python3';

interface PeerRound { version?: string; error?: string; independent?: { samples_s: number[] }; tree?: { samples_s: number[] }; chain?: { samples_s: number[] } }

/** One round of the Dask peer (its own LocalCluster, warmed up, one sample of each). */
function daskRound(opts: SchedulerBenchOptions): PeerRound {
  if (!existsSync(peerPython)) return { error: `${peerPython} not found: install Debian's python3-distributed` };
  const out = spawnSync(peerPython, [peerScript, '--tasks', String(opts.tasks), '--repeat', '1', '--chain', String(opts.chain)],
    { encoding: 'utf8', timeout: 15 * 60_000, env: { ...process.env, PYTHONWARNINGS: 'ignore' } });
  const last = out.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last) as PeerRound;
  } catch {
    return { error: `dask peer failed (exit ${out.status}): ${(out.stderr || last).trim().split('\n').slice(-3).join(' ')}` };
  }
}

/**
 * kubedask and Dask rounds alternate, so both see the same machine load over the run; the
 * medians of each side's samples are compared.
 */
export async function schedulerBench(opts: SchedulerBenchOptions) {
  const cluster = await new LocalCluster({ workers: 2, threads: 1, dashboardPort: -1 }).started();
  const client = await Client.connect(cluster);
  const ours: Samples = { independent: [], tree: [], chain: [] };
  const theirs: Samples = { independent: [], tree: [], chain: [] };
  let peer: { version?: string; error?: string } = opts.peer ? {} : { error: 'skipped (--no-peer)' };
  try {
    await warmUp(client, opts);
    for (let r = 0; r < opts.repeat; r++) {
      await sampleKubedask(client, opts, ours);
      if (!opts.peer || peer.error) continue;
      const round = daskRound(opts);
      if (round.error || !round.independent || !round.tree || !round.chain) {
        peer = { error: round.error ?? 'dask peer printed no samples' };
        continue;
      }
      peer.version = round.version;
      theirs.independent.push(...round.independent.samples_s);
      theirs.tree.push(...round.tree.samples_s);
      theirs.chain.push(...round.chain.samples_s);
    }
  } finally {
    await client.close();
    await cluster.close();
  }
  const kubedask = { workers: 2, threads: 1, ...summary(ours, opts) };
  if (peer.error) return { bench: 'scheduler', node: process.version, kubedask, dask: peer, ratios: undefined };
  const dask = { peer: 'dask', version: peer.version, workers: 2, threads: 1, ...summary(theirs, opts) };
  const ratios = {
    independent_throughput_x: kubedask.independent.tasks_per_s / dask.independent.tasks_per_s,
    tree_throughput_x: kubedask.tree.tasks_per_s / dask.tree.tasks_per_s,
    chain_latency_x: dask.chain.latency_s / kubedask.chain.latency_s,
  };
  return { bench: 'scheduler', node: process.version, interleaved: true, kubedask, dask, ratios };
}
