// Checklist items 9-10 (status and scale subresources, generation) and 13 (selectors).
import * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createWidgetCrd, expectApiError, raw, startSim, W, widget, type Sim } from './api-helpers.js';

type Widget = { metadata: k8s.V1ObjectMeta; spec?: { replicas?: number; size?: string }; status?: Record<string, unknown> };
const merge = k8s.setHeaderOptions('Content-Type', 'application/merge-patch+json');

describe('kube-sim API: subresources, generation, selectors', () => {
  let sim: Sim;
  before(async () => {
    sim = await startSim();
    await createWidgetCrd(sim);
  });
  after(() => sim.close());

  it('9: status subresource: POST drops status, main writes keep it, /status writes change only status', async () => {
    const created = (await sim.custom.createNamespacedCustomObject({ ...W, namespace: 'default', body: { ...widget('s9'), status: { phase: 'Fake' } } })) as Widget;
    assert.equal(created.status, undefined);
    const withStatus = (await sim.custom.replaceNamespacedCustomObjectStatus({ ...W, namespace: 'default', name: 's9', body: { ...created, spec: { replicas: 99 }, status: { phase: 'Running', replicas: 1 } } })) as Widget;
    assert.deepEqual(withStatus.status, { phase: 'Running', replicas: 1 });
    assert.equal(withStatus.spec?.replicas, 1, 'spec changes through /status are ignored');
    const mainWrite = (await sim.custom.replaceNamespacedCustomObject({ ...W, namespace: 'default', name: 's9', body: { ...withStatus, spec: { replicas: 2 }, status: { phase: 'Overwritten' } } })) as Widget;
    assert.equal(mainWrite.spec?.replicas, 2);
    assert.deepEqual(mainWrite.status, { phase: 'Running', replicas: 1 });
    const patched = (await sim.custom.patchNamespacedCustomObjectStatus({ ...W, namespace: 'default', name: 's9', body: { status: { phase: 'Done' }, metadata: { labels: { x: 'y' } } } }, merge)) as Widget;
    assert.equal(patched.status?.phase, 'Done');
    assert.equal(patched.metadata.labels, undefined, 'metadata changes through /status are ignored');
    // Pods: the kubelet's path.
    await sim.core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'p9' }, spec: { containers: [{ name: 'c', image: 'i' }] }, status: { phase: 'Running' } } });
    const pod = await sim.core.readNamespacedPod({ name: 'p9', namespace: 'default' });
    assert.equal(pod.status?.phase, 'Pending');
    const running = await sim.core.patchNamespacedPodStatus({ name: 'p9', namespace: 'default', body: { status: { phase: 'Running', podIP: '127.0.0.2' } } }, merge);
    assert.equal(running.status?.podIP, '127.0.0.2');
  });

  it('9: scale subresource reads and writes the paths the CRD names (and Deployments)', async () => {
    await sim.custom.createNamespacedCustomObject({ ...W, namespace: 'default', body: widget('s9-scale', { replicas: 3 }) });
    await sim.custom.patchNamespacedCustomObjectStatus({ ...W, namespace: 'default', name: 's9-scale', body: { status: { replicas: 2, selector: 'app=w' } } }, merge);
    const scale = (await sim.custom.getNamespacedCustomObjectScale({ ...W, namespace: 'default', name: 's9-scale' })) as k8s.V1Scale;
    assert.deepEqual([scale.kind, scale.apiVersion, scale.spec?.replicas, scale.status?.replicas, scale.status?.selector], ['Scale', 'autoscaling/v1', 3, 2, 'app=w']);
    const rescaled = (await sim.custom.patchNamespacedCustomObjectScale({ ...W, namespace: 'default', name: 's9-scale', body: { spec: { replicas: 7 } } }, merge)) as k8s.V1Scale;
    assert.equal(rescaled.spec?.replicas, 7);
    const obj = (await sim.custom.getNamespacedCustomObject({ ...W, namespace: 'default', name: 's9-scale' })) as Widget;
    assert.equal(obj.spec?.replicas, 7);
    const negative = await raw(sim, 'PUT', '/apis/example.com/v1/namespaces/default/widgets/s9-scale/scale', { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 's9-scale' }, spec: { replicas: -1 } });
    assert.equal(negative.status, 422);
    const stale = await raw(sim, 'PUT', '/apis/example.com/v1/namespaces/default/widgets/s9-scale/scale', { ...scale, spec: { replicas: 1 } });
    assert.equal(stale.status, 409);
    await sim.apps.createNamespacedDeployment({ namespace: 'default', body: {
      metadata: { name: 'd9' }, spec: { replicas: 0, selector: { matchLabels: { app: 'd9' } }, template: { metadata: { labels: { app: 'd9' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } },
    } });
    const dscale = await sim.apps.readNamespacedDeploymentScale({ name: 'd9', namespace: 'default' });
    assert.equal(dscale.status?.selector, 'app=d9');
    const replaced = await sim.apps.replaceNamespacedDeploymentScale({ name: 'd9', namespace: 'default', body: { ...dscale, spec: { replicas: 0 } } });
    assert.equal(replaced.spec?.replicas, 0);
  });

  it('10: generation rises on changes outside metadata and status only; observedGeneration is never written', async () => {
    const created = (await sim.custom.createNamespacedCustomObject({ ...W, namespace: 'default', body: widget('g10', { replicas: 1 }) })) as Widget;
    assert.equal(created.metadata.generation, 1);
    const labelled = (await sim.custom.patchNamespacedCustomObject({ ...W, namespace: 'default', name: 'g10', body: { metadata: { labels: { a: 'b' } } } }, merge)) as Widget;
    assert.equal(labelled.metadata.generation, 1);
    const status = (await sim.custom.patchNamespacedCustomObjectStatus({ ...W, namespace: 'default', name: 'g10', body: { status: { ready: true } } }, merge)) as Widget;
    assert.equal(status.metadata.generation, 1);
    const spec = (await sim.custom.patchNamespacedCustomObject({ ...W, namespace: 'default', name: 'g10', body: { spec: { replicas: 5 } } }, merge)) as Widget;
    assert.equal(spec.metadata.generation, 2);
    await sim.custom.patchNamespacedCustomObjectScale({ ...W, namespace: 'default', name: 'g10', body: { spec: { replicas: 6 } } }, merge);
    const scaled = (await sim.custom.getNamespacedCustomObject({ ...W, namespace: 'default', name: 'g10' })) as Widget;
    assert.equal(scaled.metadata.generation, 3, 'a scale write changes spec, so generation rises');
    assert.equal(scaled.status?.observedGeneration, undefined);
  });

  it('13: label selectors (=, ==, !=, in, notin, exists, !exists) and field selectors; others 400', async () => {
    await sim.core.createNamespace({ body: { metadata: { name: 'sel' } } });
    const mk = (name: string, labels: Record<string, string>) => sim.core.createNamespacedConfigMap({ namespace: 'sel', body: { metadata: { name, labels } } });
    await mk('a', { env: 'prod', tier: 'web' });
    await mk('b', { env: 'dev', tier: 'db' });
    await mk('c', { env: 'qa' });
    const names = async (labelSelector?: string, fieldSelector?: string) =>
      (await sim.core.listNamespacedConfigMap({ namespace: 'sel', labelSelector, fieldSelector })).items.map((i) => i.metadata?.name).join(',');
    assert.equal(await names('env=prod'), 'a');
    assert.equal(await names('env==dev'), 'b');
    assert.equal(await names('env!=prod'), 'b,c');
    assert.equal(await names('env in (prod, qa)'), 'a,c');
    assert.equal(await names('env notin (prod,qa)'), 'b');
    assert.equal(await names('tier'), 'a,b');
    assert.equal(await names('!tier'), 'c');
    assert.equal(await names('env in (prod,dev),tier=db'), 'b');
    assert.equal(await names(undefined, 'metadata.name=b'), 'b');
    assert.equal(await names(undefined, 'metadata.name!=b,metadata.namespace=sel'), 'a,c');
    const bad = await expectApiError(sim.core.listNamespacedConfigMap({ namespace: 'sel', fieldSelector: 'data.x=1' }), 400);
    assert.equal(bad.reason, 'BadRequest');
    await expectApiError(sim.core.listNamespacedConfigMap({ namespace: 'sel', labelSelector: 'env in prod' }), 400);
    // Pods: spec.nodeName and status.phase.
    for (const [name, node] of [['p1', 'n1'], ['p2', 'n2']]) {
      await sim.core.createNamespacedPod({ namespace: 'sel', body: { metadata: { name }, spec: { nodeName: node, containers: [{ name: 'c', image: 'i' }] } } });
    }
    await sim.core.patchNamespacedPodStatus({ name: 'p2', namespace: 'sel', body: { status: { phase: 'Running' } } }, merge);
    const pods = async (fieldSelector: string) => (await sim.core.listNamespacedPod({ namespace: 'sel', fieldSelector })).items.map((i) => i.metadata?.name).join(',');
    assert.equal(await pods('spec.nodeName=n1'), 'p1');
    assert.equal(await pods('status.phase=Running'), 'p2');
    assert.equal(await pods('status.phase!=Running,spec.nodeName=n1'), 'p1');
    // Custom resources: only metadata.name and metadata.namespace.
    const crBad = await raw(sim, 'GET', '/apis/example.com/v1/widgets?fieldSelector=spec.replicas%3D1');
    assert.equal(crBad.status, 400);
    const crOk = await raw(sim, 'GET', '/apis/example.com/v1/widgets?fieldSelector=metadata.name%3Dg10');
    assert.deepEqual((crOk.body.items as Widget[]).map((i) => i.metadata.name), ['g10']);
  });
});
