// The built-in Deployment controller: pods from the template, owned by the Deployment, and
// status replica counts that follow pod readiness (written here as a kubelet would).
import * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startSim, type Sim } from './api-helpers.js';
import { waitUntil } from '../helpers/wait.js';

const merge = k8s.setHeaderOptions('Content-Type', 'application/merge-patch+json');

function deployment(name: string, replicas: number, image = 'img:1'): k8s.V1Deployment {
  return {
    metadata: { name },
    spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name, tier: 'x' } }, spec: { containers: [{ name: 'c', image }] } } },
  };
}

describe('kube-sim API: Deployment controller', () => {
  let sim: Sim;
  before(async () => {
    sim = await startSim();
  });
  after(() => sim.close());

  const podsOf = async (name: string) => (await sim.core.listNamespacedPod({ namespace: 'default', labelSelector: `app=${name}` })).items.filter((p) => !p.metadata?.deletionTimestamp);

  it('creates owned pods from the template and tracks readiness in status (items 9-10 for Deployments)', async () => {
    const created = await sim.apps.createNamespacedDeployment({ namespace: 'default', body: deployment('web', 2) });
    assert.equal(created.metadata?.generation, 1);
    const pods = await waitUntil(async () => ((await podsOf('web')).length === 2 ? podsOf('web') : undefined), '2 pods');
    for (const pod of pods) {
      assert.match(pod.metadata?.name ?? '', /^web-[a-z0-9]{10}-[a-z0-9]{5}$/);
      assert.equal(pod.metadata?.labels?.tier, 'x');
      assert.ok(pod.metadata?.labels?.['pod-template-hash']);
      assert.deepEqual(pod.metadata?.ownerReferences?.map((r) => [r.kind, r.name, r.uid, r.controller]), [['Deployment', 'web', created.metadata?.uid, true]]);
    }
    // Become ready as the kubelet would report it.
    for (const pod of pods) {
      await sim.core.patchNamespacedPodStatus({ name: pod.metadata?.name ?? '', namespace: 'default', body: { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } } }, merge);
    }
    const ready = await waitUntil(async () => {
      const d = await sim.apps.readNamespacedDeployment({ name: 'web', namespace: 'default' });
      return d.status?.readyReplicas === 2 ? d : undefined;
    }, '2 ready replicas');
    assert.deepEqual([ready.status?.replicas, ready.status?.availableReplicas, ready.status?.observedGeneration], [2, 2, 1]);
    assert.equal(ready.status?.conditions?.find((c) => c.type === 'Available')?.status, 'True');

    // Scale down through /scale: generation rises and one pod goes.
    await sim.apps.patchNamespacedDeploymentScale({ name: 'web', namespace: 'default', body: { spec: { replicas: 1 } } }, merge);
    await waitUntil(async () => (await podsOf('web')).length === 1, '1 pod');
    const scaled = await waitUntil(async () => {
      const d = await sim.apps.readNamespacedDeployment({ name: 'web', namespace: 'default' });
      return d.status?.observedGeneration === 2 && d.status.replicas === 1 ? d : undefined;
    }, 'observedGeneration 2');
    assert.equal(scaled.metadata?.generation, 2);

    // A template change replaces the pods.
    const oldHash = (await podsOf('web'))[0].metadata?.labels?.['pod-template-hash'];
    await sim.apps.patchNamespacedDeployment({ name: 'web', namespace: 'default', body: { spec: { template: { spec: { containers: [{ name: 'c', image: 'img:2' }] } } } } }, k8s.setHeaderOptions('Content-Type', 'application/strategic-merge-patch+json'));
    const replaced = await waitUntil(async () => {
      const p = await podsOf('web');
      return p.length === 1 && p[0].metadata?.labels?.['pod-template-hash'] !== oldHash ? p : undefined;
    }, 'new template pod');
    assert.equal(replaced[0].spec?.containers[0].image, 'img:2');

    // Deleting the Deployment garbage-collects its pods.
    await sim.apps.deleteNamespacedDeployment({ name: 'web', namespace: 'default' });
    await waitUntil(async () => (await sim.core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=web' })).items.length === 0, 'pods collected');
    assert.deepEqual(sim.server.controllerErrors(), []);
  });
});
