// End to end: the real operator process against kube-sim with the process kubelet. kubectl
// applies examples/cluster.yaml; the scheduler and workers run as processes; status tells the
// truth; a client computes on the cluster; scale, a spec edit and delete all reach the pods.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parse } from 'yaml';
import { Client } from '../../index.js';
import { example, liveWorkerPods, readyWithWorkers, repoRoot, startKubeEnv, type KubeEnv, type PodJson } from './kube-env.js';
import type { DaskCluster, DaskWorkerGroup } from '../../operator/api/types.js';

describe('operator end to end: DaskCluster', { timeout: 300_000 }, () => {
  let env: KubeEnv;

  const manifest = parse(example('cluster.yaml')) as DaskCluster;
  const name = manifest.metadata.name!;
  const groupName = `${name}-${manifest.spec.workerGroups?.[0]?.name ?? 'default'}`;

  before(async () => {
    env = await startKubeEnv();
    env.startOperator();
  });
  after(async () => env?.close());

  const cluster = () => env.get<DaskCluster>('daskcluster', name);
  const workers = () => liveWorkerPods(env, name);
  const ready = (count: number) => readyWithWorkers(env, name, count);

  it('kubectl apply of examples/cluster.yaml brings up the scheduler and workers, Ready with the true counts', async () => {
    await env.kubectlOk('apply', '-f', join(repoRoot, 'examples', 'cluster.yaml'));
    const want = manifest.spec.workerGroups?.[0]?.replicas ?? 1;
    await env.waitFor(() => ready(want), `cluster ${name} Ready with ${want} workers`, 120_000);
    const c = (await cluster())!;
    assert.equal(c.status?.phase, 'Running');
    assert.equal(c.status?.workers, `${want}/${want}`);
    assert.equal(c.status?.schedulerAddress, `${name}-scheduler.default.svc:8786`);
    assert.equal((await workers()).length, want);
    const scheduler = await env.list<PodJson>('pods', 'default', `kubedask.io/cluster=${name},kubedask.io/component=scheduler`);
    assert.equal(scheduler.length, 1);
    const table = await env.kubectlOk('get', 'dc', name);
    assert.match(table, /PHASE/);
    assert.match(table, new RegExp(`${name}\\s+Running\\s+${want}/${want}`));
  });

  it('a client connects to the address in status and runs a computation', async () => {
    const c = (await cluster())!;
    const client = await Client.connect(await env.resolve(c.status!.schedulerAddress!));
    try {
      const squares = client.map((x: number) => x * x, Array.from({ length: 20 }, (_, i) => i));
      const total = client.submit((xs: number[]) => xs.reduce((a, b) => a + b, 0), squares);
      assert.equal(await total.result(), Array.from({ length: 20 }, (_, i) => i * i).reduce((a, b) => a + b, 0));
      assert.equal((await client.clusterInfo()).workers.length, c.status!.readyWorkers);
    } finally {
      await client.close();
    }
  });

  it('kubectl scale on the worker group changes the workers, draining through the scheduler on the way down', async () => {
    await env.kubectlOk('scale', `dwg/${groupName}`, '--replicas', '3');
    await env.waitFor(() => ready(3), `3 workers ready`, 90_000);
    assert.equal((await workers()).length, 3);
    await env.kubectlOk('scale', `dwg/${groupName}`, '--replicas', '1');
    await env.waitFor(async () => (await workers()).length === 1 && ready(1), `1 worker left`, 90_000);
    const events = await env.kubectlOk('get', 'events', '--field-selector', `involvedObject.name=${groupName}`, '-o', 'json');
    assert.match(events, /WorkerRetired/, 'scale-down went through RetireWorkers');
    const g = (await env.get<DaskWorkerGroup>('dwg', groupName))!;
    assert.equal(g.spec.replicas, 1);
    assert.equal(g.status?.readyReplicas, 1);
  });

  it('a spec edit rolls the pods: new workers from the new template, a new scheduler; kubectl scale sticks', async () => {
    const before = await workers();
    const schedBefore = (await env.list<PodJson>('pods', 'default', `kubedask.io/cluster=${name},kubedask.io/component=scheduler`))[0]!;
    // The cluster's replicas stay as applied, so the group keeps the size kubectl scale gave it.
    const groups = (manifest.spec.workerGroups ?? [{ name: 'default' }]).map((g) => ({ ...g, threads: 2 }));
    await env.kubectlOk('patch', 'dc', name, '--type', 'merge', '-p', JSON.stringify({
      spec: { workerGroups: groups, scheduler: { resources: { requests: { cpu: '150m', memory: '200Mi' } } } },
    }));
    await env.waitFor(async () => {
      const now = await workers();
      const sched = await env.list<PodJson>('pods', 'default', `kubedask.io/cluster=${name},kubedask.io/component=scheduler`);
      return now.length === 1 && now.every((p) => !before.some((b) => b.metadata.uid === p.metadata.uid))
        && sched.length === 1 && sched[0]!.metadata.uid !== schedBefore.metadata.uid && ready(1);
    }, `workers and scheduler replaced`, 120_000);
    const c = (await cluster())!;
    assert.equal(c.status?.groups?.[0]?.outdated, 0);
    const client = await Client.connect(await env.resolve(c.status!.schedulerAddress!));
    try {
      const info = await client.clusterInfo();
      assert.equal(info.workers.length, 1);
      assert.ok(info.workers.every((w) => w.nthreads === 2), JSON.stringify(info.workers));
    } finally {
      await client.close();
    }
  });

  it('kubectl delete leaves no pods, services, deployments or groups behind', async () => {
    await env.kubectlOk('delete', 'dc', name, '--wait=true', '--timeout=60s');
    await env.waitFor(async () => {
      const left = await Promise.all(['pods', 'services', 'deployments', 'daskworkergroups'].map((r) => env.list(r, 'default', `kubedask.io/cluster=${name}`)));
      return left.every((l) => l.length === 0);
    }, `everything of ${name} gone`, 60_000);
    assert.equal(await cluster(), undefined);
  });

  it('never repeats an Event: the same reason and message about one object is one Event with a count', async () => {
    type Ev = { involvedObject: { uid?: string; kind?: string; name?: string }; reason: string; message: string; count: number };
    const { items } = JSON.parse(await env.kubectlOk('get', 'events', '-A', '-o', 'json')) as { items: Ev[] };
    assert.ok(items.length > 0, 'the operator recorded events');
    const byKey = new Map<string, number>();
    for (const e of items) {
      const key = `${e.involvedObject.kind}/${e.involvedObject.name} (${e.involvedObject.uid}) ${e.reason}: ${e.message}`;
      byKey.set(key, (byKey.get(key) ?? 0) + 1);
    }
    assert.deepEqual([...byKey].filter(([, n]) => n > 1), [], 'Events recorded more than once instead of counted');
  });
});
