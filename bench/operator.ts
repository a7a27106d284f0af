// `kubedask bench operator`: (1) apply-to-Ready latency of a DaskCluster with two workers, on
// kube-sim with its process kubelet and the real operator process; (2) one operator managing
// many DaskClusters (200 by default) on an API without a kubelet: time to converge, reconcile
// p50/p99, and the operator's memory. The API server runs in its own process so the memory
// measured is the operator's. No peer: the Dask operator cannot run here.
import { API_VERSION, type DaskCluster } from '../operator/api/types.js';
import { KubeApi, type KubeObject } from '../operator/k8s/kube-api.js';
import { R } from '../operator/k8s/resources.js';
import { startOperator } from '../operator/main.js';
import { installCrds, startOperatorProcess, startSim, until } from './kube.js';
import { median, percentile } from './stats.js';

export interface OperatorBenchOptions {
  clusters: number;
  repeat: number;
}

const cluster = (name: string, replicas: number): KubeObject => ({
  apiVersion: API_VERSION, kind: 'DaskCluster', metadata: { name },
  spec: {
    scheduler: { resources: { requests: { cpu: '100m', memory: '128Mi' } } },
    workerGroups: [{ name: 'default', replicas, resources: { requests: { cpu: '100m', memory: '128Mi' } } }],
  },
});

const isReady = (c: DaskCluster | undefined) => c?.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True') === true;

/** Apply-to-Ready with real scheduler and worker processes, `repeat` times. */
async function readyLatency(repeat: number) {
  const sim = await startSim(2);
  const operator = startOperatorProcess(sim);
  const api = KubeApi.fromKubeconfig(sim.kubeconfig, { qps: 1000, burst: 1000 });
  try {
    await installCrds(api);
    const seconds: number[] = [];
    for (let i = 0; i < repeat; i++) {
      const name = `latency-${i}`;
      const t0 = performance.now();
      await api.create(R.daskClusters, 'default', cluster(name, 2));
      await until(async () => isReady(await api.get<DaskCluster & KubeObject>(R.daskClusters, 'default', name)), `${name} Ready`, 120_000);
      seconds.push((performance.now() - t0) / 1000);
      await api.delete(R.daskClusters, 'default', name);
      await until(async () => (await api.get(R.daskClusters, 'default', name)) === undefined, `${name} deleted`, 60_000);
    }
    return { runs: seconds.map((s) => Number(s.toFixed(3))), median_s: Number(median(seconds).toFixed(3)) };
  } finally {
    // The operator first, so it does not log the API server going away.
    await operator.stop();
    sim.child.kill('SIGTERM');
  }
}

/** One in-process operator over `count` clusters whose pods never run (no kubelet). */
async function scale(count: number) {
  const sim = await startSim(0);
  const api = KubeApi.fromKubeconfig(sim.kubeconfig, { qps: 1000, burst: 1000 });
  const durations: number[] = [];
  let errors = 0;
  try {
    await installCrds(api);
    const operator = await startOperator({
      api: KubeApi.fromKubeconfig(sim.kubeconfig, { qps: 50, burst: 100, onRequest: () => undefined }),
      namespaces: [], leaderElect: false, leaderElectionNamespace: 'default', leaderElectionId: 'bench', identity: 'bench',
      host: '127.0.0.1', healthPort: 0, metricsPort: 0, qps: 50, burst: 100, resyncMs: 300_000, workers: 4, logLevel: 'error',
      onReconcile: (r) => { durations.push(r.durationMs); if (r.outcome === 'error') errors++; },
    });
    try {
      const t0 = performance.now();
      for (let i = 0; i < count; i++) await api.create(R.daskClusters, 'default', cluster(`c-${i}`, 2));
      // Converged: every cluster observed, its scheduler and both worker pods requested.
      await until(async () => {
        const [clusters, pods] = await Promise.all([
          api.list<DaskCluster & KubeObject>(R.daskClusters, { namespace: 'default' }),
          api.list(R.pods, { namespace: 'default', labelSelector: 'kubedask.io/component=worker' }),
        ]);
        return pods.items.length === count * 2 && clusters.items.every((c) => c.status?.observedGeneration === c.metadata.generation && c.status?.workers === '0/2');
      }, `${count} clusters reconciled`, 600_000, 250);
      const convergeS = (performance.now() - t0) / 1000;
      const sorted = [...durations].sort((a, b) => a - b);
      global.gc?.();
      const mem = process.memoryUsage();
      return {
        clusters: count,
        operator_qps: 50,
        converge_s: Number(convergeS.toFixed(2)),
        reconciles: durations.length,
        reconcile_errors: errors,
        reconcile_ms: { p50: Number(percentile(sorted, 0.5).toFixed(2)), p99: Number(percentile(sorted, 0.99).toFixed(2)) },
        operator_rss_mib: Number((mem.rss / 2 ** 20).toFixed(1)),
        operator_heap_used_mib: Number((mem.heapUsed / 2 ** 20).toFixed(1)),
      };
    } finally {
      await operator.close();
    }
  } finally {
    sim.child.kill('SIGTERM');
  }
}

export async function operatorBench(o: OperatorBenchOptions) {
  const latency = await readyLatency(o.repeat);
  const many = await scale(o.clusters);
  return { benchmark: 'operator', apply_to_ready: latency, many_clusters: many };
}
