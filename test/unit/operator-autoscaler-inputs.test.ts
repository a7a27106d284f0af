// From what the operator sees to the autoscaler's inputs: the WatchMetrics request's group
// shapes, who drives a group, a group's pods counted, and the namespace's other clusters.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ANNOTATIONS, type DaskCluster, type DaskWorkerGroup } from '../../operator/api/types.js';
import { groupDriver, groupInput, namespaceUsage, watchRequest } from '../../operator/autoscaler/inputs.js';
import type { Pod } from '../../operator/reconcile/context.js';

const cluster = (workerGroups: NonNullable<DaskCluster['spec']['workerGroups']>): DaskCluster =>
  ({ apiVersion: 'kubedask.io/v1alpha1', kind: 'DaskCluster', metadata: { name: 'c', namespace: 'ns' }, spec: { workerGroups } });

const dwg = (o: { cluster?: string; replicas?: number; gpus?: number; annotations?: Record<string, string>; deleting?: boolean } = {}): DaskWorkerGroup => ({
  apiVersion: 'kubedask.io/v1alpha1', kind: 'DaskWorkerGroup',
  metadata: { name: 'g', namespace: 'ns', annotations: o.annotations, ...(o.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
  spec: { cluster: o.cluster ?? 'c', groupName: 'cpu', replicas: o.replicas ?? 2, minReplicas: 1, maxReplicas: 5, gpus: o.gpus ?? 0 },
});

const pod = (o: { ready?: boolean; unschedulable?: boolean; deleting?: boolean; phase?: string } = {}): Pod => ({
  metadata: { name: 'p', ...(o.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
  status: {
    phase: o.phase ?? (o.ready ? 'Running' : 'Pending'),
    conditions: [
      ...(o.ready ? [{ type: 'Ready', status: 'True' }] : []),
      ...(o.unschedulable ? [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }] : []),
    ],
  },
}) as Pod;

describe('autoscaler inputs', () => {
  it('asks for each spec group as its workers advertise themselves, memory limit as the worker reads it', () => {
    const r = watchRequest(cluster([
      { name: 'cpu', threads: 4, resources: { limits: { memory: '4Gi' } } },
      { name: 'gpu', gpus: 2, taskResources: { FAST: 1 }, template: { spec: { containers: [{ name: 'worker', resources: { limits: { memory: '1Gi' } } }] } } },
    ]), 30);
    assert.equal(r.targetDurationSeconds, 30);
    assert.deepEqual(r.groups, [
      { name: 'cpu', resources: {}, threads: 4, memoryLimit: 4 * 2 ** 30 },
      { name: 'gpu', resources: { GPU: 2, FAST: 1 }, threads: 1, memoryLimit: 2 ** 30 },
    ]);
  });

  it('tells who drives a group from its annotations', () => {
    assert.equal(groupDriver(dwg()), 'autoscaler');
    assert.equal(groupDriver(dwg({ annotations: { [ANNOTATIONS.operatorReplicas]: '2' } })), 'autoscaler');
    assert.equal(groupDriver(dwg({ annotations: { [ANNOTATIONS.operatorReplicas]: '3' } })), 'newly-external', 'someone else changed replicas');
    assert.equal(groupDriver(dwg({ annotations: { [ANNOTATIONS.scaledBy]: 'external', [ANNOTATIONS.operatorReplicas]: '2' } })), 'external');
    assert.equal(groupDriver(dwg({ annotations: { [ANNOTATIONS.scaledBy]: 'autoscaler', [ANNOTATIONS.operatorReplicas]: '7' } })), 'handed-back');
  });

  it('counts a group\'s live pods: ready, pending and unschedulable; terminating and finished ones not at all', () => {
    const pods = [pod({ ready: true }), pod(), pod({ unschedulable: true }), pod({ ready: true, deleting: true }), pod({ phase: 'Failed' })];
    const i = groupInput(dwg(), pods, { name: 'cpu', target: 4, reason: 'r' } as never, false);
    assert.deepEqual({ ready: i.ready, pending: i.pending, unschedulable: i.unschedulable, recommended: i.recommended }, { ready: 1, pending: 2, unschedulable: 1, recommended: 4 });
    const silent = groupInput(dwg({ replicas: 3 }), [], undefined, true);
    assert.deepEqual([silent.recommended, silent.recommendedReason, silent.external], [3, 'no metrics for this group yet', true], 'no metrics: keep the size');
  });

  it('sums what the namespace\'s other clusters ask for, not this cluster\'s nor deleted groups', () => {
    const groups = [dwg({ replicas: 3 }), dwg({ cluster: 'other', replicas: 2, gpus: 1 }), dwg({ cluster: 'third', replicas: 4 }), dwg({ cluster: 'gone', replicas: 9, deleting: true })];
    assert.deepEqual(namespaceUsage(groups, 'c'), { workers: 6, gpus: 2 });
  });
});
