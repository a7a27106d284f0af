// `kubedask bench autoscale`: the built-in autoscaler on kube-sim with its process kubelet, the
// real operator process and real scheduler and worker processes.
//   burst  a backlog of `tasks` sleeps on a cluster at its minimum of one 1-thread worker: time
//          until the autoscaler writes more replicas, until the new worker pods exist (requested),
//          until one of them registers with the scheduler and its pod is Ready; time to drain; time back at the minimum; then every result
//          gathered again (they were moved off the retired workers) and compared. `repeat` times.
//   trace  `bursts` bursts of `burstTasks` sleeps with `gapS` quiet seconds between them: worker
//          pod-seconds against busy task-seconds from the first submit until the group is back at
//          its minimum, and how often the replicas changed direction.
// Results lost counts wrong or missing results, tasks that never ran and tasks that ran twice.
// The same workload runs on Dask's adaptive LocalCluster (bench/dask_adaptive_peer.py) in the
// same run. The Dask Kubernetes operator cannot run here: its 5 s poll and 15 s cooldown are
// quoted from its source as a reference, not measured.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, type Future } from '../index.js';
import { API_VERSION, type DaskCluster, type DaskWorkerGroup } from '../operator/api/types.js';
import { KubeApi, type KubeObject } from '../operator/k8s/kube-api.js';
import { R } from '../operator/k8s/resources.js';
import { directionChanges, recordedSleep, runCounts } from './autoscale-trace.js';
import { installCrds, startOperatorProcess, startSim, until } from './kube.js';
import { median } from './stats.js';

export interface AutoscaleBenchOptions {
  tasks: number;
  taskMs: number;
  repeat: number;
  bursts: number;
  burstTasks: number;
  gapS: number;
  maxWorkers: number;
  peer: boolean;
}

const NS = 'default';
const NAME = 'bench';
const GROUP = `${NAME}-cpu`;
const TARGET_DURATION_S = 2;
// Scale-up as the defaults have it; scale-down after 10 s of lower targets (default 60 s), so
// that a run takes minutes, not tens of minutes. The trace's gaps are inside that window.
const BEHAVIOR = { scaleDown: { stabilizationWindowSeconds: 10, policies: [{ type: 'Percent', value: 100, periodSeconds: 5 }] } };
const SAMPLE_MS = 25;

interface Sample { t: number; replicas: number; live: number; ready: number; registered: number }

/** Polls the group's replicas, its worker pods and the workers registered with the scheduler
 *  every SAMPLE_MS until stopped. */
class Sampler {
  readonly samples: Sample[] = [];
  private stopped = false;
  private readonly done: Promise<void>;

  constructor(private readonly api: KubeApi, private readonly client: Client, readonly t0: number) {
    this.done = this.loop();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const [o, info] = await Promise.all([observe(this.api), this.client.clusterInfo()]);
      this.samples.push({ t: performance.now() - this.t0, ...o, registered: info.workers?.length ?? 0 });
      await new Promise((r) => setTimeout(r, SAMPLE_MS));
    }
  }

  async stop(): Promise<Sample[]> {
    this.stopped = true;
    await this.done;
    return this.samples;
  }

  /** Milliseconds from t0 to the first sample where `f` holds. */
  firstMs(f: (s: Sample) => boolean): number | null {
    const s = this.samples.find(f);
    return s ? Math.round(s.t) : null;
  }
}

async function observe(api: KubeApi): Promise<Omit<Sample, 't' | 'registered'>> {
  const [group, pods] = await Promise.all([
    api.get<DaskWorkerGroup & KubeObject>(R.daskWorkerGroups, NS, GROUP),
    api.list<KubeObject & { status?: { conditions?: { type: string; status: string }[] } }>(R.pods, { namespace: NS, labelSelector: `kubedask.io/cluster=${NAME},kubedask.io/component=worker` }),
  ]);
  const live = pods.items.filter((p) => !p.metadata.deletionTimestamp);
  return {
    replicas: group?.spec.replicas ?? 0,
    live: live.length,
    ready: live.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length,
  };
}

const atMinimum = async (api: KubeApi) => {
  const o = await observe(api);
  return o.replicas === 1 && o.live === 1 && o.ready === 1;
};

/** Worker pod-seconds (live pods) and registered worker-seconds over the samples. */
function integrate(samples: Sample[]): { live: number; registered: number } {
  let live = 0;
  let registered = 0;
  for (let i = 1; i < samples.length; i++) {
    const dt = (samples[i]!.t - samples[i - 1]!.t) / 1000;
    live += samples[i - 1]!.live * dt;
    registered += samples[i - 1]!.registered * dt;
  }
  return { live, registered };
}

/** Results that are wrong or missing when gathered again. */
async function lostResults(futures: Future[], first: number): Promise<number> {
  const again = await Promise.allSettled(futures.map((f) => f.result()));
  return again.filter((r, j) => r.status !== 'fulfilled' || r.value !== (first + j) * 2).length;
}

/** Tasks numbered [from, to) that never ran or ran more than once, from the run log. */
function badRuns(log: string, from: number, to: number): { missing: number; twice: number } {
  const counts = runCounts(log);
  let missing = 0;
  let twice = 0;
  for (let i = from; i < to; i++) {
    const n = counts.get(i) ?? 0;
    if (n === 0) missing++;
    if (n > 1) twice++;
  }
  return { missing, twice };
}

const round = (x: number | null, digits = 3) => (x === null ? null : Number(x.toFixed(digits)));

async function ours(o: AutoscaleBenchOptions) {
  const sim = await startSim(1, { cpu: '16', memory: '32Gi' });
  const operator = startOperatorProcess(sim, 'info');
  const api = KubeApi.fromKubeconfig(sim.kubeconfig, { qps: 1000, burst: 1000 });
  const log = join(mkdtempSync(join(tmpdir(), 'kubedask-bench-autoscale-')), 'runs.log');
  writeFileSync(log, '');
  let client: Client | undefined;
  try {
    await installCrds(api);
    await api.create(R.daskAutoscalingPolicies, undefined, { apiVersion: API_VERSION, kind: 'DaskAutoscalingPolicy', metadata: { name: 'bench' }, spec: { namespaces: [NS], behavior: BEHAVIOR } });
    await api.create(R.daskClusters, NS, {
      apiVersion: API_VERSION, kind: 'DaskCluster', metadata: { name: NAME },
      spec: {
        scheduler: { resources: { requests: { cpu: '100m', memory: '128Mi' } } },
        workerGroups: [{ name: 'cpu', minReplicas: 1, maxReplicas: o.maxWorkers, threads: 1, resources: { requests: { cpu: '100m', memory: '128Mi' } } }],
        autoscaling: { enabled: true, targetDuration: `${TARGET_DURATION_S}s` },
      },
    });
    await until(async () => {
      const c = await api.get<DaskCluster & KubeObject>(R.daskClusters, NS, NAME);
      return c?.status?.readyWorkers === 1 && c.status.conditions?.some((x) => x.type === 'Autoscaling' && x.status === 'True') === true;
    }, 'the cluster Ready and autoscaling', 120_000);
    const schedulers = await api.list<KubeObject & { status?: { podIP?: string } }>(R.pods, { namespace: NS, labelSelector: `kubedask.io/cluster=${NAME},kubedask.io/component=scheduler` });
    client = await Client.connect(`${schedulers.items[0]!.status!.podIP!}:8786`);

    let next = 0;
    let lost = 0;
    const bursts = [];
    for (let r = 0; r < o.repeat; r++) {
      await until(() => atMinimum(api), 'the group at its minimum', 180_000, 100);
      const first = next;
      next += o.tasks;
      const t0 = performance.now();
      const futures = client.map(recordedSleep, Array.from({ length: o.tasks }, (_, j) => ({ i: first + j, log, ms: o.taskMs })));
      const sampler = new Sampler(api, client, t0);
      await client.gather(futures);
      const drainS = (performance.now() - t0) / 1000;
      await until(() => atMinimum(api), 'the group back at its minimum', 180_000, 100);
      const backS = (performance.now() - t0) / 1000;
      await sampler.stop();
      const burstLost = await lostResults(futures, first);
      const runs = badRuns(log, first, first + o.tasks);
      lost += burstLost + runs.missing + runs.twice;
      for (const f of futures) f.release();
      bursts.push({
        replicas_written_ms: sampler.firstMs((s) => s.replicas > 1),
        pods_requested_ms: sampler.firstMs((s) => s.live > 1),
        first_new_worker_registered_ms: sampler.firstMs((s) => s.registered > 1),
        first_new_pod_ready_ms: sampler.firstMs((s) => s.ready > 1),
        peak_workers: Math.max(...sampler.samples.map((s) => s.live)),
        drain_s: round(drainS), back_to_minimum_s: round(backS),
        results_lost: burstLost, tasks_not_run: runs.missing, tasks_run_twice: runs.twice,
      });
    }

    // The bursty trace.
    await until(() => atMinimum(api), 'the group at its minimum', 180_000, 100);
    const t0 = performance.now();
    const sampler = new Sampler(api, client, t0);
    const first = next;
    for (let b = 0; b < o.bursts; b++) {
      const base = next;
      next += o.burstTasks;
      const futures = client.map(recordedSleep, Array.from({ length: o.burstTasks }, (_, j) => ({ i: base + j, log, ms: o.taskMs })));
      await client.gather(futures);
      lost += await lostResults(futures, base);
      for (const f of futures) f.release();
      // The quiet time between bursts is part of the load, not a wait for a condition.
      if (b < o.bursts - 1) await new Promise((r) => setTimeout(r, o.gapS * 1000));
    }
    await until(() => atMinimum(api), 'the group back at its minimum after the trace', 180_000, 100);
    const samples = await sampler.stop();
    const runs = badRuns(log, first, next);
    lost += runs.missing + runs.twice;
    const busy = (o.bursts * o.burstTasks * o.taskMs) / 1000;
    const w = integrate(samples);
    const decisions = operator.output().split('\n').filter((l) => l.includes('"autoscaled"')).length;
    return {
      burst: {
        tasks: o.tasks, task_ms: o.taskMs, runs: bursts,
        median: {
          replicas_written_ms: median(bursts.map((b) => b.replicas_written_ms ?? Number.NaN)),
          pods_requested_ms: median(bursts.map((b) => b.pods_requested_ms ?? Number.NaN)),
          first_new_worker_registered_ms: median(bursts.map((b) => b.first_new_worker_registered_ms ?? Number.NaN)),
          first_new_pod_ready_ms: median(bursts.map((b) => b.first_new_pod_ready_ms ?? Number.NaN)),
          drain_s: round(median(bursts.map((b) => b.drain_s!))),
          back_to_minimum_s: round(median(bursts.map((b) => b.back_to_minimum_s!))),
        },
      },
      trace: {
        bursts: o.bursts, tasks_per_burst: o.burstTasks, gap_s: o.gapS, duration_s: round(samples.at(-1)!.t / 1000),
        busy_worker_s: round(busy), worker_pod_s: round(w.live), registered_worker_s: round(w.registered),
        idle_fraction: round((w.live - busy) / busy), direction_changes: directionChanges(samples.slice(1).map((x, i) => ({ from: samples[i]!.replicas, to: x.replicas }))),
        peak_workers: Math.max(...samples.map((s) => s.live)),
      },
      autoscaler_decisions: decisions,
      results_lost: lost,
      sample_ms: SAMPLE_MS,
    };
  } finally {
    await client?.close();
    await operator.stop();
    sim.child.kill('SIGTERM');
  }
}

const peerScript = fileURLToPath(new URL('../../bench/dask_adaptive_peer.py', import.meta.url));
const peerPython = '/usr/bin/python3';

function dask(o: AutoscaleBenchOptions): Record<string, unknown> {
  if (!existsSync(peerPython)) return { error: `${peerPython} not found: install Debian's python3-distributed` };
  const out = spawnSync(peerPython, [peerScript, '--tasks', String(o.tasks), '--task-ms', String(o.taskMs), '--repeat', String(o.repeat),
    '--bursts', String(o.bursts), '--burst-tasks', String(o.burstTasks), '--gap-s', String(o.gapS), '--maximum', String(o.maxWorkers),
    '--target-duration', String(TARGET_DURATION_S)], { encoding: 'utf8', timeout: 900_000 });
  const last = (out.stdout ?? '').trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(last) as Record<string, unknown>;
  } catch {
    return { error: `dask peer failed (exit ${out.status}): ${(out.stderr || last).trim().split('\n').slice(-3).join(' ')}` };
  }
}

export async function autoscaleBench(o: AutoscaleBenchOptions) {
  const kubedask = await ours(o);
  const peer = o.peer ? dask(o) : { error: 'skipped (--no-peer)' };
  return {
    benchmark: 'autoscale',
    node: process.version,
    policy: { targetDuration: `${TARGET_DURATION_S}s`, minReplicas: 1, maxReplicas: o.maxWorkers, threads: 1, behavior: BEHAVIOR },
    kubedask,
    dask_adaptive: peer,
    // From dask-kubernetes' operator (daskautoscaler timer and its scale-down cooldown): a
    // backlog waits up to one poll; a further change waits out the cooldown. Not measured here.
    dask_kubernetes_operator_reference: { poll_interval_s: 5, cooldown_s: 15, expected_request_latency_s: 2.5, worst_request_latency_s: 5 },
  };
}
