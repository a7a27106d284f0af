// Checklist D (deletion): immediate deletes, finalizers, garbage collection, namespaces, pods.
import * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { collectWatch, createWidgetCrd, expectApiError, startSim, W, widget, type Sim } from './api-helpers.js';
import { waitUntil } from '../helpers/wait.js';

const merge = k8s.setHeaderOptions('Content-Type', 'application/merge-patch+json');
const gone = (call: Promise<unknown>) => call.then(() => false, (e: { code?: number }) => e.code === 404);

describe('kube-sim API: deletion', () => {
  let sim: Sim;
  before(async () => {
    sim = await startSim();
    await createWidgetCrd(sim);
  });
  after(() => sim.close());

  it('D14: without finalizers DELETE removes at once and emits DELETED', async () => {
    await sim.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'd14' } } });
    const w = await collectWatch(sim, '/api/v1/namespaces/default/configmaps', { resourceVersion: String(sim.server.store.currentRv()), fieldSelector: 'metadata.name=d14' });
    await sim.core.deleteNamespacedConfigMap({ name: 'd14', namespace: 'default' });
    assert.ok(await gone(sim.core.readNamespacedConfigMap({ name: 'd14', namespace: 'default' })));
    const [evt] = await w.waitForEvents(1);
    assert.equal(evt.type, 'DELETED');
    w.stop();
  });

  it('D15: with finalizers DELETE sets deletionTimestamp once; finalizers can only be removed; emptying them deletes', async () => {
    await sim.custom.createNamespacedCustomObject({ ...W, namespace: 'default', body: { ...widget('d15'), metadata: { name: 'd15', finalizers: ['example.com/a', 'example.com/b'] } } });
    const w = await collectWatch(sim, '/apis/example.com/v1/namespaces/default/widgets', { resourceVersion: String(sim.server.store.currentRv()) });
    await sim.custom.deleteNamespacedCustomObject({ ...W, namespace: 'default', name: 'd15' });
    const first = (await sim.custom.getNamespacedCustomObject({ ...W, namespace: 'default', name: 'd15' })) as { metadata: k8s.V1ObjectMeta };
    assert.ok(first.metadata.deletionTimestamp);
    await sim.custom.deleteNamespacedCustomObject({ ...W, namespace: 'default', name: 'd15' });
    const second = (await sim.custom.getNamespacedCustomObject({ ...W, namespace: 'default', name: 'd15' })) as { metadata: k8s.V1ObjectMeta };
    assert.equal(String(second.metadata.deletionTimestamp), String(first.metadata.deletionTimestamp), 'set once');
    assert.equal(second.metadata.resourceVersion, first.metadata.resourceVersion, 'a repeated DELETE changes nothing');
    const adding = await expectApiError(sim.custom.patchNamespacedCustomObject({ ...W, namespace: 'default', name: 'd15', body: { metadata: { finalizers: ['example.com/a', 'example.com/b', 'example.com/c'] } } }, merge), 422);
    assert.match(String(adding.message), /no new finalizers can be added if the object is being deleted/);
    await sim.custom.patchNamespacedCustomObject({ ...W, namespace: 'default', name: 'd15', body: { metadata: { finalizers: ['example.com/b'] } } }, merge);
    assert.ok(!(await gone(sim.custom.getNamespacedCustomObject({ ...W, namespace: 'default', name: 'd15' }))));
    await sim.custom.patchNamespacedCustomObject({ ...W, namespace: 'default', name: 'd15', body: { metadata: { finalizers: null } } }, merge);
    assert.ok(await gone(sim.custom.getNamespacedCustomObject({ ...W, namespace: 'default', name: 'd15' })));
    assert.deepEqual((await w.waitForEvents(3)).map((e) => e.type), ['MODIFIED', 'MODIFIED', 'DELETED']);
    w.stop();
  });

  it('D16: garbage collection by ownerReferences: background, foreground with blockOwnerDeletion, orphan', async () => {
    const owner = async (name: string) => (await sim.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name } } })).metadata as k8s.V1ObjectMeta;
    const dependent = (name: string, o: k8s.V1ObjectMeta, block = false) => sim.core.createNamespacedSecret({ namespace: 'default', body: {
      metadata: { name, ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: o.name ?? '', uid: o.uid ?? '', blockOwnerDeletion: block }] },
    } });
    const secretGone = (name: string) => gone(sim.core.readNamespacedSecret({ name, namespace: 'default' }));

    const bg = await owner('bg');
    await dependent('bg-dep', bg);
    await sim.core.deleteNamespacedConfigMap({ name: 'bg', namespace: 'default' });
    await waitUntil(() => secretGone('bg-dep'), 'background GC of bg-dep');

    const fg = await owner('fg');
    await sim.core.createNamespacedSecret({ namespace: 'default', body: {
      metadata: { name: 'fg-dep', finalizers: ['example.com/hold'], ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'fg', uid: fg.uid ?? '', blockOwnerDeletion: true }] },
    } });
    await sim.core.deleteNamespacedConfigMap({ name: 'fg', namespace: 'default', propagationPolicy: 'Foreground' });
    const waiting = await sim.core.readNamespacedConfigMap({ name: 'fg', namespace: 'default' });
    assert.ok(waiting.metadata?.deletionTimestamp);
    assert.deepEqual(waiting.metadata?.finalizers, ['foregroundDeletion']);
    await waitUntil(async () => (await sim.core.readNamespacedSecret({ name: 'fg-dep', namespace: 'default' })).metadata?.deletionTimestamp, 'dependent marked for deletion');
    assert.ok(!(await gone(sim.core.readNamespacedConfigMap({ name: 'fg', namespace: 'default' }))), 'owner waits for its blocking dependent');
    await sim.core.patchNamespacedSecret({ name: 'fg-dep', namespace: 'default', body: { metadata: { finalizers: null } } }, merge);
    await waitUntil(() => gone(sim.core.readNamespacedConfigMap({ name: 'fg', namespace: 'default' })), 'foreground owner deleted');

    const or = await owner('or');
    await dependent('or-dep', or);
    await sim.core.deleteNamespacedConfigMap({ name: 'or', namespace: 'default', propagationPolicy: 'Orphan' });
    await waitUntil(() => gone(sim.core.readNamespacedConfigMap({ name: 'or', namespace: 'default' })), 'orphaning owner deleted');
    const orphan = await sim.core.readNamespacedSecret({ name: 'or-dep', namespace: 'default' });
    assert.equal(orphan.metadata?.ownerReferences, undefined);
    assert.deepEqual(sim.server.controllerErrors(), []);
  });

  it('D16: namespace deletion: Terminating, contents deleted, then the namespace', async () => {
    await sim.core.createNamespace({ body: { metadata: { name: 'doomed' } } });
    await sim.core.createNamespacedConfigMap({ namespace: 'doomed', body: { metadata: { name: 'held', finalizers: ['example.com/hold'] } } });
    await sim.custom.createNamespacedCustomObject({ ...W, namespace: 'doomed', body: widget('w') });
    await sim.core.deleteNamespace({ name: 'doomed' });
    const ns = await sim.core.readNamespace({ name: 'doomed' });
    assert.equal(ns.status?.phase, 'Terminating');
    await waitUntil(() => gone(sim.custom.getNamespacedCustomObject({ ...W, namespace: 'doomed', name: 'w' })), 'widget deleted');
    assert.ok(!(await gone(sim.core.readNamespace({ name: 'doomed' }))), 'waits for the finalizer');
    await sim.core.patchNamespacedConfigMap({ name: 'held', namespace: 'doomed', body: { metadata: { finalizers: null } } }, merge);
    await waitUntil(() => gone(sim.core.readNamespace({ name: 'doomed' })), 'namespace deleted');
  });

  it('D16: garbage collection can be switched off to mimic a bare API server', async () => {
    const bare = await startSim({ garbageCollection: false });
    try {
      const o = (await bare.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'o' } } })).metadata as k8s.V1ObjectMeta;
      await bare.core.createNamespacedSecret({ namespace: 'default', body: { metadata: { name: 'dep', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'o', uid: o.uid ?? '' }] } } });
      await bare.core.deleteNamespacedConfigMap({ name: 'o', namespace: 'default' });
      await bare.core.createNamespace({ body: { metadata: { name: 'stuck' } } });
      await bare.core.deleteNamespace({ name: 'stuck' });
      // Give a would-be collector a chance to run: a later write is only answered after earlier ticks.
      for (let i = 0; i < 5; i++) await bare.core.listNamespacedSecret({ namespace: 'default' });
      assert.ok(await bare.core.readNamespacedSecret({ name: 'dep', namespace: 'default' }));
      const stuck = await bare.core.readNamespace({ name: 'stuck' });
      assert.equal(stuck.status?.phase, 'Terminating');
      assert.deepEqual(stuck.spec?.finalizers, ['kubernetes']);
      // What the namespace controller would do: empty spec.finalizers through /finalize.
      await bare.core.replaceNamespaceFinalize({ name: 'stuck', body: { ...stuck, spec: { finalizers: [] } } });
      assert.ok(await gone(bare.core.readNamespace({ name: 'stuck' })));
    } finally {
      await bare.close();
    }
  });

  it('D17: deleting a bound pod is graceful until the kubelet deletes it with grace 0', async () => {
    await sim.core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'bound' }, spec: { nodeName: 'node-1', terminationGracePeriodSeconds: 20, containers: [{ name: 'c', image: 'i' }] } } });
    await sim.core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'unbound' }, spec: { containers: [{ name: 'c', image: 'i' }] } } });
    const before = Date.now();
    await sim.core.deleteNamespacedPod({ name: 'bound', namespace: 'default' });
    const pending = await sim.core.readNamespacedPod({ name: 'bound', namespace: 'default' });
    assert.equal(pending.metadata?.deletionGracePeriodSeconds, 20);
    const due = new Date(String(pending.metadata?.deletionTimestamp)).getTime();
    assert.ok(due >= before + 18_000 && due <= Date.now() + 21_000, 'deletionTimestamp = now + grace');
    await sim.core.deleteNamespacedPod({ name: 'bound', namespace: 'default', gracePeriodSeconds: 0 });
    assert.ok(await gone(sim.core.readNamespacedPod({ name: 'bound', namespace: 'default' })));
    await sim.core.deleteNamespacedPod({ name: 'unbound', namespace: 'default' });
    assert.ok(await gone(sim.core.readNamespacedPod({ name: 'unbound', namespace: 'default' })), 'an unbound pod goes at once');
  });
});
