// KubeCluster's pure half: the DaskCluster it makes, readiness from status, the spec edits of
// scale() and adapt(); where it connects; and that importing kubedask leaves the Kubernetes
// client unloaded.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { adaptedSpec, clusterManifest, readiness, specForScale } from '../../client/kube-cluster-spec.js';
import { connectionOf } from '../../client/kube-cluster.js';
import { KubeClusterError } from '../../client/errors.js';
import { serviceOf } from '../../operator/control/scheduler-dialer.js';
import type { Condition, DaskCluster } from '../../operator/api/types.js';

const cond = (type: string, status: Condition['status'], reason = 'R'): Condition => ({ type, status, reason, message: `${type} says ${reason}`, lastTransitionTime: '2026-01-01T00:00:00Z' });
const withStatus = (phase: string, conditions: Condition[], observed = 1): DaskCluster => ({
  apiVersion: 'kubedask.io/v1alpha1', kind: 'DaskCluster', metadata: { name: 'c', generation: 1 }, spec: {},
  status: { phase: phase as 'Running', observedGeneration: observed, conditions },
});

describe('KubeCluster: the DaskCluster create() makes', () => {
  it('puts workers, threads, resources and gpus on the first group and keeps the rest of the spec', () => {
    const m = clusterManifest({
      name: 'demo', image: 'img:1', workers: 3, threads: 2, gpus: 1, resources: { limits: { memory: '1Gi' } },
      schedulerResources: { requests: { cpu: '100m' } }, labels: { team: 'a' },
      spec: { idleTimeout: '1h', workerGroups: [{ name: 'cpu', replicas: 9 }, { name: 'big', replicas: 1 }] },
    }, 'ns');
    assert.deepEqual(m.metadata, { name: 'demo', namespace: 'ns', labels: { team: 'a' } });
    assert.deepEqual(m.spec.workerGroups, [{ name: 'cpu', replicas: 3, threads: 2, gpus: 1, resources: { limits: { memory: '1Gi' } } }, { name: 'big', replicas: 1 }]);
    assert.equal(m.spec.image, 'img:1');
    assert.equal(m.spec.idleTimeout, '1h');
    assert.deepEqual(m.spec.scheduler, { resources: { requests: { cpu: '100m' } } });
    assert.deepEqual(clusterManifest({ name: 'd' }, 'ns').spec.workerGroups, [{ name: 'default', replicas: 1 }]);
  });

  it('refuses a name that is no DNS label and a worker count that is no whole number', () => {
    assert.throws(() => clusterManifest({ name: 'My_Cluster' }, 'ns'), (e: Error) => e instanceof KubeClusterError && /DNS label/.test(e.message));
    assert.throws(() => clusterManifest({ name: 'a'.repeat(54) }, 'ns'), /at most 53/);
    assert.throws(() => clusterManifest({ name: 'ok', workers: 1.5 }, 'ns'), /workers must be a whole number >= 0, got 1.5/);
    for (const threads of [0, -1, 1.5, Number.NaN]) {
      assert.throws(() => clusterManifest({ name: 'ok', threads }, 'ns'), (e: Error) => e instanceof KubeClusterError && /threads must be a whole number >= 1/.test(e.message));
    }
  });

  it('lets workers win over a spec.replicas given in spec (which would otherwise size the first group)', () => {
    const m = clusterManifest({ name: 'd', workers: 3, spec: { replicas: 1 } }, 'ns');
    assert.equal(m.spec.replicas, undefined);
    assert.equal(m.spec.workerGroups?.[0]?.replicas, 3);
    assert.equal(clusterManifest({ name: 'd', spec: { replicas: 2 } }, 'ns').spec.replicas, 2);
  });
});

describe('KubeCluster: readiness from the status', () => {
  it('is ready only when the operator has seen this generation and says Ready', () => {
    assert.deepEqual(readiness(withStatus('Running', [cond('Ready', 'True')])), { state: 'ready' });
    assert.equal(readiness(withStatus('Running', [cond('Ready', 'True')], 0)).state, 'waiting');
    const none = readiness({ ...withStatus('Running', []), status: undefined });
    assert.equal(none.state, 'waiting');
    assert.match((none as { why: string }).why, /is the kubedask operator running/);
  });

  it('fails at once on a start failure waiting does not cure, and names the conditions; Unschedulable waits', () => {
    const pull = readiness(withStatus('Failed', [cond('Ready', 'False', 'NotReady'), cond('Degraded', 'True', 'ImagePullBackOff')]));
    assert.equal(pull.state, 'failed');
    assert.match((pull as { why: string }).why, /phase Failed; Ready=False \(NotReady\).*Degraded=True \(ImagePullBackOff\): Degraded says ImagePullBackOff/);
    assert.equal(readiness(withStatus('Failed', [cond('Degraded', 'True', 'Unschedulable')])).state, 'waiting');
  });
});

describe('KubeCluster: scale() and adapt() spec edits', () => {
  it('adapt turns the autoscaler on with the first group between the bounds, its replicas moved inside', () => {
    const spec = adaptedSpec({ replicas: 5, workerGroups: [{ name: 'a', replicas: 5 }, { name: 'b' }] }, { minimum: 1, maximum: 3, targetDuration: '5s' });
    assert.deepEqual(spec.workerGroups, [{ name: 'a', replicas: 3, minReplicas: 1, maxReplicas: 3 }, { name: 'b' }]);
    assert.equal(spec.replicas, 3);
    assert.deepEqual(spec.autoscaling, { enabled: true, targetDuration: '5s' });
    assert.throws(() => adaptedSpec({}, { minimum: 4, maximum: 2 }), /minimum 4 is more than maximum 2/);
    assert.throws(() => adaptedSpec({}, { maximum: -1 }), /adapt maximum must be a whole number/);
    assert.throws(() => adaptedSpec({}, { maximum: 2, targetDuration: '5 seconds' }), /not a duration/);
  });

  it('scale writes spec.replicas with adapting off and the bounds widened, in one edit; none when the spec says so already', () => {
    assert.equal(specForScale({ replicas: 4, workerGroups: [{ name: 'a', replicas: 1, maxReplicas: 4 }] }, 4), undefined);
    assert.deepEqual(specForScale({ workerGroups: [{ name: 'a', replicas: 1, maxReplicas: 4 }] }, 4),
      { replicas: 4, workerGroups: [{ name: 'a', replicas: 1, maxReplicas: 4 }] });
    const adapted = adaptedSpec({ workerGroups: [{ name: 'a' }, { name: 'b' }] }, { minimum: 2, maximum: 3 });
    const scaled = specForScale(adapted, 5);
    assert.deepEqual(scaled?.workerGroups, [{ name: 'a', replicas: 2, minReplicas: 2, maxReplicas: 5 }, { name: 'b' }]);
    assert.equal(scaled?.replicas, 5);
    assert.equal(scaled?.autoscaling?.enabled, false);
    assert.equal(specForScale(adapted, 0)?.workerGroups?.[0]?.minReplicas, 0);
    // No group listed: the default group, as adapt() and the operator assume.
    assert.deepEqual(specForScale({}, 3), { replicas: 3, workerGroups: [{ name: 'default' }] });
    assert.throws(() => specForScale({}, -2), /scale must be a whole number >= 0/);
  });
});

describe('KubeCluster: the way to the scheduler', () => {
  it('uses the Service in a pod, a port-forward elsewhere, or what it is told', () => {
    assert.equal(connectionOf('auto', true), 'service');
    assert.equal(connectionOf(undefined, false), 'port-forward');
    assert.equal(connectionOf('port-forward', true), 'port-forward');
    assert.equal(connectionOf('service', false), 'service');
  });

  it('the operator\'s dialer knows a Service address from any other', () => {
    assert.deepEqual(serviceOf('demo-scheduler.team.svc'), { service: 'demo-scheduler', namespace: 'team' });
    assert.deepEqual(serviceOf('demo-scheduler.team.svc.cluster.local'), { service: 'demo-scheduler', namespace: 'team' });
    assert.deepEqual(serviceOf('demo-scheduler.team'), { service: 'demo-scheduler', namespace: 'team' });
    assert.equal(serviceOf('10.0.0.7'), undefined);
    assert.equal(serviceOf('scheduler.example.com'), undefined);
  });

  it('importing kubedask loads neither @kubernetes/client-node nor the operator\'s Kubernetes edge', () => {
    const recordModules = fileURLToPath(new URL('../../../test/fixtures/record-modules.mjs', import.meta.url));
    const index = fileURLToPath(new URL('../../index.js', import.meta.url));
    const log = join(mkdtempSync(join(tmpdir(), 'kubedask-index-modules-')), 'loaded.txt');
    const out = spawnSync(process.execPath, ['--import', recordModules, '--input-type=module', '-e', `const k = await import(${JSON.stringify(index)}); if (typeof k.KubeCluster.create !== 'function') process.exit(3);`],
      { encoding: 'utf8', env: { ...process.env, KUBEDASK_MODULES_LOG: log } });
    assert.equal(out.status, 0, out.stderr);
    const loaded = readFileSync(log, 'utf8').split('\n').filter(Boolean);
    assert.ok(loaded.some((u) => u.endsWith('/client/kube-cluster.js')), 'the recording saw the KubeCluster module');
    assert.deepEqual(loaded.filter((u) => u.includes('/@kubernetes/client-node/') || u.includes('/dist/operator/k8s/') || u.includes('/kube-cluster-session.js')), []);
  });
});
