// Checklist A (wire format, discovery, lists) through @kubernetes/client-node and raw HTTP.
import * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { collectWatch, createWidgetCrd, expectApiError, raw, startSim, W, widget, type Sim } from './api-helpers.js';
import { waitUntil } from '../helpers/wait.js';

describe('kube-sim API: wire format and discovery', () => {
  let sim: Sim;
  before(async () => {
    sim = await startSim();
  });
  after(() => sim.close());

  it('A1: error bodies are Status objects with reason, details and code', async () => {
    const missing = await expectApiError(sim.core.readNamespacedConfigMap({ name: 'nope', namespace: 'default' }), 404);
    assert.deepEqual(
      { kind: missing.kind, apiVersion: missing.apiVersion, status: missing.status, reason: missing.reason, code: missing.code, message: missing.message },
      { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: 'configmaps "nope" not found' },
    );
    assert.deepEqual(missing.details, { name: 'nope', group: '', kind: 'configmaps' });
    const bad = await raw(sim, 'POST', '/api/v1/namespaces/default/configmaps', '{not json');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.reason, 'BadRequest');
    const media = await raw(sim, 'PATCH', '/api/v1/namespaces/default/configmaps/x', '{}', 'text/plain');
    assert.equal(media.status, 404, 'patching a missing object is 404 before the media type matters');
    await sim.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'a1' } } });
    const unsupported = await raw(sim, 'PATCH', '/api/v1/namespaces/default/configmaps/a1', '{}', 'text/plain');
    assert.equal(unsupported.status, 415);
    assert.equal(unsupported.body.reason, 'UnsupportedMediaType');
    const invalidName = await expectApiError(sim.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'Bad_Name' } } }), 422);
    assert.equal(invalidName.reason, 'Invalid');
    assert.match(String(invalidName.message), /^ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value/);
    const causes = (invalidName.details as { causes: Array<{ field: string; reason: string }> }).causes;
    assert.deepEqual(causes.map((c) => [c.field, c.reason]), [['metadata.name', 'FieldValueInvalid']]);
    // ObjectMeta rules hold for every kind, custom resources too; several causes print as [a, b].
    const labels = await expectApiError(sim.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'a1-labels', labels: { 'bad key': 'ok', good: 'bad value!' } } } }), 422);
    assert.deepEqual((labels.details as { causes: Array<{ field: string; reason: string }> }).causes.map((c) => [c.field, c.reason]), [['metadata.labels', 'FieldValueInvalid'], ['metadata.labels', 'FieldValueInvalid']]);
    assert.match(String(labels.message), /^ConfigMap "a1-labels" is invalid: \[metadata.labels: Invalid value: "bad key": name part must consist of .*, metadata.labels: Invalid value: "bad value!": a valid label must be/);
    const owner = await expectApiError(sim.core.createNamespacedSecret({ namespace: 'default', body: { metadata: { name: 'a1-owner', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'x', uid: '' }] } } }), 422);
    assert.match(String(owner.message), /metadata.ownerReferences.uid: Invalid value: "": uid must not be empty/);
    const notAllowed = await raw(sim, 'POST', '/api/v1/namespaces/default/configmaps/a1');
    assert.equal(notAllowed.status, 405);
    assert.equal(notAllowed.body.kind, 'Status');
  });

  it('A2: discovery lists resources, verbs, short names and subresources; unknown paths are 404', async () => {
    const core = (await raw(sim, 'GET', '/api')).body;
    assert.deepEqual(core.versions, ['v1']);
    const v1 = (await raw(sim, 'GET', '/api/v1')).body as { kind: string; resources: Array<{ name: string; namespaced: boolean; verbs: string[]; shortNames?: string[] }> };
    assert.equal(v1.kind, 'APIResourceList');
    const pods = v1.resources.find((r) => r.name === 'pods');
    assert.ok(pods?.namespaced && pods.verbs.includes('watch') && pods.shortNames?.includes('po'));
    assert.ok(v1.resources.some((r) => r.name === 'pods/status'));
    assert.equal(v1.resources.find((r) => r.name === 'nodes')?.namespaced, false);
    const groups = (await raw(sim, 'GET', '/apis')).body as { groups: Array<{ name: string }> };
    for (const g of ['apps', 'rbac.authorization.k8s.io', 'coordination.k8s.io', 'apiextensions.k8s.io', 'events.k8s.io']) {
      assert.ok(groups.groups.some((x) => x.name === g), g);
    }
    const apps = (await raw(sim, 'GET', '/apis/apps/v1')).body as { resources: Array<{ name: string; kind: string; group?: string }> };
    assert.deepEqual(apps.resources.find((r) => r.name === 'deployments/scale'), { name: 'deployments/scale', singularName: '', namespaced: true, kind: 'Scale', verbs: ['get', 'patch', 'update'], group: 'autoscaling', version: 'v1' });
    const version = await sim.kc.makeApiClient(k8s.VersionApi).getCode();
    assert.equal(version.major, '1');
    const unknown = await raw(sim, 'GET', '/apis/nope.example.com/v1/things');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.message, 'the server could not find the requested resource');

    // A CRD is served once Established, with its short names and subresources.
    assert.equal((await raw(sim, 'GET', '/apis/example.com/v1/namespaces/default/widgets')).status, 404);
    await createWidgetCrd(sim);
    const served = (await raw(sim, 'GET', '/apis/example.com/v1')).body as { resources: Array<{ name: string; shortNames?: string[] }> };
    assert.deepEqual(served.resources.map((r) => r.name).sort(), ['widgets', 'widgets/scale', 'widgets/status']);
    assert.deepEqual(served.resources.find((r) => r.name === 'widgets')?.shortNames, ['wd']);
    const crd = await sim.ext.readCustomResourceDefinition({ name: 'widgets.example.com' });
    assert.deepEqual(crd.status?.conditions?.map((c) => [c.type, c.status]).sort(), [['Established', 'True'], ['NamesAccepted', 'True']]);
    await sim.custom.createNamespacedCustomObject({ ...W, namespace: 'default', body: widget('w1') });

    // Deleting the CRD deletes its objects, ends its watches and stops serving the kind.
    const w = await collectWatch(sim, '/apis/example.com/v1/namespaces/default/widgets', { resourceVersion: String(sim.server.store.currentRv()) });
    await sim.ext.deleteCustomResourceDefinition({ name: 'widgets.example.com' });
    assert.equal(await w.ended, null);
    assert.deepEqual(w.events.map((e) => [e.type, e.object.metadata?.name]), [['DELETED', 'w1']]);
    await waitUntil(async () => (await raw(sim, 'GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com')).status === 404, 'CRD gone');
    assert.equal(sim.server.store.count('example.com/widgets'), 0);
    assert.equal((await raw(sim, 'GET', '/apis/example.com/v1/namespaces/default/widgets')).status, 404);
    assert.ok(!((await raw(sim, 'GET', '/apis')).body as { groups: Array<{ name: string }> }).groups.some((g) => g.name === 'example.com'));
  });

  it('A3: lists carry kind XList and resourceVersion, and page with limit/continue', async () => {
    await sim.core.createNamespace({ body: { metadata: { name: 'paging' } } });
    for (let i = 0; i < 5; i++) await sim.core.createNamespacedConfigMap({ namespace: 'paging', body: { metadata: { name: `cm-${i}` } } });
    const listed = await raw(sim, 'GET', '/api/v1/namespaces/paging/configmaps');
    assert.equal(listed.body.kind, 'ConfigMapList');
    assert.equal(listed.body.apiVersion, 'v1');
    assert.match(String((listed.body.metadata as { resourceVersion: string }).resourceVersion), /^\d+$/);
    const names: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await sim.core.listNamespacedConfigMap({ namespace: 'paging', limit: 2, _continue: token });
      names.push(...page.items.map((i) => i.metadata?.name ?? ''));
      token = page.metadata?._continue;
      if (token) assert.equal(page.metadata?.remainingItemCount, 5 - names.length);
      pages++;
    } while (token);
    assert.equal(pages, 3);
    assert.deepEqual(names, ['cm-0', 'cm-1', 'cm-2', 'cm-3', 'cm-4']);
    const first = await sim.core.listNamespacedConfigMap({ namespace: 'paging', limit: 2 });
    sim.server.faults.compact();
    await sim.core.createNamespacedConfigMap({ namespace: 'paging', body: { metadata: { name: 'cm-late' } } });
    const stale = await expectApiError(sim.core.listNamespacedConfigMap({ namespace: 'paging', limit: 2, _continue: first.metadata?._continue }), 410);
    assert.equal(stale.reason, 'Expired');
    const all = await sim.core.listConfigMapForAllNamespaces();
    assert.ok(all.items.some((i) => i.metadata?.namespace === 'paging') && all.items.length >= 6);
  });
});
