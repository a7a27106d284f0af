// F: the process kubelet, through the real client library: pods really run, are scheduled
// by capacity (GPUs included), reach each other through Services, and stop gracefully.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { startApiServer, type RunningApiServer } from '../../sim/server/api-server.js';
import { startKubelet, type RunningKubelet } from '../../sim/kubelet/kubelet.js';
import { waitUntil } from '../helpers/wait.js';
import { Client } from '../../index.js';

const serveHttp = `require('http').createServer((q, s) => s.end('hello from ' + process.env.POD_IP)).listen(8080, process.argv[1]);
process.on('SIGTERM', () => { require('fs').writeFileSync(process.argv[2], 'SIGTERM'); process.exit(0); });`;

describe('process kubelet', () => {
  let api: RunningApiServer;
  let kubelet: RunningKubelet;
  let core: k8s.CoreV1Api;
  const dir = mkdtempSync(join(tmpdir(), 'kubelet-test-'));

  before(async () => {
    api = await startApiServer();
    const kubeconfig = join(dir, 'kubeconfig');
    await api.writeKubeconfig(kubeconfig);
    kubelet = await startKubelet({
      server: api.url, kubeconfig, logDir: join(dir, 'logs'),
      nodes: [{ name: 'cpu-node', cpu: '4', memory: '8Gi' }, { name: 'gpu-node', cpu: '4', memory: '8Gi', gpus: 1 }],
      // As `kubedask sim --image node=node --image example.com/tools:1='node -e "..."'`.
      images: { node: ['node'], 'example.com/tools:1': ['node', '-e', 'process.exit(process.argv[1] === "ok" ? 0 : 5)'] },
    });
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(kubeconfig);
    core = kc.makeApiClient(k8s.CoreV1Api);
  });
  after(async () => {
    await kubelet?.close();
    await api?.close();
  });

  const pod = async (name: string) => core.readNamespacedPod({ name, namespace: 'default' });
  const ready = (p: k8s.V1Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

  it('F24: registers its nodes with capacity and a Ready condition', async () => {
    const nodes = await core.listNode();
    const gpu = nodes.items.find((n) => n.metadata?.name === 'gpu-node');
    assert.equal(gpu?.status?.capacity?.['nvidia.com/gpu'], '1');
    assert.equal(gpu?.status?.allocatable?.['nvidia.com/gpu'], '1');
    assert.ok(gpu?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    // Labelled as the NVIDIA GPU operator and GPU feature discovery label a GPU node.
    assert.equal(gpu?.metadata?.labels?.['nvidia.com/gpu.present'], 'true');
    assert.equal(gpu?.metadata?.labels?.['nvidia.com/gpu.count'], '1');
    assert.ok(gpu?.metadata?.labels?.['nvidia.com/gpu.product']);
    const cpu = nodes.items.find((n) => n.metadata?.name === 'cpu-node');
    assert.equal(cpu?.metadata?.labels?.['nvidia.com/gpu.present'], undefined);
    assert.equal(cpu?.status?.capacity?.['nvidia.com/gpu'], undefined, 'no device plugin, no GPU resource');
  });

  it('F24-25: runs a pod as a process on its own address, ready by its probe, reached through a Service', async () => {
    const sigterm = join(dir, 'web.sigterm');
    await core.createNamespacedPod({ namespace: 'default', body: {
      metadata: { name: 'web', labels: { app: 'web' } },
      spec: { terminationGracePeriodSeconds: 5, containers: [{
        name: 'web', image: 'node:20', command: ['node', '-e', serveHttp, '$(POD_IP)', sigterm],
        readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 },
      }] },
    } });
    await waitUntil(async () => ready(await pod('web')), 'web to be Running and Ready');
    const web = await pod('web');
    assert.equal(web.status?.phase, 'Running');
    assert.match(web.status?.podIP ?? '', /^127\.\d+\.\d+\.\d+$/);
    assert.ok(web.spec?.nodeName);
    assert.equal(await (await fetch(`http://${web.status!.podIP}:8080/`)).text(), `hello from ${web.status!.podIP}`);

    await core.createNamespacedService({ namespace: 'default', body: {
      metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 8080 }] },
    } });
    const client = `fetch('http://web.default.svc:8080/').then((r) => r.text()).then((t) => { console.log(t); process.exit(t.startsWith('hello from') ? 0 : 3); }, (e) => { console.error(e); process.exit(4); });`;
    await core.createNamespacedPod({ namespace: 'default', body: {
      metadata: { name: 'caller' },
      spec: { restartPolicy: 'Never', containers: [{ name: 'caller', image: 'node:20', command: ['node', '-e', client] }] },
    } });
    await waitUntil(async () => ['Succeeded', 'Failed'].includes((await pod('caller')).status?.phase ?? ''), 'the caller pod to finish');
    const caller = await pod('caller');
    assert.equal(caller.status?.phase, 'Succeeded', JSON.stringify(caller.status?.containerStatuses));
    assert.equal(caller.status?.containerStatuses?.[0]?.state?.terminated?.exitCode, 0);
  });

  it('F24: leaves a pod that fits no node Pending and Unschedulable, and places one that fits', async () => {
    const gpuPod = (name: string, gpus: number): k8s.V1Pod => ({
      metadata: { name },
      spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'node:20', command: ['node', '-e', 'setTimeout(() => {}, 60000)'],
        resources: { limits: { 'nvidia.com/gpu': String(gpus) } } }] },
    });
    await core.createNamespacedPod({ namespace: 'default', body: gpuPod('too-many-gpus', 2) });
    await waitUntil(async () => (await pod('too-many-gpus')).status?.conditions?.some((c) => c.reason === 'Unschedulable') ?? false, 'an Unschedulable condition');
    const stuck = await pod('too-many-gpus');
    assert.equal(stuck.status?.phase, 'Pending');
    assert.equal(stuck.spec?.nodeName, undefined);
    assert.match(stuck.status?.conditions?.find((c) => c.reason === 'Unschedulable')?.message ?? '', /0\/2 nodes are available: .*Insufficient nvidia\.com\/gpu/);

    // Selecting the GPU label, as the README's GPU example does, places the pod on the GPU node.
    const selecting = gpuPod('one-gpu', 1);
    selecting.spec!.nodeSelector = { 'nvidia.com/gpu.present': 'true' };
    await core.createNamespacedPod({ namespace: 'default', body: selecting });
    await waitUntil(async () => (await pod('one-gpu')).status?.phase === 'Running', 'the one-GPU pod to run');
    assert.equal((await pod('one-gpu')).spec?.nodeName, 'gpu-node');
    await core.deleteNamespacedPod({ name: 'one-gpu', namespace: 'default', gracePeriodSeconds: 0 });
    await core.deleteNamespacedPod({ name: 'too-many-gpus', namespace: 'default', gracePeriodSeconds: 0 });
  });

  it('F26: restarts a failing container under restartPolicy Always, counting restarts', async () => {
    await core.createNamespacedPod({ namespace: 'default', body: {
      metadata: { name: 'crasher' },
      spec: { containers: [{ name: 'c', image: 'node:20', command: ['node', '-e', 'process.exit(7)'] }] },
    } });
    await waitUntil(async () => ((await pod('crasher')).status?.containerStatuses?.[0]?.restartCount ?? 0) >= 2, 'two restarts');
    const st = (await pod('crasher')).status?.containerStatuses?.[0];
    assert.equal(st?.lastState?.terminated?.exitCode, 7);
    await core.deleteNamespacedPod({ name: 'crasher', namespace: 'default', gracePeriodSeconds: 0 });
  });

  it('F26: a container that cannot be created (an argument with a NUL byte) is CreateContainerError, and the kubelet carries on', async () => {
    await core.createNamespacedPod({ namespace: 'default', body: {
      metadata: { name: 'nul-arg' },
      spec: { containers: [{ name: 'c', image: 'node:20', command: ['node', '-e', 'setInterval(() => {}, 1000)', 'a\u0000b'] }] },
    } });
    const waiting = await waitUntil(async () => {
      const w = (await pod('nul-arg')).status?.containerStatuses?.[0]?.state?.waiting;
      return w?.reason === 'CreateContainerError' && w;
    }, 'the container to be waiting in CreateContainerError');
    assert.match(waiting.message ?? '', /null bytes/);
    await waitUntil(async () => (await core.listNamespacedEvent({ namespace: 'default', fieldSelector: 'involvedObject.name=nul-arg' }))
      .items.some((e) => e.reason === 'Failed' && /^Error: .*null bytes/.test(e.message ?? '')), 'the kubelet\'s Failed Event');
    // Still running pods: the failure stayed inside that container's status.
    await core.createNamespacedPod({ namespace: 'default', body: {
      metadata: { name: 'after-nul' }, spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'node:20', command: ['node', '-e', ''] }] },
    } });
    await waitUntil(async () => (await pod('after-nul')).status?.phase === 'Succeeded', 'a later pod to run to completion');
    await core.deleteNamespacedPod({ name: 'nul-arg', namespace: 'default', gracePeriodSeconds: 0 });
    await core.deleteNamespacedPod({ name: 'after-nul', namespace: 'default', gracePeriodSeconds: 0 });
  });

  it('F25: an image it cannot run fails to pull as on a real node: ErrImagePull, then ImagePullBackOff with retries and Events', async () => {
    const image = 'ghcr.io/daskdev/dask:2024.1.0';
    // A `kubedask` command does not make a foreign image the project's.
    await core.createNamespacedPod({ namespace: 'default', body: {
      metadata: { name: 'unpullable' },
      spec: { containers: [{ name: 'worker', image, command: ['kubedask'], args: ['worker', '--scheduler', 'nowhere:8786'] }] },
    } });
    const waiting = async () => (await pod('unpullable')).status?.containerStatuses?.[0]?.state?.waiting;
    await waitUntil(async () => (await waiting())?.reason === 'ImagePullBackOff', 'ImagePullBackOff');
    const p = await pod('unpullable');
    assert.equal(p.status?.phase, 'Pending');
    assert.equal(p.status?.containerStatuses?.[0]?.started, false);
    assert.equal(p.status?.containerStatuses?.[0]?.restartCount, 0);
    assert.match((await waiting())?.message ?? '', /^Back-off pulling image "ghcr\.io\/daskdev\/dask:2024\.1\.0": ErrImagePull: .*--image NAME=COMMAND/);
    const events = async () => (await core.listNamespacedEvent({ namespace: 'default', fieldSelector: 'involvedObject.name=unpullable' })).items;
    const pullFailed = async () => (await events()).find((e) => e.reason === 'Failed' && e.message?.startsWith(`Failed to pull image "${image}"`));
    // The pull is tried again after a back-off, and the same Event counts up rather than repeating.
    await waitUntil(async () => ((await pullFailed())?.count ?? 0) >= 2, 'a second pull attempt');
    const all = await events();
    for (const [reason, message] of [['Failed', 'Error: ErrImagePull'], ['BackOff', `Back-off pulling image "${image}"`], ['Failed', 'Error: ImagePullBackOff'], ['Pulling', `Pulling image "${image}"`]]) {
      const e = all.find((x) => x.reason === reason && x.message === message);
      assert.ok(e, `an Event ${reason}: ${message}`);
      assert.equal(e.involvedObject.fieldPath, 'spec.containers{worker}');
      assert.equal(e.source?.component, 'kubelet');
    }
    assert.equal(all.filter((e) => e.reason === 'Failed' && e.message?.startsWith('Failed to pull image')).length, 1);
    assert.equal((await pullFailed())?.type, 'Warning');
    await core.deleteNamespacedPod({ name: 'unpullable', namespace: 'default', gracePeriodSeconds: 0 });
  });

  it('F25: an image mapped to a local command runs it as its entrypoint', async () => {
    await core.createNamespacedPod({ namespace: 'default', body: {
      metadata: { name: 'mapped' },
      spec: { restartPolicy: 'Never', containers: [{ name: 'tool', image: 'example.com/tools:1', args: ['ok'] }] },
    } });
    await waitUntil(async () => ['Succeeded', 'Failed'].includes((await pod('mapped')).status?.phase ?? ''), 'the mapped image to run');
    assert.equal((await pod('mapped')).status?.phase, 'Succeeded');
    await core.deleteNamespacedPod({ name: 'mapped', namespace: 'default', gracePeriodSeconds: 0 });
  });

  it('F26: a deleted pod gets SIGTERM, and its object goes once the process is gone', async () => {
    const web = await pod('web');
    const logs = join(dir, 'logs', `default_web_${web.metadata!.uid}`);
    assert.ok(existsSync(logs), 'the running pod has its log folder');
    await core.deleteNamespacedPod({ name: 'web', namespace: 'default' });
    await waitUntil(async () => {
      try { await pod('web'); return false; } catch { return true; }
    }, 'the pod object to be removed');
    await waitUntil(() => !existsSync(logs), 'the deleted pod\'s log folder to be removed');
    const { readFileSync } = await import('node:fs');
    assert.equal(readFileSync(join(dir, 'web.sigterm'), 'utf8'), 'SIGTERM');
    await assert.rejects(fetch(`http://${web.status!.podIP}:8080/`));
  });

  it('F25: runs the project image as this checkout: a scheduler pod, its Service, and a worker pod that finds it by DNS name', async () => {
    const image = 'ghcr.io/kubedask/kubedask:dev';
    await core.createNamespacedPod({ namespace: 'default', body: {
      metadata: { name: 'dask-scheduler', labels: { app: 'dask-scheduler' } },
      spec: { terminationGracePeriodSeconds: 5, containers: [{
        name: 'scheduler', image, args: ['scheduler', '--host', '$(POD_IP)', '--port', '8786', '--dashboard-port', '8787'],
        readinessProbe: { grpc: { port: 8786 }, periodSeconds: 1 },
      }] },
    } });
    await core.createNamespacedService({ namespace: 'default', body: {
      metadata: { name: 'dask-scheduler' }, spec: { selector: { app: 'dask-scheduler' }, ports: [{ name: 'grpc', port: 8786 }] },
    } });
    await waitUntil(async () => ready(await pod('dask-scheduler')), 'the scheduler pod to be ready');
    await core.createNamespacedPod({ namespace: 'default', body: {
      metadata: { name: 'dask-worker' },
      spec: { terminationGracePeriodSeconds: 5, containers: [{
        name: 'worker', image, args: ['worker', '--scheduler', 'dask-scheduler.default.svc:8786', '--host', '$(POD_IP)', '--nthreads', '1', '--name', '$(POD_NAME)'],
        env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
      }] },
    } });
    const address = `${(await pod('dask-scheduler')).status!.podIP}:8786`;
    const client = await Client.connect(address);
    try {
      await waitUntil(async () => (await client.clusterInfo()).workers.length === 1, 'the worker pod to register with the scheduler');
      const [worker] = (await client.clusterInfo()).workers;
      assert.equal(worker!.name, 'dask-worker');
      assert.equal(worker!.address!.split(':')[0], (await pod('dask-worker')).status!.podIP);
      assert.equal(await client.submit((x: number) => x * 2, 21).result(), 42);
    } finally {
      await client.close();
      await core.deleteNamespacedPod({ name: 'dask-worker', namespace: 'default' });
      await core.deleteNamespacedPod({ name: 'dask-scheduler', namespace: 'default' });
    }
  });
});
