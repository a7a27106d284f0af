// A DaskCluster's status from observations alone: Ready only when the scheduler answers and the
// workers are registered with it; Degraded with the pod's own reason; phases; durations.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { computeClusterStatus, type ClusterObservation } from '../../operator/reconcile/cluster-status.js';
import { setConditions } from '../../operator/reconcile/conditions.js';
import { parseDuration } from '../../operator/reconcile/duration.js';
import type { Pod } from '../../operator/reconcile/context.js';
import type { ClusterMetrics } from '../../operator/control/scheduler-control.js';
import type { DaskCluster, DaskWorkerGroup } from '../../operator/api/types.js';

const cluster = (spec: DaskCluster['spec'] = {}): DaskCluster => ({ apiVersion: 'kubedask.io/v1alpha1', kind: 'DaskCluster', metadata: { name: 'c', namespace: 'ns', generation: 3 }, spec });
const group = (replicas: number, minReplicas = 0): DaskWorkerGroup => ({
  apiVersion: 'kubedask.io/v1alpha1', kind: 'DaskWorkerGroup', metadata: { name: 'c-default', namespace: 'ns' },
  spec: { cluster: 'c', groupName: 'default', replicas, minReplicas },
});
const pod = (name: string, o: { ready?: boolean; phase?: string; hash?: string; waiting?: string; unschedulable?: string } = {}): Pod => ({
  metadata: { name, annotations: { 'kubedask.io/template-hash': o.hash ?? 'h1' } },
  status: {
    phase: o.phase ?? 'Running',
    conditions: [
      { type: 'Ready', status: o.ready === false ? 'False' : 'True' },
      ...(o.unschedulable ? [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: o.unschedulable }] : []),
    ],
    ...(o.waiting ? { containerStatuses: [{ name: 'worker', image: 'i', imageID: '', ready: false, restartCount: 3, state: { waiting: { reason: o.waiting } }, lastState: { terminated: { exitCode: 3 } } }] } : {}),
  },
} as unknown as Pod);
const metrics = (workers: string[]): ClusterMetrics => ({
  workers: workers.length, tasksQueued: 0, tasksNoWorker: 0, tasksProcessing: 0, tasksWaiting: 0, tasksInMemory: 0, memoryUsed: 0, idleSeconds: 12,
  workerMetrics: workers.map((name) => ({ name, group: 'default', tasksProcessing: 0, keysHeld: 0, memoryUsed: 0, idleSeconds: 0, retiring: false })),
});
const observe = (o: Partial<ClusterObservation> & { expectedGroups?: string[]; workers?: Pod[]; replicas?: number; minReplicas?: number; connected?: string[] | null }): ClusterObservation => ({
  cluster: o.cluster ?? cluster(),
  scheduler: o.scheduler ?? {
    address: 'c-scheduler.ns.svc:8786', pods: [pod('c-scheduler-x')], podReady: true,
    ...(o.connected === null ? { unreachable: 'Control.GetMetrics failed' } : { metrics: metrics(o.connected ?? []) }),
  },
  schedulerRolling: o.schedulerRolling ?? false,
  groups: [{ group: group(o.replicas ?? 2, o.minReplicas), pods: o.workers ?? [], templateHash: 'h1' }],
  expectedGroups: o.expectedGroups ?? ['default'],
  ...(o.autoscaling ? { autoscaling: o.autoscaling } : {}),
});
const cond = (s: ReturnType<typeof computeClusterStatus>, type: string) => s.conditions.find((c) => c.type === type)!;

describe('cluster status', () => {
  it('Running pods are not enough: Ready needs the workers registered with the scheduler', () => {
    const s = computeClusterStatus(observe({ workers: [pod('w0'), pod('w1')], connected: ['w0'] }));
    assert.equal(s.ready, false);
    assert.equal(s.readyWorkers, 1);
    assert.equal(cond(s, 'WorkersReady').status, 'False');
    assert.match(cond(s, 'WorkersReady').message, /default has 1\/2/);
    assert.equal(s.phase, 'Starting');
    const all = computeClusterStatus(observe({ workers: [pod('w0'), pod('w1')], connected: ['w0', 'w1'] }));
    assert.deepEqual([all.ready, all.phase, all.readyWorkers, all.desiredWorkers, all.idleSeconds], [true, 'Running', 2, 2, 12]);
    assert.equal(cond(all, 'Ready').observedGeneration, 3);
  });

  it('a scheduler that does not answer is not ready, whatever its pod says', () => {
    const s = computeClusterStatus(observe({ workers: [pod('w0'), pod('w1')], connected: null }));
    assert.equal(cond(s, 'SchedulerReady').status, 'False');
    assert.match(cond(s, 'SchedulerReady').message, /GetMetrics failed/);
    assert.equal(s.ready, false);
    assert.equal(s.readyWorkers, 0);
  });

  it('with autoscaling the floor is minReplicas (none while idle at zero), and the Autoscaling condition is the autoscaler\'s', () => {
    const autoscaled = cluster({ autoscaling: { enabled: true } });
    const s = computeClusterStatus(observe({ cluster: autoscaled, replicas: 3, minReplicas: 1, workers: [pod('w0')], connected: ['w0'] }));
    assert.equal(s.ready, true);
    assert.deepEqual([cond(s, 'Autoscaling').status, cond(s, 'Autoscaling').reason], ['False', 'Inactive']);
    const active = { condition: { type: 'Autoscaling', status: 'True' as const, reason: 'Active', message: 'built-in defaults; default: 3' }, idleToZero: false };
    const short = computeClusterStatus(observe({ cluster: autoscaled, replicas: 3, minReplicas: 1, workers: [], connected: [], autoscaling: active }));
    assert.equal(short.ready, false);
    assert.deepEqual([cond(short, 'Autoscaling').reason, cond(short, 'Autoscaling').observedGeneration], ['Active', 3]);
    const idle = computeClusterStatus(observe({ cluster: autoscaled, replicas: 0, minReplicas: 1, workers: [], connected: [], autoscaling: { ...active, idleToZero: true } }));
    assert.equal(idle.ready, true);
  });

  it('a crash-looping or unschedulable worker is Degraded with its reason; the phase is Failed while not ready', () => {
    const crash = computeClusterStatus(observe({ workers: [pod('w0', { ready: false, waiting: 'CrashLoopBackOff' })], replicas: 1 }));
    assert.deepEqual([cond(crash, 'Degraded').status, cond(crash, 'Degraded').reason, crash.phase], ['True', 'CrashLoopBackOff', 'Failed']);
    assert.match(cond(crash, 'Degraded').message, /exit code 3/);
    const gpu = computeClusterStatus(observe({ workers: [pod('w0', { ready: false, phase: 'Pending', unschedulable: '0/2 nodes are available: 2 Insufficient nvidia.com/gpu.' })], replicas: 1 }));
    assert.equal(cond(gpu, 'Degraded').reason, 'Unschedulable');
    assert.match(cond(gpu, 'Degraded').message, /Insufficient nvidia\.com\/gpu/);
  });

  it('a scheduler or worker whose image cannot be pulled is Degraded naming the pod, the image and the reason', () => {
    const pulling = (name: string, container: string, image: string, reason: string, message?: string): Pod => ({
      metadata: { name, annotations: { 'kubedask.io/template-hash': 'h1' } },
      spec: { containers: [{ name: container, image }] },
      status: {
        phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'False' }],
        containerStatuses: [{ name: container, image, imageID: '', ready: false, restartCount: 0, state: { waiting: { reason, ...(message ? { message } : {}) } } }],
      },
    } as unknown as Pod);
    const scheduler = computeClusterStatus(observe({
      scheduler: { address: 'c-scheduler.ns.svc:8786', pods: [pulling('c-scheduler-x', 'scheduler', 'ghcr.io/daskdev/dask:2024.1', 'ImagePullBackOff', 'Back-off pulling image "ghcr.io/daskdev/dask:2024.1"')], podReady: false, unreachable: 'no answer' },
    }));
    const degraded = cond(scheduler, 'Degraded');
    assert.deepEqual([degraded.status, degraded.reason, scheduler.phase], ['True', 'ImagePullBackOff', 'Failed']);
    assert.match(degraded.message, /^pod c-scheduler-x: container scheduler cannot pull image "ghcr\.io\/daskdev\/dask:2024\.1" \(ImagePullBackOff\): Back-off pulling/);
    assert.equal(cond(scheduler, 'SchedulerReady').reason, 'ImagePullBackOff');
    // A runtime message that does not name the image still yields one that does.
    const worker = computeClusterStatus(observe({ workers: [pulling('w0', 'worker', 'typo/kubedsak:1', 'ErrImagePull')], replicas: 1, connected: [] }));
    assert.equal(cond(worker, 'Degraded').reason, 'ErrImagePull');
    assert.equal(cond(worker, 'Degraded').message, 'pod w0: container worker cannot pull image "typo/kubedsak:1" (ErrImagePull)');
  });

  it('phases: Pending before the scheduler runs, Updating while outdated pods remain, Suspended', () => {
    assert.equal(computeClusterStatus(observe({ scheduler: { address: 'a', pods: [], podReady: false, unreachable: 'no scheduler pod yet' } })).phase, 'Pending');
    const updating = computeClusterStatus(observe({ workers: [pod('w0'), pod('w1', { hash: 'old' })], connected: ['w0', 'w1'] }));
    assert.deepEqual([updating.phase, updating.groups[0]!.outdated], ['Updating', 1]);
    const suspended = computeClusterStatus(observe({ cluster: cluster({ suspend: true }), scheduler: { address: 'a', pods: [], podReady: false } }));
    assert.deepEqual([suspended.phase, cond(suspended, 'Ready').reason], ['Suspended', 'Suspended']);
  });

  it('conditions keep their transition time until their status flips', () => {
    const first = setConditions(undefined, [{ type: 'Ready', status: 'False', reason: 'a', message: 'm' }], 't1');
    const same = setConditions(first, [{ type: 'Ready', status: 'False', reason: 'b', message: 'n' }], 't2');
    const flipped = setConditions(same, [{ type: 'Ready', status: 'True', reason: 'c', message: 'o' }], 't3');
    assert.deepEqual([first[0]!.lastTransitionTime, same[0]!.lastTransitionTime, flipped[0]!.lastTransitionTime], ['t1', 't1', 't3']);
  });

  it('reads Go durations and names the field when one is bad', () => {
    assert.equal(parseDuration('1h30m', 'x'), 5_400_000);
    assert.equal(parseDuration('250ms', 'x'), 250);
    assert.equal(parseDuration('1.5s', 'x'), 1500);
    assert.equal(parseDuration('1500us', 'x'), 1.5);
    assert.throws(() => parseDuration('5 minutes', 'spec.idleTimeout'), /spec\.idleTimeout: "5 minutes" is not a duration/);
  });

  it('a group the spec asks for that does not exist yet keeps the cluster from Ready', () => {
    const s = computeClusterStatus(observe({ workers: [pod('w0'), pod('w1')], connected: ['w0', 'w1'], expectedGroups: ['default', 'gpu'] }));
    assert.equal(s.ready, false);
    assert.match(cond(s, 'WorkersReady').message, /gpu has no DaskWorkerGroup yet/);
  });
});
