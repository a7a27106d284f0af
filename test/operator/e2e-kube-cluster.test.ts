// End to end: KubeCluster from this test process, which is outside the sim's pod network (no
// DNS shim here): it creates a DaskCluster, waits for Ready, reaches the scheduler through the
// API server's pod port-forward, computes, scales, adapts and closes, leaving nothing behind.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Client, KubeCluster, KubeClusterError } from '../../index.js';
import { startKubeEnv, type KubeEnv } from './kube-env.js';
import { applyPolicy } from './autoscale-env.js';
import { waitUntil } from '../helpers/wait.js';
import { kubectlPortForward } from '../helpers/port-forward.js';
import { parsePrometheus, sampleValue } from '../helpers/prometheus.js';
import { names, PORTS, type DaskCluster } from '../../operator/api/types.js';
import { WORKER_METRICS_PORT } from '../../operator/builders/worker-pod.js';

const small = { requests: { cpu: '100m', memory: '128Mi' } };
const sumOfSquares = (n: number) => Array.from({ length: n }, (_, i) => i * i).reduce((a, b) => a + b, 0);

async function compute(client: Client, n: number): Promise<number> {
  const squares = client.map((x: number) => x * x, Array.from({ length: n }, (_, i) => i));
  return client.submit((xs: number[]) => xs.reduce((a, b) => a + b, 0), squares).result() as Promise<number>;
}

describe('KubeCluster on kube-sim, from outside its pod network', { timeout: 400_000 }, () => {
  let env: KubeEnv;
  let cluster: KubeCluster | undefined;
  const name = 'kc';
  const workersOf = async (c: KubeCluster) => (await c.client.clusterInfo()).workers.length;
  const leftovers = async () => {
    const lists = await Promise.all(['pods', 'services', 'deployments', 'daskworkergroups'].map((r) => env.list(r, 'default', `kubedask.io/cluster=${name}`)));
    return lists.flat().length + ((await env.get('daskcluster', name)) ? 1 : 0);
  };
  const secretNames = async () => (await env.list<{ metadata: { name: string } }>('secrets', 'default')).map((s) => s.metadata.name).sort();

  before(async () => {
    env = await startKubeEnv({ nodes: [{ name: 'node-a', cpu: '16', memory: '32Gi' }] });
    env.startOperator();
    // Quick scale-down after a burst, so adapt() is seen to shrink within the test's time.
    await applyPolicy(env, 'kc-policy', {
      namespaces: ['default'],
      behavior: {
        scaleUp: { stabilizationWindowSeconds: 0, policies: [{ type: 'Pods', value: 4, periodSeconds: 5 }] },
        scaleDown: { stabilizationWindowSeconds: 5, policies: [{ type: 'Percent', value: 100, periodSeconds: 5 }] },
      },
    });
  });
  after(async () => {
    await cluster?.close().catch(() => undefined);
    await env?.close();
  });

  let secretsBefore: string[] = [];

  it('create() makes the DaskCluster, waits for Ready and connects through a port-forward', async () => {
    secretsBefore = await secretNames();
    cluster = await KubeCluster.create({
      name, kubeconfig: env.kubeconfig, workers: 1, threads: 2, resources: small, schedulerResources: small, timeoutMs: 120_000,
    });
    assert.match(cluster.address, /^127\.0\.0\.1:\d+$/);
    // The dashboard is forwarded too: the scheduler's own URL names the in-cluster address.
    assert.match(cluster.dashboardLink, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await fetch(cluster.dashboardLink);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /kubedask/i);
    assert.equal(cluster.namespace, 'default');
    assert.equal(cluster.owned, true);
    assert.equal(await compute(cluster.client, 20), sumOfSquares(20));
    assert.equal(await workersOf(cluster), 1);
    const dc = (await env.get<DaskCluster>('daskcluster', name))!;
    assert.equal(dc.spec.workerGroups?.[0]?.threads, 2);
    assert.equal(dc.status?.dashboardURL, `http://${name}-scheduler.default.svc:8787`, 'status.dashboardURL names the in-cluster dashboard');
    // A second Client reaches the same scheduler through the cluster's address.
    const other = await Client.connect(cluster);
    try {
      assert.equal((await other.clusterInfo()).workers.length, 1);
    } finally {
      await other.close();
    }
  });

  it('`kubectl port-forward` reaches the dashboard through the scheduler Service, and a worker pod\'s metrics', async () => {
    const dashboard = await kubectlPortForward(env.kubeconfig, [`svc/${names.scheduler(name)}`, `:${PORTS.dashboard}`]);
    try {
      const page = await fetch(`http://127.0.0.1:${dashboard.port}/`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /kubedask/i);
    } finally {
      await dashboard.stop();
    }
    // The worker ran the tasks above: its metrics port (container port `metrics`) counts them.
    const [worker] = await env.list<{ metadata: { name: string } }>('pods', 'default', `kubedask.io/cluster=${name},kubedask.io/component=worker`);
    assert.ok(worker, 'a worker pod');
    const metrics = await kubectlPortForward(env.kubeconfig, [`pod/${worker.metadata.name}`, `:${WORKER_METRICS_PORT}`]);
    try {
      const families = parsePrometheus(await (await fetch(`http://127.0.0.1:${metrics.port}/metrics`)).text());
      assert.equal(sampleValue(families, 'kubedask_worker_info', { worker: worker.metadata.name, group: 'default' }), 1);
      const ran = (families.get('kubedask_worker_tasks_total')?.samples ?? []).reduce((n, x) => n + x.value, 0);
      assert.ok(ran > 0, `the worker counted the tasks it ran: ${ran}`);
    } finally {
      await metrics.stop();
    }
  });

  it('create() of a name that exists says to attach', async () => {
    await assert.rejects(KubeCluster.create({ name, kubeconfig: env.kubeconfig }), (err: Error) =>
      err instanceof KubeClusterError && /already exists: use KubeCluster\.attach\('kc', 'default'\)/.test(err.message));
  });

  it('scale(n) sets spec.replicas (the scale subresource\'s field): up to 3 workers, then down to 1', async () => {
    const c = cluster!;
    await c.scale(3);
    assert.equal((await env.get<DaskCluster>('daskcluster', name))!.spec.replicas, 3);
    await waitUntil(async () => (await workersOf(c)) === 3, '3 workers connected', 90_000);
    assert.equal(await compute(c.client, 50), sumOfSquares(50));
    await c.scale(1);
    await waitUntil(async () => (await workersOf(c)) === 1, '1 worker left', 90_000);
    assert.equal(await compute(c.client, 10), sumOfSquares(10));
  });

  it('adapt() hands the size to the autoscaler: it grows under load and shrinks back', async () => {
    const c = cluster!;
    await c.adapt({ minimum: 1, maximum: 3, targetDuration: '2s' });
    const dc = (await env.get<DaskCluster>('daskcluster', name))!;
    assert.equal(dc.spec.autoscaling?.enabled, true);
    assert.deepEqual([dc.spec.workerGroups?.[0]?.minReplicas, dc.spec.workerGroups?.[0]?.maxReplicas], [1, 3]);
    await env.waitFor(async () => (await env.get<DaskCluster>('daskcluster', name))?.status?.conditions?.some((x) => x.type === 'Autoscaling' && x.status === 'True') === true,
      'Autoscaling True', 60_000);
    let peak = 1;
    // Busy tasks, named: the scheduler sizes the group from the measured durations of a task
    // group, which is the function's name (the anonymous tasks above share one, and take ~0 ms).
    function busyQuarterSecond(i: number): number { const end = Date.now() + 250; while (Date.now() < end); return i; }
    const busy = c.client.map(busyQuarterSecond, Array.from({ length: 200 }, (_, i) => i));
    const seen = new Set<string>();
    const grew = env.waitFor(async () => {
      const auto = (await c.resource())?.status?.conditions?.find((x) => x.type === 'Autoscaling');
      if (auto) seen.add(auto.message);
      return (peak = Math.max(peak, await workersOf(c))) > 1;
    }, 'more than one worker while the burst ran', 90_000).catch((err: Error) => { throw new Error(`${err.message}\n--- Autoscaling said: ${[...seen].join(' | ')}`, { cause: err }); });
    grew.catch(() => undefined); // awaited below; this only keeps an early failure from going unhandled
    const results = await c.client.gather(busy);
    await grew;
    assert.deepEqual(results, Array.from({ length: 200 }, (_, i) => i));
    assert.ok(peak <= 3, `within [1, 3]: ${peak}`);
    await env.waitFor(async () => (await workersOf(c)) === 1, 'back to the minimum of 1 worker', 120_000);
  });

  it('scale(1) after adapt(), while the autoscaler has grown the group: the fixed size wins', async () => {
    const c = cluster!;
    type Group = { spec: { replicas?: number } };
    const groupReplicas = async () => (await env.get<Group>('daskworkergroup', `${name}-default`))?.spec.replicas;
    function busyFifthSecond(i: number): number { const end = Date.now() + 200; while (Date.now() < end); return i; }
    const busy = c.client.map(busyFifthSecond, Array.from({ length: 200 }, (_, i) => i));
    await env.waitFor(async () => (await groupReplicas() ?? 0) > 1, 'the autoscaler growing the group under the burst', 90_000);
    await c.scale(1);
    const dc = (await env.get<DaskCluster>('daskcluster', name))!;
    assert.deepEqual([dc.spec.replicas, dc.spec.autoscaling?.enabled], [1, false]);
    // While the burst still runs, so no autoscaler scale-down could be what brought it back.
    await env.waitFor(async () => (await groupReplicas()) === 1, 'the group back to 1 replica', 30_000);
    assert.deepEqual(await c.client.gather(busy), Array.from({ length: 200 }, (_, i) => i));
    await env.waitFor(async () => (await workersOf(c)) === 1, '1 worker left', 90_000);
  });

  it('a replaced scheduler pod is reached again at the same address', async () => {
    const c = cluster!;
    type P = { metadata: { name: string; uid: string; deletionTimestamp?: string } };
    const scheduler = async () => (await env.list<P>('pods', 'default', `kubedask.io/cluster=${name},kubedask.io/component=scheduler`)).filter((p) => !p.metadata.deletionTimestamp);
    const [old] = await scheduler();
    await env.kubectlOk('delete', 'pod', old!.metadata.name, '--wait=false');
    await env.waitFor(async () => (await scheduler()).some((p) => p.metadata.uid !== old!.metadata.uid), 'a new scheduler pod', 60_000);
    let client: Client | undefined;
    await env.waitFor(async () => {
      client ??= await Client.connect(c, { timeoutMs: 2_000 }).catch(() => undefined);
      if (!client) return false;
      // A client that reached a scheduler on its way out starts over.
      const info = await client.clusterInfo().catch(async () => { await client?.close().catch(() => undefined); client = undefined; });
      return info !== undefined && info.workers.length >= 1;
    }, 'a client through the same address, with a worker registered at the new scheduler', 120_000);
    try {
      assert.equal(await compute(client!, 10), sumOfSquares(10));
    } finally {
      await client!.close();
    }
  });

  it('close() deletes what create() made and waits until it is gone: nothing left behind', async () => {
    await cluster!.close();
    assert.equal(await leftovers(), 0);
    assert.deepEqual(await secretNames(), secretsBefore, 'no Secret made or left');
    await assert.rejects(cluster!.scale(2), /is closed/);
    cluster = undefined;
  });

  it('create() of a cluster whose image cannot be pulled fails at once, naming it, and deletes the cluster again', async () => {
    const started = Date.now();
    await assert.rejects(KubeCluster.create({ name: 'bad-image', kubeconfig: env.kubeconfig, image: 'ghcr.io/daskdev/dask:latest', resources: small, schedulerResources: small, timeoutMs: 120_000 }),
      (err: Error) => err instanceof KubeClusterError && /failed to start: .*Degraded=True \((ErrImagePull|ImagePullBackOff)\).*ghcr\.io\/daskdev\/dask:latest.*; deleted it again$/s.test(err.message));
    const took = Date.now() - started;
    assert.ok(took < 30_000, `it failed at once, not after the 120 s timeout: ${took} ms`);
    // create() waited for the deletion: nothing of it is left when it rejects.
    assert.equal(await env.get('daskcluster', 'bad-image'), undefined);
    assert.deepEqual(await env.list('pods', 'default', 'kubedask.io/cluster=bad-image'), []);
  });

  it('create() in a namespace that does not exist says so (not that the CRDs are missing)', async () => {
    await assert.rejects(KubeCluster.create({ name: 'nowhere', namespace: 'no-such-ns', kubeconfig: env.kubeconfig }),
      (err: Error) => err instanceof KubeClusterError && /^namespace no-such-ns does not exist/.test(err.message));
  });

  it('attach() connects to a cluster made elsewhere; its close() only disconnects', async () => {
    await env.apply(JSON.stringify({
      apiVersion: 'kubedask.io/v1alpha1', kind: 'DaskCluster', metadata: { name: 'made-elsewhere' },
      spec: { scheduler: { resources: small }, workerGroups: [{ name: 'default', replicas: 1, resources: small }] },
    }));
    const attached = await KubeCluster.attach('made-elsewhere', 'default', { kubeconfig: env.kubeconfig, timeoutMs: 120_000 });
    try {
      assert.equal(attached.owned, false);
      assert.equal(await compute(attached.client, 5), sumOfSquares(5));
    } finally {
      await attached.close();
    }
    assert.ok(await env.get('daskcluster', 'made-elsewhere'), 'still there');
    await assert.rejects(KubeCluster.attach('nope', 'default', { kubeconfig: env.kubeconfig }), /DaskCluster default\/nope not found/);
  });

  it('a process interrupted (SIGINT) after create() deletes the cluster it made; shutdownOnExit: false keeps it', async () => {
    const index = new URL('../../index.js', import.meta.url).href;
    const run = (cluster: string, keep: boolean) => {
      const code = `import { KubeCluster } from ${JSON.stringify(index)};
        await KubeCluster.create({ name: ${JSON.stringify(cluster)}, kubeconfig: ${JSON.stringify(env.kubeconfig)}, resources: ${JSON.stringify(small)},
          schedulerResources: ${JSON.stringify(small)}, timeoutMs: 120000${keep ? ', shutdownOnExit: false' : ''} });
        console.log('created');
        setInterval(() => undefined, 1000); // works on until interrupted`;
      const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
      const created = new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => { if (d.toString().includes('created')) resolve(); });
        void exited.then(() => reject(new Error(`the child for ${cluster} exited before creating its cluster`)));
      });
      return { child, exited, created };
    };
    const interrupted = run('interrupted', false);
    await interrupted.created;
    interrupted.child.kill('SIGINT');
    assert.equal(await interrupted.exited, 'SIGINT', 'the signal still ends the process');
    const dc = await env.get<DaskCluster>('daskcluster', 'interrupted');
    assert.ok(!dc || dc.metadata.deletionTimestamp, 'deleted before the process ended');
    await env.waitFor(async () => (await env.get('daskcluster', 'interrupted')) === undefined, 'the interrupted cluster gone', 60_000);

    const kept = run('kept', true);
    await kept.created;
    kept.child.kill('SIGINT');
    assert.equal(await kept.exited, 'SIGINT');
    const still = await env.get<DaskCluster>('daskcluster', 'kept');
    assert.ok(still && !still.metadata.deletionTimestamp, 'shutdownOnExit: false leaves it running');
    await env.kubectlOk('delete', 'daskcluster', 'kept', '--wait=false');
  });
});
