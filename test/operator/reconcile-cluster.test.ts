// The DaskCluster reconcile in process, against the API emulator: its ordered steps, what each
// pass creates, updates and deletes, its status and events, and a failing step named in the
// error and in the ReconcileFailed condition.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FINALIZER, LABELS, MANAGER, names, type DaskCluster, type DaskWorkerGroup } from '../../operator/api/types.js';
import { R } from '../../operator/k8s/resources.js';
import { clusterDeletionSteps, clusterSteps } from '../../operator/reconcile/cluster.js';
import type { Deployment, Service } from '../../operator/reconcile/context.js';
import { ReconcileError } from '../../operator/reconcile/errors.js';
import { writeStatus } from '../../operator/reconcile/writes.js';
import { isConflict } from '../../operator/k8s/kube-api.js';
import { adaptedSpec, specForScale } from '../../client/kube-cluster-spec.js';
import { conditionOf, NS, startReconcileEnv, type ReconcileEnv } from './reconcile-env.js';

const clusterManifest = (name: string, replicas = 2): DaskCluster => ({
  apiVersion: 'kubedask.io/v1alpha1', kind: 'DaskCluster', metadata: { name },
  spec: { image: 'kubedask:1', workerGroups: [{ name: 'default', replicas, threads: 1 }] },
});

describe('cluster reconcile in process', () => {
  let env: ReconcileEnv;
  before(async () => { env = await startReconcileEnv(); });
  after(async () => env?.close());

  const create = (c: DaskCluster) => env.api.create(R.daskClusters, NS, c as never);
  const cluster = (name: string) => env.get<DaskCluster>(R.daskClusters, name);
  const schedulerPods = (name: string) => env.pods({ [LABELS.cluster]: name, [LABELS.role]: 'scheduler' });

  it('runs its steps in this order', () => {
    assert.deepEqual(clusterSteps.map((s) => s.name), ['ensureFinalizer', 'ensureSchedulerService', 'ensureSchedulerDeployment',
      'ensureWorkerGroups', 'observeScheduler', 'computeStatus', 'writeStatus', 'checkIdleTimeout', 'requeue']);
    assert.deepEqual(clusterDeletionSteps.map((s) => s.name), ['checkFinalizer', 'deleteWorkerPods', 'waitForWorkerPods', 'removeFinalizer']);
  });

  it('creates the scheduler Service and Deployment and one DaskWorkerGroup per group, then goes Running', async () => {
    await create(clusterManifest('alpha'));
    const first = await env.cluster('alpha');
    assert.equal(first.error, undefined);
    assert.deepEqual(first.steps, clusterSteps.map((s) => s.name));
    assert.deepEqual(first.result, { requeueAfterMs: 2_000, reason: 'waiting for the scheduler and workers to be ready' });

    const c = await cluster('alpha');
    assert.deepEqual(c?.metadata.finalizers, [FINALIZER]);
    const svc = await env.get<Service>(R.services, names.scheduler('alpha'));
    const dep = await env.get<Deployment>(R.deployments, names.scheduler('alpha'));
    const group = await env.get<DaskWorkerGroup>(R.daskWorkerGroups, 'alpha-default');
    assert.ok(svc && dep && group, 'Service, Deployment and DaskWorkerGroup exist');
    assert.equal(svc.metadata.ownerReferences?.[0]?.uid, c!.metadata.uid);
    assert.equal(dep.spec?.template?.spec?.containers?.[0]?.image, 'kubedask:1');
    assert.equal(group.spec.replicas, 2);
    assert.equal(c?.status?.phase, 'Pending');
    assert.equal(conditionOf(c, 'Ready')?.status, 'False');
    assert.deepEqual(env.events.filter((e) => e.name === 'alpha').map((e) => e.reason).sort(),
      ['CreatedScheduler', 'CreatedService', 'CreatedWorkerGroup', 'PhasePending']);

    // The scheduler pod the Deployment controller made turns Ready and answers; no worker yet.
    await env.settle();
    const [pod] = await schedulerPods('alpha');
    assert.ok(pod, 'the Deployment controller made a scheduler pod');
    await env.setPod(pod.metadata.name!, 'Ready');
    await env.cluster('alpha');
    const running = await cluster('alpha');
    assert.equal(conditionOf(running, 'SchedulerReady')?.status, 'True');
    assert.equal(conditionOf(running, 'WorkersReady')?.status, 'False');
    assert.equal(running?.status?.workers, '0/2');
  });

  it('a spec change reaches the Deployment and the group; a group replicas change is followed', async () => {
    const c = (await cluster('alpha'))!;
    await env.api.patch(R.daskClusters, NS, 'alpha', { spec: { image: 'kubedask:2', workerGroups: [{ name: 'default', replicas: 3, threads: 1 }] } }, { type: 'merge' });
    const before = env.events.length;
    const pass = await env.cluster('alpha');
    assert.equal(pass.error, undefined);
    const dep = await env.get<Deployment>(R.deployments, names.scheduler('alpha'));
    assert.equal(dep?.spec?.template?.spec?.containers?.[0]?.image, 'kubedask:2');
    const group = await env.get<DaskWorkerGroup>(R.daskWorkerGroups, 'alpha-default');
    assert.equal(group?.spec.replicas, 3);
    assert.notEqual(group?.metadata.generation, undefined);
    assert.deepEqual(env.events.slice(before).map((e) => e.reason).filter((r) => !r.startsWith('Phase')).sort(),
      ['RollingScheduler', 'ScaledWorkerGroup', 'UpdatedWorkerGroup']);
    assert.equal((await cluster('alpha'))?.status?.observedGeneration, c.metadata.generation! + 1);
  });

  it('a failing API call is named by its step, in the error and the ReconcileFailed condition; the other steps still ran', async () => {
    await create(clusterManifest('beta'));
    env.server.faults.next({ status: 500, match: (method, path) => method === 'POST' && path.includes('/deployments') });
    const pass = await env.cluster('beta');
    assert.ok(pass.error instanceof ReconcileError, `a ReconcileError, got ${String(pass.error)}`);
    assert.deepEqual(pass.error.steps, ['ensureSchedulerDeployment']);
    assert.match(pass.error.message, /^ensureSchedulerDeployment: /);
    // The steps after it ran (status written), those that delete or decide did not.
    assert.deepEqual(pass.steps, clusterSteps.map((s) => s.name).filter((s) => s !== 'checkIdleTimeout' && s !== 'requeue'));
    assert.ok(await env.get(R.services, names.scheduler('beta')), 'the Service step before it created the Service');
    assert.ok(await env.get(R.daskWorkerGroups, 'beta-default'), 'the groups step after it created the group');
    assert.equal(await env.get(R.deployments, names.scheduler('beta')), undefined);
    const failed = conditionOf(await cluster('beta'), 'ReconcileFailed');
    assert.equal(failed?.status, 'True');
    assert.match(failed?.message ?? '', /^ensureSchedulerDeployment: /);
    assert.ok(env.events.some((e) => e.name === 'beta' && e.reason === 'FailedCreateScheduler'));

    // The next pass creates it and the condition goes.
    const retry = await env.cluster('beta');
    assert.equal(retry.error, undefined);
    assert.ok(await env.get(R.deployments, names.scheduler('beta')));
    assert.equal(conditionOf(await cluster('beta'), 'ReconcileFailed'), undefined);
  });

  it('a status write that records a transition from a stale read is refused, so a flipped condition keeps its first time', async () => {
    await create(clusterManifest('stale'));
    const stale = (await cluster('stale'))!;
    assert.equal((await env.cluster('stale')).error, undefined);
    const written = conditionOf(await cluster('stale'), 'Ready') as { lastTransitionTime?: string } | undefined;
    assert.ok(written?.lastTransitionTime, 'the first pass stamped the Ready condition');
    // A second writer still holding the object as first read would stamp the same flip again.
    const later = new Date(Date.parse(written.lastTransitionTime) + 60_000).toISOString();
    const again = { ...(await cluster('stale'))!.status!, conditions: [{ type: 'Ready', status: 'False', reason: 'NotReady', message: 'x', lastTransitionTime: later }] };
    await assert.rejects(writeStatus(env.ctx, R.daskClusters, stale, stale.status, again), (err: unknown) => isConflict(err));
    assert.equal((conditionOf(await cluster('stale'), 'Ready') as { lastTransitionTime?: string }).lastTransitionTime, written.lastTransitionTime);
  });

  it('a failing first step ends the pass at once', async () => {
    await create(clusterManifest('gamma'));
    env.server.faults.next({ status: 500, match: (method, path) => method === 'PATCH' && path.endsWith('/daskclusters/gamma') });
    const pass = await env.cluster('gamma');
    assert.deepEqual((pass.error as ReconcileError | undefined)?.steps, ['ensureFinalizer']);
    assert.deepEqual(pass.steps, ['ensureFinalizer']);
    assert.equal(await env.get(R.services, names.scheduler('gamma')), undefined);
  });

  it('a deleted cluster removes its worker pods first, then its finalizer', async () => {
    await env.group('alpha-default');
    await env.settle();
    const workers = await env.pods({ [LABELS.cluster]: 'alpha', [LABELS.role]: 'worker' });
    assert.equal(workers.length, 3);

    await env.api.delete(R.daskClusters, NS, 'alpha');
    const first = await env.cluster('alpha');
    assert.equal(first.error, undefined);
    assert.deepEqual(first.steps, ['checkFinalizer', 'deleteWorkerPods', 'waitForWorkerPods']);
    assert.equal(first.result?.requeueAfterMs, 1_000);
    assert.equal((await cluster('alpha'))?.status?.phase, 'Terminating');
    assert.ok(env.events.some((e) => e.name === 'alpha' && e.reason === 'RemovingWorkers'));

    const second = await env.cluster('alpha');
    assert.equal(second.error, undefined);
    assert.deepEqual(second.steps, clusterDeletionSteps.map((s) => s.name));
    assert.equal((await env.pods({ [LABELS.cluster]: 'alpha', [LABELS.role]: 'worker' })).length, 0);
    assert.equal(await cluster('alpha'), undefined, 'the finalizer went and the cluster with it');
    assert.ok(env.control.forgotten.includes(names.schedulerAddress('alpha', NS)), 'the scheduler channel is dropped');
  });

  it('spec.replicas (the scale subresource) sizes the first group; status.replicas and selector report it; a kept size moves into narrowed bounds', async () => {
    await create(clusterManifest('sized', 1));
    assert.equal((await env.cluster('sized')).error, undefined);
    await env.api.patch(R.daskClusters, NS, 'sized', { spec: { replicas: 4 } }, { type: 'merge', subresource: 'scale' });
    assert.equal((await env.cluster('sized')).error, undefined);
    const group = () => env.get<DaskWorkerGroup>(R.daskWorkerGroups, 'sized-default');
    assert.equal((await group())?.spec.replicas, 4);
    // Two worker pods of the group, not yet ready (no group reconciler runs here to make them).
    const g0 = (await group())!;
    for (const i of [1, 2]) {
      await env.api.create(R.pods, NS, { apiVersion: 'v1', kind: 'Pod', metadata: { name: `sized-default-w${i}`,
        labels: { [LABELS.cluster]: 'sized', [LABELS.group]: 'default', [LABELS.managedBy]: MANAGER },
        ownerReferences: [{ apiVersion: g0.apiVersion, kind: g0.kind, name: g0.metadata.name!, uid: g0.metadata.uid! }] },
      spec: { containers: [{ name: 'worker', image: 'kubedask:1' }] } } as never);
    }
    await env.settle();
    assert.equal((await env.cluster('sized')).error, undefined);
    const status = (await cluster('sized'))?.status;
    assert.equal(status?.selector, 'kubedask.io/cluster=sized,kubedask.io/component=worker,kubedask.io/worker-group=default');
    assert.equal(status?.replicas, 2, 'the first group\'s workers, ready or pending');
    // With autoscaling off, spec.replicas holds for the first group (level-triggered): a
    // `kubectl scale` on the group is brought back although the cluster's value did not change.
    await env.api.patch(R.daskWorkerGroups, NS, 'sized-default', { spec: { replicas: 6 } }, { type: 'merge', subresource: 'scale' });
    assert.equal((await env.cluster('sized')).error, undefined);
    assert.equal((await group())?.spec.replicas, 4);
    // Adapting (adapt()): the autoscaler's size sticks, and moves inside narrowed bounds instead
    // of the group patch being refused.
    const c = (await cluster('sized'))!;
    await env.api.replace(R.daskClusters, NS, 'sized', { ...c, spec: adaptedSpec(c.spec, { minimum: 1, maximum: 8 }) } as never);
    assert.equal((await env.cluster('sized')).error, undefined);
    await env.api.patch(R.daskWorkerGroups, NS, 'sized-default', { spec: { replicas: 7 } }, { type: 'merge', subresource: 'scale' });
    assert.equal((await env.cluster('sized')).error, undefined);
    assert.equal((await group())?.spec.replicas, 7, 'the autoscaler\'s size sticks while adapting');
    const adapting = (await cluster('sized'))!;
    await env.api.replace(R.daskClusters, NS, 'sized', { ...adapting, spec: adaptedSpec(adapting.spec, { minimum: 1, maximum: 5 }) } as never);
    assert.equal((await env.cluster('sized')).error, undefined);
    assert.deepEqual([(await group())?.spec.replicas, (await group())?.spec.maxReplicas], [5, 5]);
    // scale(1) after adapt(): spec.replicas is 1 with autoscaling off, and the group follows
    // (it was 5 from the autoscaler, the cluster's value 4 -> 1 aside).
    const before1 = (await cluster('sized'))!;
    await env.api.replace(R.daskClusters, NS, 'sized', { ...before1, spec: specForScale(before1.spec, 1)! } as never);
    assert.equal((await env.cluster('sized')).error, undefined);
    assert.equal((await group())?.spec.replicas, 1);
    // The autoscaler's last write races in after scale(): the next pass undoes it.
    await env.api.patch(R.daskWorkerGroups, NS, 'sized-default', { spec: { replicas: 3 } }, { type: 'merge', subresource: 'scale' });
    assert.equal((await env.cluster('sized')).error, undefined);
    assert.equal((await group())?.spec.replicas, 1);
  });
});
