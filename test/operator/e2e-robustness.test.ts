// The operator under trouble: killed mid-reconcile and restarted, API faults (dropped watches,
// 410, 409, 5xx, 429), and manifests the schema accepts that cannot work.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startKubeEnv, type KubeEnv, type OperatorProcess } from './kube-env.js';
import type { DaskCluster } from '../../operator/api/types.js';

interface PodJson { metadata: { name: string; uid: string; deletionTimestamp?: string } }

const clusterYaml = (name: string, replicas: number, extra = '') => `apiVersion: kubedask.io/v1alpha1
kind: DaskCluster
metadata: {name: ${name}}
spec:
  scheduler: {resources: {requests: {cpu: 100m, memory: 128Mi}}}
  workerGroups:
    - name: default
      replicas: ${replicas}
      resources: {requests: {cpu: 100m, memory: 128Mi}}
${extra}`;

describe('operator robustness', { timeout: 300_000 }, () => {
  let env: KubeEnv;
  let operator: OperatorProcess;
  const seen = new Map<string, Set<string>>(); // cluster -> every worker pod uid ever listed

  before(async () => {
    env = await startKubeEnv();
  });
  after(async () => env?.close());
  const cluster = (name: string) => env.get<DaskCluster>('daskcluster', name);
  const workers = async (name: string) => {
    const pods = await env.list<PodJson>('pods', 'default', `kubedask.io/cluster=${name},kubedask.io/component=worker`);
    const uids = seen.get(name) ?? new Set();
    for (const p of pods) uids.add(p.metadata.uid);
    seen.set(name, uids);
    return pods.filter((p) => !p.metadata.deletionTimestamp);
  };
  const readyWith = async (name: string, n: number) => {
    const c = await cluster(name);
    return c?.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True') === true && c.status?.readyWorkers === n;
  };
  const condition = async (name: string, type: string) => (await cluster(name))?.status?.conditions?.find((c) => c.type === type);

  it('killed mid-reconcile and restarted, the operator creates no duplicate pods', async () => {
    operator = env.startOperator();
    await env.apply(clusterYaml('restart', 4));
    await env.waitFor(async () => (await workers('restart')).length >= 1, `first worker pod created`, 60_000);
    assert.equal(await operator.stop('SIGKILL'), 'SIGKILL');
    operator = env.startOperator();
    await env.waitFor(() => readyWith('restart', 4), `cluster Ready with 4 workers after restart`, 120_000);
    const pods = await workers('restart');
    assert.equal(pods.length, 4);
    assert.equal(seen.get('restart')!.size, 4, 'no worker pod was created beyond the four');
    const schedulers = await env.list('deployments', 'default', 'kubedask.io/cluster=restart');
    assert.equal(schedulers.length, 1);
  });

  it('survives dropped watches, 410 Gone, 409 conflicts, 5xx and 429 from the API', async () => {
    const faults = env.api.faults;
    faults.dropWatches();
    faults.compact();
    // The operator's own writes fail for a while: pod creations, status writes, group updates.
    faults.next({ status: 500, count: 3, match: (m, p) => m === 'POST' && p.includes('/pods') });
    faults.next({ status: 409, count: 2, match: (m, p) => m === 'PATCH' && p.includes('/status') });
    faults.next({ status: 429, retryAfterSeconds: 1, count: 3, match: (m, p) => m === 'GET' && p.includes('daskclusters') });
    faults.next({ status: 503, count: 2, match: (m, p) => m === 'GET' && p.includes('watch') });
    await env.kubectlOk('scale', 'dwg/restart-default', '--replicas', '2');
    faults.dropWatches();
    await env.waitFor(async () => (await workers('restart')).length === 2 && readyWith('restart', 2), `scaled to 2 through the faults`, 120_000);
    await env.kubectlOk('scale', 'dwg/restart-default', '--replicas', '3');
    faults.compact();
    faults.dropWatches();
    await env.waitFor(async () => (await workers('restart')).length === 3 && readyWith('restart', 3), `scaled to 3 after 410`, 120_000);
    assert.ok(faults.injected >= 5, `faults injected: ${faults.injected}`);
    await env.kubectlOk('delete', 'dc', 'restart', '--wait=true', '--timeout=60s');
  });

  it('a worker image that exits at once ends in a Degraded condition with the reason, not a hot loop', async () => {
    await env.apply(clusterYaml('crashing', 1, `      template:
        spec:
          containers: [{name: worker, command: [node, -e, "console.error('boom'); process.exit(3)"]}]
`));
    let snapshot: DaskCluster | undefined;
    await env.waitFor(async () => {
      snapshot = await cluster('crashing');
      return snapshot?.status?.conditions?.some((c) => c.type === 'Degraded' && c.status === 'True') === true;
    }, 'Degraded condition', 90_000);
    const of = (type: string) => snapshot!.status!.conditions!.find((c) => c.type === type)!;
    assert.match(of('Degraded').reason, /CrashLoopBackOff|Error/);
    assert.match(of('Degraded').message, /exit code 3/);
    assert.equal(snapshot!.status!.phase, 'Failed');
    assert.equal(of('Ready').status, 'False');
    // It stays so across restarts rather than flipping with each one.
    const since = of('Degraded').lastTransitionTime;
    await env.waitFor(async () => ((await env.list<{ status?: { containerStatuses?: { restartCount?: number }[] } }>('pods', 'default', 'kubedask.io/cluster=crashing,kubedask.io/component=worker'))[0]?.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 3, 'three restarts', 60_000);
    assert.equal((await condition('crashing', 'Degraded'))?.lastTransitionTime, since);
    // Not a hot loop: the crashing group keeps one pod (restarted by the kubelet), no new ones.
    const pods = await workers('crashing');
    assert.equal(pods.length, 1);
    assert.equal(seen.get('crashing')!.size, 1);
    await env.kubectlOk('delete', 'dc', 'crashing', '--wait=true', '--timeout=60s');
  });

  it('a resource no node has ends in a condition naming it, and no extra pods are requested', async () => {
    await env.apply(clusterYaml('gpuless', 2, '      gpus: 1\n'));
    await env.waitFor(async () => (await condition('gpuless', 'Degraded'))?.reason === 'Unschedulable', `Unschedulable condition`, 90_000);
    assert.match((await condition('gpuless', 'Degraded'))!.message, /nvidia\.com\/gpu/);
    assert.equal((await workers('gpuless')).length, 2);
    assert.equal(seen.get('gpuless')!.size, 2);
    await env.kubectlOk('delete', 'dc', 'gpuless', '--wait=true', '--timeout=60s');
  });
});
