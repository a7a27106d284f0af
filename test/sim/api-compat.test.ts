// What kubectl and helm need beyond the checklist's letter: protobuf bodies from typed Go
// clients, fieldValidation, Table output, OpenAPI v3 hints, built-in defaults, pod binding.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { raw, startSim, type Sim } from './api-helpers.js';
import { waitUntil } from '../helpers/wait.js';

// Minimal protobuf writer for the k8s\0-framed runtime.Unknown envelope.
const varint = (n: number): Buffer => {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Buffer.from(out);
};
const field = (num: number, payload: Buffer | string): Buffer => {
  const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
  return Buffer.concat([varint((num << 3) | 2), varint(bytes.length), bytes]);
};
const mapEntry = (num: number, k: string, v: string): Buffer => field(num, Buffer.concat([field(1, k), field(2, v)]));

function protobufConfigMap(name: string, data: Record<string, string>, labels: Record<string, string>): Buffer {
  const meta = Buffer.concat([field(1, name), ...Object.entries(labels).map(([k, v]) => mapEntry(11, k, v))]);
  const cm = Buffer.concat([field(1, meta), ...Object.entries(data).map(([k, v]) => mapEntry(2, k, v))]);
  const typeMeta = Buffer.concat([field(1, 'v1'), field(2, 'ConfigMap')]);
  return Buffer.concat([Buffer.from('k8s\0', 'binary'), field(1, typeMeta), field(2, cm)]);
}

const GADGET_CRD = {
  apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'gadgets.example.com' },
  spec: {
    group: 'example.com', scope: 'Cluster', names: { plural: 'gadgets', kind: 'Gadget' },
    versions: [{
      name: 'v1', served: true, storage: true,
      schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } } } } },
      additionalPrinterColumns: [{ name: 'Size', type: 'integer', jsonPath: '.spec.size' }],
    }],
  },
};

describe('kube-sim API: client compatibility', () => {
  let sim: Sim;
  before(async () => {
    sim = await startSim();
  });
  after(() => sim.close());

  it('A1: protobuf bodies of typed Go clients (helm, kubectl create) are decoded', async () => {
    const res = await fetch(`${sim.server.url}/api/v1/namespaces/default/configmaps`, {
      method: 'POST', headers: { 'Content-Type': 'application/vnd.kubernetes.protobuf', Accept: 'application/json' },
      body: protobufConfigMap('from-proto', { key: 'value' }, { owner: 'helm' }),
    });
    assert.equal(res.status, 201);
    const cm = await sim.core.readNamespacedConfigMap({ name: 'from-proto', namespace: 'default' });
    assert.deepEqual([cm.data, cm.metadata?.labels], [{ key: 'value' }, { owner: 'helm' }]);
    const garbage = await fetch(`${sim.server.url}/api/v1/namespaces/default/configmaps`, { method: 'POST', headers: { 'Content-Type': 'application/vnd.kubernetes.protobuf' }, body: 'nope' });
    assert.equal(garbage.status, 415);
  });

  it('A2: fieldValidation Strict rejects, Warn warns about fields the schema prunes; OpenAPI v3 advertises it', async () => {
    assert.equal((await raw(sim, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', GADGET_CRD)).status, 201);
    const body = { apiVersion: 'example.com/v1', kind: 'Gadget', metadata: { name: 'g' }, spec: { size: 1, colour: 'red' } };
    const strict = await raw(sim, 'POST', '/apis/example.com/v1/gadgets?fieldValidation=Strict', body);
    assert.equal(strict.status, 400);
    assert.equal(strict.body.message, 'Gadget in version "v1" cannot be handled as a Gadget: strict decoding error: unknown field "spec.colour"');
    const warned = await raw(sim, 'POST', '/apis/example.com/v1/gadgets?fieldValidation=Warn', body);
    assert.equal(warned.status, 201);
    assert.equal(warned.headers.get('warning'), '299 - "unknown field \\"spec.colour\\""');
    const doc = (await raw(sim, 'GET', '/openapi/v3/apis/example.com/v1')).body as { paths: Record<string, { patch: { parameters: Array<{ name: string }> } }> };
    assert.ok(doc.paths['/apis/example.com/v1/gadgets/{name}'].patch.parameters.some((p) => p.name === 'fieldValidation'));
    // Table output for kubectl get, with the CRD's printer columns only (Age is the default only
    // for a CRD that lists none), and each row's object as metadata.
    const res = await fetch(`${sim.server.url}/apis/example.com/v1/gadgets`, { headers: { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' } });
    const table = (await res.json()) as { kind: string; columnDefinitions: Array<{ name: string }>; rows: Array<{ cells: unknown[]; object: { kind: string } }> };
    assert.equal(table.kind, 'Table');
    assert.deepEqual(table.columnDefinitions.map((c) => c.name), ['Name', 'Size']);
    assert.deepEqual(table.rows[0].cells, ['g', 1]);
    assert.equal(table.rows[0].object.kind, 'PartialObjectMetadata');
  });

  it('6: built-in defaults: Service clusterIP and ports, Pod restartPolicy, Deployment replicas; pods/binding', async () => {
    const svc = await sim.core.createNamespacedService({ namespace: 'default', body: { metadata: { name: 'svc' }, spec: { selector: { a: 'b' }, ports: [{ port: 80 }] } } });
    assert.match(svc.spec?.clusterIP ?? '', /^10\.96\.\d+\.\d+$/);
    assert.deepEqual([svc.spec?.type, svc.spec?.ports?.[0].protocol, svc.spec?.ports?.[0].targetPort], ['ClusterIP', 'TCP', 80]);
    const svc2 = await sim.core.createNamespacedService({ namespace: 'default', body: { metadata: { name: 'svc2' }, spec: { ports: [{ port: 80 }] } } });
    assert.notEqual(svc2.spec?.clusterIP, svc.spec?.clusterIP);
    const pod = await sim.core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'i:1' }] } } });
    assert.deepEqual([pod.spec?.restartPolicy, pod.spec?.terminationGracePeriodSeconds, pod.status?.phase], ['Always', 30, 'Pending']);
    await sim.core.createNamespacedPodBinding({ name: 'p', namespace: 'default', body: { metadata: { name: 'p' }, target: { kind: 'Node', name: 'node-1' } } });
    assert.equal((await sim.core.readNamespacedPod({ name: 'p', namespace: 'default' })).spec?.nodeName, 'node-1');
    const again = await raw(sim, 'POST', '/api/v1/namespaces/default/pods/p/binding', { target: { kind: 'Node', name: 'node-2' } });
    assert.equal(again.status, 409);
    const d = await sim.apps.createNamespacedDeployment({ namespace: 'default', body: { metadata: { name: 'd' }, spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } } } });
    assert.equal(d.spec?.replicas, 1);
    await sim.core.createNamespace({ body: { metadata: { name: 'fresh' } } });
    await waitUntil(() => sim.core.readNamespacedServiceAccount({ name: 'default', namespace: 'fresh' }).then(() => true, () => false), 'the default ServiceAccount of a new namespace');
  });
});
