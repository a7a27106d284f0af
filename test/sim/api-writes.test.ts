// Checklist B (writes, concurrency, patches, server-side apply) through @kubernetes/client-node.
import * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createWidgetCrd, expectApiError, raw, startSim, W, widget, type Sim } from './api-helpers.js';

const patchAs = (type: string) => k8s.setHeaderOptions('Content-Type', type);

describe('kube-sim API: writes and concurrency', () => {
  let sim: Sim;
  before(async () => {
    sim = await startSim();
    await createWidgetCrd(sim);
  });
  after(() => sim.close());

  it('B4: one global decimal resourceVersion; a no-op write changes nothing and emits no event', async () => {
    const a = await sim.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'b4-a' }, data: { k: 'v' } } });
    const b = await sim.core.createNamespacedSecret({ namespace: 'default', body: { metadata: { name: 'b4-b' } } });
    assert.match(a.metadata?.resourceVersion ?? '', /^\d+$/);
    assert.equal(Number(b.metadata?.resourceVersion), Number(a.metadata?.resourceVersion) + 1, 'one counter across kinds');
    const events = sim.server.store.eventCount;
    const same = await sim.core.replaceNamespacedConfigMap({ name: 'b4-a', namespace: 'default', body: a });
    assert.equal(same.metadata?.resourceVersion, a.metadata?.resourceVersion);
    const patched = await sim.core.patchNamespacedConfigMap({ name: 'b4-a', namespace: 'default', body: { data: { k: 'v' } } }, patchAs('application/merge-patch+json'));
    assert.equal(patched.metadata?.resourceVersion, a.metadata?.resourceVersion);
    assert.equal(sim.server.store.eventCount, events, 'no event for no-op writes');
  });

  it('B5: stale resourceVersion is a 409 Conflict; custom resources need one on PUT; PUT never creates', async () => {
    const cm = await sim.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'b5' }, data: { n: '1' } } });
    await sim.core.replaceNamespacedConfigMap({ name: 'b5', namespace: 'default', body: { ...cm, data: { n: '2' } } });
    const stale = await expectApiError(sim.core.replaceNamespacedConfigMap({ name: 'b5', namespace: 'default', body: { ...cm, data: { n: '3' } } }), 409);
    assert.equal(stale.reason, 'Conflict');
    assert.equal(stale.message, 'Operation cannot be fulfilled on configmaps "b5": the object has been modified; please apply your changes to the latest version and try again');
    // Built-ins allow unconditional updates.
    await sim.core.replaceNamespacedConfigMap({ name: 'b5', namespace: 'default', body: { metadata: { name: 'b5' }, data: { n: '4' } } });
    await sim.custom.createNamespacedCustomObject({ ...W, namespace: 'default', body: widget('b5') });
    const noRv = await expectApiError(sim.custom.replaceNamespacedCustomObject({ ...W, namespace: 'default', name: 'b5', body: widget('b5', { replicas: 2 }) }), 422);
    assert.match(String(noRv.message), /^Widget.example.com "b5" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update/);
    const neverCreated = await expectApiError(sim.core.replaceNamespacedConfigMap({ name: 'b5-new', namespace: 'default', body: { metadata: { name: 'b5-new' } } }), 404);
    assert.equal(neverCreated.reason, 'NotFound');
  });

  it('B5: built-in update rules: pod spec, Deployment selector and immutable ConfigMaps are fixed; Services keep clusterIP', async () => {
    await sim.core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'b5-pod' }, spec: { containers: [{ name: 'c', image: 'i:1' }] } } });
    const image = await sim.core.patchNamespacedPod({ name: 'b5-pod', namespace: 'default', body: { spec: { containers: [{ name: 'c', image: 'i:2' }] } } }, patchAs('application/strategic-merge-patch+json'));
    assert.equal(image.spec?.containers[0].image, 'i:2', 'images may change');
    const node = await expectApiError(sim.core.patchNamespacedPod({ name: 'b5-pod', namespace: 'default', body: { spec: { nodeName: 'n1' } } }, patchAs('application/merge-patch+json')), 422);
    assert.match(String(node.message), /^Pod "b5-pod" is invalid: spec: Forbidden: pod updates may not change fields other than/);
    await sim.apps.createNamespacedDeployment({ namespace: 'default', body: { metadata: { name: 'b5-d' }, spec: { replicas: 0, selector: { matchLabels: { a: '1' } }, template: { metadata: { labels: { a: '1' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } } } });
    const selector = await expectApiError(sim.apps.patchNamespacedDeployment({ name: 'b5-d', namespace: 'default', body: { spec: { selector: { matchLabels: { a: '2' } } } } }, patchAs('application/merge-patch+json')), 422);
    assert.match(String(selector.message), /^Deployment.apps "b5-d" is invalid: spec.selector: Invalid value: .*field is immutable/);
    await sim.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'b5-frozen' }, data: { a: '1' }, immutable: true } });
    await expectApiError(sim.core.patchNamespacedConfigMap({ name: 'b5-frozen', namespace: 'default', body: { data: { a: '2' } } }, patchAs('application/merge-patch+json')), 422);
    const svc = await sim.core.createNamespacedService({ namespace: 'default', body: { metadata: { name: 'b5-svc' }, spec: { ports: [{ port: 80 }] } } });
    const replaced = await sim.core.replaceNamespacedService({ name: 'b5-svc', namespace: 'default', body: { metadata: { name: 'b5-svc' }, spec: { ports: [{ port: 81 }] } } });
    assert.equal(replaced.spec?.clusterIP, svc.spec?.clusterIP);
  });

  it('B6: POST sets uid, creationTimestamp, generation, resourceVersion; duplicates, generateName, namespaces', async () => {
    const created = (await sim.custom.createNamespacedCustomObject({ ...W, namespace: 'default', body: widget('b6') })) as k8s.KubernetesObject & { metadata: k8s.V1ObjectMeta };
    assert.match(created.metadata.uid ?? '', /^[0-9a-f-]{36}$/);
    assert.ok(created.metadata.creationTimestamp);
    assert.equal(created.metadata.generation, 1);
    assert.match(created.metadata.resourceVersion ?? '', /^\d+$/);
    const dup = await expectApiError(sim.custom.createNamespacedCustomObject({ ...W, namespace: 'default', body: widget('b6') }), 409);
    assert.equal(dup.reason, 'AlreadyExists');
    assert.equal(dup.message, 'widgets.example.com "b6" already exists');
    const generated = await sim.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { generateName: 'gen-' } } });
    assert.match(generated.metadata?.name ?? '', /^gen-[a-z0-9]{5}$/);
    const noNs = await expectApiError(sim.core.createNamespacedConfigMap({ namespace: 'missing', body: { metadata: { name: 'x' } } }), 404);
    assert.equal(noNs.message, 'namespaces "missing" not found');
    await sim.core.createNamespace({ body: { metadata: { name: 'b6-term', finalizers: ['example.com/hold'] } } });
    await sim.core.deleteNamespace({ name: 'b6-term' });
    const terminating = await expectApiError(sim.core.createNamespacedConfigMap({ namespace: 'b6-term', body: { metadata: { name: 'x' } } }), 403);
    assert.equal(terminating.reason, 'Forbidden');
    assert.match(String(terminating.message), /unable to create new content in namespace b6-term because it is being terminated/);
  });

  it('B7: json, merge and strategic merge patches; strategic is 415 for custom resources; other types 415', async () => {
    await sim.apps.createNamespacedDeployment({ namespace: 'default', body: {
      metadata: { name: 'b7' },
      spec: { replicas: 0, selector: { matchLabels: { app: 'b7' } }, template: { metadata: { labels: { app: 'b7' } }, spec: { containers: [
        { name: 'main', image: 'a:1', env: [{ name: 'A', value: '1' }] }, { name: 'side', image: 's:1' },
      ] } } },
    } });
    const strategic = await sim.apps.patchNamespacedDeployment({ name: 'b7', namespace: 'default', body: {
      spec: { template: { spec: { containers: [{ name: 'main', image: 'a:2', env: [{ name: 'B', value: '2' }] }, { name: 'side', $patch: 'delete' }] } } },
    } }, patchAs('application/strategic-merge-patch+json'));
    const containers = strategic.spec?.template.spec?.containers ?? [];
    assert.deepEqual(containers.map((c) => [c.name, c.image, c.env?.map((e) => e.name)]), [['main', 'a:2', ['A', 'B']]]);
    const merged = await sim.apps.patchNamespacedDeployment({ name: 'b7', namespace: 'default', body: { metadata: { labels: { tier: 'x' } }, spec: { paused: true } } }, patchAs('application/merge-patch+json'));
    assert.equal(merged.metadata?.labels?.tier, 'x');
    assert.equal(merged.spec?.paused, true);
    const json = await sim.apps.patchNamespacedDeployment({ name: 'b7', namespace: 'default', body: [
      { op: 'test', path: '/spec/paused', value: true }, { op: 'replace', path: '/spec/replicas', value: 0 }, { op: 'remove', path: '/metadata/labels/tier' },
    ] }, patchAs('application/json-patch+json'));
    assert.equal(json.metadata?.labels?.tier, undefined);
    const failedTest = await raw(sim, 'PATCH', '/apis/apps/v1/namespaces/default/deployments/b7', [{ op: 'test', path: '/spec/paused', value: false }], 'application/json-patch+json');
    assert.equal(failedTest.status, 422);
    await sim.custom.createNamespacedCustomObject({ ...W, namespace: 'default', body: widget('b7') });
    const crStrategic = await raw(sim, 'PATCH', '/apis/example.com/v1/namespaces/default/widgets/b7', { spec: { replicas: 3 } }, 'application/strategic-merge-patch+json');
    assert.equal(crStrategic.status, 415);
    assert.equal(crStrategic.body.reason, 'UnsupportedMediaType');
    const crMerge = await raw(sim, 'PATCH', '/apis/example.com/v1/namespaces/default/widgets/b7', { spec: { replicas: 3 } }, 'application/merge-patch+json');
    assert.equal((crMerge.body.spec as { replicas: number }).replicas, 3);
    assert.equal((await raw(sim, 'PATCH', '/apis/example.com/v1/namespaces/default/widgets/b7', '{}', 'application/xml')).status, 415);
  });

  it('B8: server-side apply needs fieldManager, creates, keeps managedFields, reports conflicts unless forced', async () => {
    const path = '/api/v1/namespaces/default/configmaps/b8';
    const config = (data: Record<string, string>) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b8\ndata:\n${Object.entries(data).map(([k, v]) => `  ${k}: "${v}"`).join('\n')}\n`;
    const noManager = await raw(sim, 'PATCH', path, config({ a: '1' }), 'application/apply-patch+yaml');
    assert.equal(noManager.status, 422);
    const created = await raw(sim, 'PATCH', `${path}?fieldManager=alice`, config({ a: '1', b: '2' }), 'application/apply-patch+yaml');
    assert.equal(created.status, 201);
    const managed = (created.body.metadata as { managedFields: Array<{ manager: string; operation: string; fieldsV1: unknown }> }).managedFields;
    assert.deepEqual(managed.map((m) => [m.manager, m.operation]), [['alice', 'Apply']]);
    assert.deepEqual(managed[0].fieldsV1, { 'f:data': { 'f:a': {}, 'f:b': {} } });
    // Bob changes a field alice owns: conflict, unless forced; then bob owns it.
    const conflict = await raw(sim, 'PATCH', `${path}?fieldManager=bob`, config({ a: 'bob' }), 'application/apply-patch+yaml');
    assert.equal(conflict.status, 409);
    assert.equal(conflict.body.reason, 'Conflict');
    assert.deepEqual((conflict.body.details as { causes: unknown[] }).causes, [{ reason: 'FieldManagerConflict', message: 'conflict with "alice" using v1', field: '.data.a' }]);
    const forced = await raw(sim, 'PATCH', `${path}?fieldManager=bob&force=true`, config({ a: 'bob' }), 'application/apply-patch+yaml');
    assert.equal(forced.status, 200);
    assert.deepEqual(forced.body.data, { a: 'bob', b: '2' });
    // Alice drops `b` from her config: the server removes the field she alone owned.
    const dropped = await raw(sim, 'PATCH', `${path}?fieldManager=alice`, config({ c: '3' }), 'application/apply-patch+yaml');
    assert.equal(dropped.status, 200);
    assert.deepEqual(dropped.body.data, { a: 'bob', c: '3' });
    // Same value from two managers is shared ownership, not a conflict.
    const shared = await raw(sim, 'PATCH', `${path}?fieldManager=carol`, config({ c: '3' }), 'application/apply-patch+yaml');
    assert.equal(shared.status, 200);
    const viaClient = await sim.core.readNamespacedConfigMap({ name: 'b8', namespace: 'default' });
    assert.deepEqual(viaClient.metadata?.managedFields?.map((m) => m.manager).sort(), ['alice', 'bob', 'carol']);
  });

  it('B8: server-side apply merges list-type=map items of custom resources by key; other lists are atomic', async () => {
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'pools.example.com' },
      spec: { group: 'example.com', scope: 'Namespaced', names: { plural: 'pools', kind: 'Pool' }, versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: {
        type: 'object', properties: { spec: { type: 'object', properties: {
          groups: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'], items: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, replicas: { type: 'integer' } } } },
          tags: { type: 'array', items: { type: 'string' } },
        } } },
      } } }] },
    };
    assert.equal((await raw(sim, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd)).status, 201);
    const path = '/apis/example.com/v1/namespaces/default/pools/p';
    const apply = (manager: string, spec: unknown, force = false) => raw(sim, 'PATCH', `${path}?fieldManager=${manager}${force ? '&force=true' : ''}`,
      JSON.stringify({ apiVersion: 'example.com/v1', kind: 'Pool', metadata: { name: 'p' }, spec }), 'application/apply-patch+yaml');
    assert.equal((await apply('alice', { groups: [{ name: 'a', replicas: 1 }, { name: 'b', replicas: 2 }], tags: ['x'] })).status, 201);
    const bob = await apply('bob', { groups: [{ name: 'c', replicas: 3 }], tags: ['y'] }, true);
    assert.equal(bob.status, 200);
    const spec = bob.body.spec as { groups: Array<{ name: string; replicas: number }>; tags: string[] };
    assert.deepEqual(spec.groups.map((g) => `${g.name}=${g.replicas}`), ['a=1', 'b=2', 'c=3'], 'items merge by key');
    assert.deepEqual(spec.tags, ['y'], 'an atomic list is replaced whole');
    const clash = await apply('bob', { groups: [{ name: 'a', replicas: 9 }, { name: 'c', replicas: 3 }] });
    assert.equal(clash.status, 409);
    assert.deepEqual((clash.body.details as { causes: Array<{ field: string }> }).causes.map((c) => c.field), ['.spec.groups[{"name":"a"}].replicas']);
    const dropped = await apply('alice', { groups: [{ name: 'a', replicas: 1 }] });
    assert.deepEqual((dropped.body.spec as { groups: Array<{ name: string }> }).groups.map((g) => g.name), ['a', 'c'], 'alice no longer applies b, so it goes');
  });
});
