// End to end: the operator run as a plain process on the host (`kubedask operator` with the
// sim's kubeconfig, no DNS shim), where the scheduler Service's name does not resolve. It must
// reach the scheduler by port-forward through the API server: status Ready needs Control's
// metrics, a scale-down retires workers through the scheduler, autoscaling needs its stream.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { lookup } from 'node:dns/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { example, liveWorkerPods, readyWithWorkers, repoRoot, startKubeEnv, type KubeEnv, type PodJson, type OperatorProcess } from './kube-env.js';
import type { DaskCluster } from '../../operator/api/types.js';

describe('the operator on the host (no DNS shim) reaches schedulers by port-forward', { timeout: 300_000 }, () => {
  let env: KubeEnv;
  let op: OperatorProcess;
  const manifest = parse(example('cluster.yaml')) as DaskCluster;
  const name = manifest.metadata.name!;
  const want = manifest.spec.workerGroups?.[0]?.replicas ?? 1;

  before(async () => {
    env = await startKubeEnv();
    op = env.startOperator([], { dnsShim: false });
  });
  after(async () => env?.close());

  const cluster = () => env.get<DaskCluster>('daskcluster', name);
  const workers = () => liveWorkerPods(env, name);
  const ready = (count: number) => readyWithWorkers(env, name, count);

  it('the Service name really does not resolve here', async () => {
    await assert.rejects(lookup(`${name}-scheduler.default.svc`), (err: NodeJS.ErrnoException) => ['ENOTFOUND', 'EAI_AGAIN'].includes(err.code ?? ''));
  });

  it('brings examples/cluster.yaml to Ready: the scheduler answered Control through the port-forward', async () => {
    await env.kubectlOk('apply', '-f', join(repoRoot, 'examples', 'cluster.yaml'));
    await env.waitFor(() => ready(want), `cluster ${name} Ready with ${want} workers`, 120_000);
    const c = (await cluster())!;
    const schedulerReady = c.status?.conditions?.find((x) => x.type === 'SchedulerReady');
    assert.equal(schedulerReady?.status, 'True', JSON.stringify(schedulerReady));
    assert.match(op.output(), /reaching it by port-forward/);
  });

  it('kubectl scale dc retires a worker through the scheduler', async () => {
    await env.kubectlOk('scale', `dc/${name}`, '--replicas', '1');
    await env.waitFor(async () => (await workers()).length === 1 && ready(1), '1 worker left', 90_000);
    const events = await env.kubectlOk('get', 'events', '--field-selector', `involvedObject.name=${name}-default`, '-o', 'json');
    assert.match(events, /WorkerRetired/, 'scale-down went through RetireWorkers');
  });

  it('a replaced scheduler pod is found again through the same port-forward', async () => {
    const [old] = await env.list<PodJson & { metadata: { uid: string } }>('pods', 'default', `kubedask.io/cluster=${name},kubedask.io/component=scheduler`);
    await env.kubectlOk('delete', 'pod', old!.metadata.name, '--wait=false');
    const scheduler = async () => (await env.list<PodJson & { metadata: { uid: string } }>('pods', 'default', `kubedask.io/cluster=${name},kubedask.io/component=scheduler`))
      .filter((p) => !p.metadata.deletionTimestamp);
    await env.waitFor(async () => {
      const now = await scheduler();
      return now.length === 1 && now[0]!.metadata.uid !== old!.metadata.uid && ready(1);
    }, 'a new scheduler pod, answering Control, with the worker back', 120_000);
    // Fresh word from the new scheduler: a second worker counts only once it has registered there.
    await env.kubectlOk('scale', `dc/${name}`, '--replicas', '2');
    await env.waitFor(() => ready(2), '2 workers registered with the new scheduler', 90_000);
    assert.equal(op.output().match(/reaching it by port-forward/g)?.length, 1, 'one forward for the cluster, reused');
  });

  it('autoscaling gets the scheduler\'s metrics stream', async () => {
    await env.kubectlOk('patch', 'dc', name, '--type', 'merge', '-p', JSON.stringify({ spec: { autoscaling: { enabled: true } } }));
    await env.waitFor(async () => (await cluster())?.status?.conditions?.some((x) => x.type === 'Autoscaling' && x.status === 'True') === true,
      'the Autoscaling condition True', 60_000);
  });

  it('deleting the cluster closes its port-forward', async () => {
    await env.kubectlOk('delete', 'dc', name, '--wait=true', '--timeout=60s');
    await env.waitFor(async () => (await env.list('pods', 'default', `kubedask.io/cluster=${name}`)).length === 0, 'the pods gone', 60_000);
    await env.waitFor(() => /closed the port-forward to a scheduler/.test(op.output()), 'the operator to close the port-forward', 30_000);
    assert.equal(op.child.exitCode, null, 'the operator still runs');
  });
});
