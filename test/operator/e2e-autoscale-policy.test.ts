// End to end: what a DaskAutoscalingPolicy does to the built-in autoscaler, on kube-sim with the
// process kubelet and real processes. GPU work scales only the GPU group, within the policy's
// GPU limit and without asking for capacity no node has; an idle cluster goes to zero workers
// (keeping a worker whose data has nowhere to go) and is then deleted.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '../../index.js';
import { startKubeEnv, type KubeEnv, type OperatorProcess } from './kube-env.js';
import { applyCluster, applyPolicy, createNamespace, decisions } from './autoscale-env.js';
import { recordedSleep, runCounts } from '../../bench/autoscale-trace.js';
import type { DaskCluster, DaskWorkerGroup } from '../../operator/api/types.js';

interface PodJson {
  metadata: { name: string; deletionTimestamp?: string };
  status?: { conditions?: { type: string; status: string; reason?: string }[] };
}

describe('autoscaler end to end: policies', { timeout: 300_000 }, () => {
  let env: KubeEnv;
  let op: OperatorProcess;
  const dir = mkdtempSync(join(tmpdir(), 'kubedask-autoscale-policy-'));

  const pods = async (ns: string, selector: string) => (await env.list<PodJson>('pods', ns, selector)).filter((p) => !p.metadata.deletionTimestamp);
  const condition = async (ns: string, name: string, type: string) =>
    (await env.get<DaskCluster>('daskcluster', name, ns))?.status?.conditions?.find((c) => c.type === type);

  before(async () => {
    env = await startKubeEnv({ nodes: [{ name: 'node-a', cpu: '16', memory: '32Gi' }, { name: 'gpu-node', cpu: '8', memory: '16Gi', gpus: 2 }] });
    op = env.startOperator();
  });
  after(async () => env?.close());

  it('a backlog of GPU-only tasks scales only the GPU group, never asks for GPUs no node has, and keeps the namespace GPU limit', async () => {
    const ns = 'gpu';
    await createNamespace(env, ns);
    const scaleUp = { stabilizationWindowSeconds: 0, policies: [{ type: 'Pods' as const, value: 1, periodSeconds: 2 }] };
    const scaleDown = { stabilizationWindowSeconds: 0, policies: [{ type: 'Percent' as const, value: 100, periodSeconds: 1 }] };
    await applyPolicy(env, 'gpu-policy', { namespaces: [ns], limits: { maxGpusPerNamespace: 4 }, behavior: { scaleUp, scaleDown } });
    // Another team's cluster takes one of the node's two GPUs.
    await env.apply(JSON.stringify({
      apiVersion: 'kubedask.io/v1alpha1', kind: 'DaskCluster', metadata: { name: 'other', namespace: ns },
      spec: { workerGroups: [{ name: 'gpu', replicas: 1, gpus: 1, resources: { requests: { cpu: '100m', memory: '128Mi' } } }] },
    }));
    await env.waitFor(async () => (await env.get<DaskCluster>('daskcluster', 'other', ns))?.status?.readyWorkers === 1, 'the other cluster holding a GPU', 120_000);
    await applyCluster(env, ns, 'train', [
      { name: 'cpu', minReplicas: 1, maxReplicas: 4, threads: 1 },
      { name: 'gpu', minReplicas: 0, maxReplicas: 8, gpus: 1, threads: 1 },
    ]);
    await env.waitFor(async () => (await env.get<DaskCluster>('daskcluster', 'train', ns))?.status?.readyWorkers === 1, 'train Ready with its CPU worker', 120_000);
    const c = (await env.get<DaskCluster>('daskcluster', 'train', ns))!;
    const client = await Client.connect(await env.resolve(c.status!.schedulerAddress!));
    try {
      const log = join(dir, 'gpu.log');
      writeFileSync(log, '');
      const futures = Array.from({ length: 100 }, (_, i) => client.submitWith({ resources: { GPU: 1 } }, recordedSleep, { i, log, ms: 200 }));
      // One GPU is free: the first GPU worker runs, the second cannot be scheduled, and the
      // autoscaler holds there though the scheduler asks for more and the policy would allow 3.
      await env.waitFor(async () => (await condition(ns, 'train', 'Autoscaling'))?.reason === 'CapacityUnavailable', 'Autoscaling: CapacityUnavailable', 60_000);
      const gpuPods = await pods(ns, 'kubedask.io/cluster=train,kubedask.io/worker-group=gpu');
      assert.equal(gpuPods.length, 2);
      assert.ok(gpuPods.some((p) => p.status?.conditions?.some((x) => x.type === 'PodScheduled' && x.reason === 'Unschedulable')), 'one GPU pod is unschedulable');

      // The platform team tightens the namespace to 2 GPUs: with the other cluster's one, this cluster keeps 1.
      await applyPolicy(env, 'gpu-policy', { namespaces: [ns], limits: { maxGpusPerNamespace: 2 }, behavior: { scaleUp, scaleDown } });
      await env.waitFor(async () => (await env.get<DaskWorkerGroup>('dwg', 'train-gpu', ns))?.spec.replicas === 1, 'the GPU group cut to the namespace limit', 60_000);
      const values = await client.gather(futures);
      assert.deepEqual(values, Array.from({ length: 100 }, (_, i) => i * 2));
      assert.equal(runCounts(log).size, 100);

      const gpu = decisions(op, `${ns}/train`, 'gpu');
      assert.ok(gpu.length > 0 && Math.max(...gpu.map((d) => d.to)) === 2, `the GPU group never asked past what could run: ${gpu.map((d) => `${d.from}->${d.to}`).join(', ')}`);
      assert.ok(gpu.some((d) => d.to === 1 && d.from === 2 && /maxGpusPerNamespace/.test(d.reason)), 'the cut names the limit');
      assert.deepEqual(decisions(op, `${ns}/train`, 'cpu').filter((d) => d.to > d.from), [], 'the CPU group did not scale for GPU work');
    } finally {
      await client.close();
    }
  });

  it('an idle cluster scales to zero after the policy\'s delay, keeping a worker whose data has nowhere to go, then is deleted', async () => {
    const ns = 'idle';
    await createNamespace(env, ns);
    const behavior = { scaleDown: { stabilizationWindowSeconds: 0 } };
    await applyPolicy(env, 'idle-policy', { namespaces: [ns], behavior });
    await applyCluster(env, ns, 'idle', [{ name: 'cpu', minReplicas: 1, maxReplicas: 2, threads: 1 }]);
    await env.waitFor(async () => (await env.get<DaskCluster>('daskcluster', 'idle', ns))?.status?.readyWorkers === 1, 'idle Ready with 1 worker', 120_000);
    const c = (await env.get<DaskCluster>('daskcluster', 'idle', ns))!;
    const client = await Client.connect(await env.resolve(c.status!.schedulerAddress!));
    const workers = () => pods(ns, 'kubedask.io/cluster=idle,kubedask.io/component=worker');
    try {
      const held = client.submit(() => 42);
      assert.equal(await held.result(), 42);
      // The idle rules come once the result is held, so the cluster cannot go before.
      await applyPolicy(env, 'idle-policy', { namespaces: [ns], idle: { scaleToZeroAfterSeconds: 3, deleteClusterAfterSeconds: 3 }, behavior });
      // Idle with a result held only on its one worker: scale-to-zero is asked, the scheduler refuses.
      await env.waitFor(async () => (await env.get<DaskWorkerGroup>('dwg', 'idle-cpu', ns))?.status?.conditions
        ?.some((x) => x.type === 'ScaleDownBlocked' && x.status === 'True' && /no other worker/.test(x.message)) === true,
      'ScaleDownBlocked saying the data has nowhere to go', 60_000);
      // Idle deletion is due too, but waits: the client holds a result.
      await env.waitFor(async () => /1 results are held for clients: deletion waits/.test((await condition(ns, 'idle', 'Autoscaling'))?.message ?? ''),
        'idle deletion waiting for the held result', 30_000);
      assert.equal((await workers()).length, 1);
      assert.equal(await held.result(), 42, 'the data is still there');
      await applyPolicy(env, 'idle-policy', { namespaces: [ns], idle: { scaleToZeroAfterSeconds: 3 }, behavior });
    } finally {
      await client.close();
    }
    // Nothing held any more: the worker is retired and the cluster sits at zero.
    await env.waitFor(async () => (await workers()).length === 0 && (await condition(ns, 'idle', 'Autoscaling'))?.reason === 'IdleScaledToZero',
      'zero workers, IdleScaledToZero', 90_000);
    assert.equal((await condition(ns, 'idle', 'Ready'))?.status, 'True', 'zero workers is the expected size while idle');

    await applyPolicy(env, 'idle-policy', { namespaces: [ns], idle: { scaleToZeroAfterSeconds: 3, deleteClusterAfterSeconds: 6 }, behavior });
    await env.waitFor(async () => (await env.get<DaskCluster>('daskcluster', 'idle', ns)) === undefined, 'the idle cluster deleted by policy', 60_000);
    const events = await env.kubectlOk('get', 'events', '-n', ns, '-o', 'json');
    assert.match(events, /IdleDelete/);
  });

  it('a group scaled with kubectl scale is left to whoever scaled it until it is handed back', async () => {
    const ns = 'ext';
    await createNamespace(env, ns);
    await applyPolicy(env, 'ext-policy', { namespaces: [ns], behavior: { scaleDown: { stabilizationWindowSeconds: 0 } } });
    await applyCluster(env, ns, 'ext', [{ name: 'cpu', minReplicas: 1, maxReplicas: 4, threads: 1 }]);
    await env.waitFor(async () => (await condition(ns, 'ext', 'Autoscaling'))?.reason === 'Active'
      && (await env.get<DaskCluster>('daskcluster', 'ext', ns))?.status?.readyWorkers === 1, 'ext Ready and autoscaled at 1 worker', 120_000);
    const group = () => env.get<DaskWorkerGroup>('dwg', 'ext-cpu', ns);
    const workers = () => pods(ns, 'kubedask.io/cluster=ext,kubedask.io/component=worker');

    // No work: the scheduler's target is the minimum, 1. An external scale to 3 must stand.
    await env.kubectlOk('scale', 'dwg', 'ext-cpu', '-n', ns, '--replicas=3');
    await env.waitFor(async () => (await group())?.metadata.annotations?.['kubedask.io/scaled-by'] === 'external', 'the group marked as driven externally', 30_000);
    await env.waitFor(async () => (await condition(ns, 'ext', 'Autoscaling'))?.reason === 'AllGroupsExternal', 'Autoscaling: AllGroupsExternal', 30_000);
    await env.waitFor(async () => (await workers()).length === 3 && (await env.get<DaskCluster>('daskcluster', 'ext', ns))?.status?.readyWorkers === 3,
      'the 3 workers kubectl asked for, Ready', 120_000);
    assert.equal((await group())?.spec.replicas, 3, 'the autoscaler did not take the group back to its target');
    assert.deepEqual(decisions(op, `${ns}/ext`), [], 'no autoscaling decision for an external group');
    assert.match(await env.kubectlOk('get', 'events', '-n', ns, '-o', 'json'), /ExternallyScaled/);

    // Handed back: the autoscaler takes it to the scheduler's target again, through retirement.
    await env.kubectlOk('annotate', 'dwg', 'ext-cpu', '-n', ns, 'kubedask.io/scaled-by=autoscaler', '--overwrite');
    await env.waitFor(async () => (await group())?.spec.replicas === 1 && (await workers()).length === 1, 'the group back at its minimum of 1', 90_000);
    assert.equal((await group())?.metadata.annotations?.['kubedask.io/scaled-by'], undefined, 'the hand-back annotation is cleared');
    assert.deepEqual(decisions(op, `${ns}/ext`).map((d) => [d.from, d.to]), [[3, 1]]);
    const events = await env.kubectlOk('get', 'events', '-n', ns, '-o', 'json');
    assert.match(events, /AutoscalerResumed/);
    assert.match(events, /WorkerRetired/);
  });
});
