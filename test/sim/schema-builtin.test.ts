// Built-in kinds validated against their real OpenAPI schemas (kubernetes-models) plus core checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateBuiltin } from '../../sim/schema/index.js';

const podSpec = { containers: [{ name: 'main', image: 'kubedask:dev', ports: [{ containerPort: 8786 }] }] };

test('C11 (built-in): a Pod whose container has no image is rejected naming spec.containers[0].image', () => {
  const causes = validateBuiltin('v1', 'Pod', { metadata: { name: 'p' }, spec: { containers: [{ name: 'main' }] } });
  assert.deepEqual(causes, [{ reason: 'FieldValueRequired', field: 'spec.containers[0].image', message: 'Required value' }]);
});

test('C11 (built-in): Pod schema errors: missing containers, bad enum, bad type, bad quantity', () => {
  assert.deepEqual(validateBuiltin('v1', 'Pod', { metadata: { name: 'p' }, spec: {} }), [
    { reason: 'FieldValueRequired', field: 'spec.containers', message: 'Required value' },
  ]);
  const causes = validateBuiltin('v1', 'Pod', {
    metadata: { name: 'p' },
    spec: { restartPolicy: 'Sometimes', containers: [{ name: 'main', image: 'i', ports: [{ containerPort: '80' }], resources: { limits: { cpu: {} } } }] },
  });
  assert.deepEqual(causes.map((c) => c.field).sort(), ['spec.containers[0].ports[0].containerPort', 'spec.containers[0].resources.limits.cpu', 'spec.restartPolicy']);
  const enumCause = causes.find((c) => c.field === 'spec.restartPolicy');
  assert.equal(enumCause?.message, 'Unsupported value: "Sometimes": supported values: "Always", "Never", "OnFailure"');
  const typeCause = causes.find((c) => c.field === 'spec.containers[0].ports[0].containerPort');
  assert.equal(typeCause?.message, 'Invalid value: "string": spec.containers[0].ports[0].containerPort in body must be of type integer: "string"');
});

test('C11 (built-in): a valid Deployment is accepted; a selector that does not match labels is rejected', () => {
  const dep = {
    metadata: { name: 'sched' },
    spec: { replicas: 1, selector: { matchLabels: { app: 's' } }, template: { metadata: { labels: { app: 's' } }, spec: podSpec } },
  };
  assert.deepEqual(validateBuiltin('apps/v1', 'Deployment', dep), []);
  const bad = structuredClone(dep);
  bad.spec.template.metadata.labels.app = 'other';
  assert.deepEqual(validateBuiltin('apps/v1', 'Deployment', bad).map((c) => c.field), ['spec.template.metadata.labels']);
  assert.deepEqual(validateBuiltin('apps/v1', 'Deployment', { metadata: { name: 'd' }, spec: { template: {} } }).map((c) => c.field).sort(), ['spec.selector', 'spec.template.spec.containers']);
});

test('C11 (built-in): other kinds: Service ports, ConfigMap types, RBAC, Lease, events; unknown kinds pass', () => {
  assert.deepEqual(validateBuiltin('v1', 'Service', { metadata: { name: 'sched' }, spec: { selector: { a: 'b' }, ports: [{ port: 8786 }] } }), []);
  assert.deepEqual(validateBuiltin('v1', 'Service', { metadata: { name: 'sched' }, spec: { selector: { a: 'b' } } }).map((c) => c.field), ['spec.ports']);
  assert.deepEqual(validateBuiltin('v1', 'ConfigMap', { metadata: { name: 'c' }, data: { k: 1 } }).map((c) => c.field), ['data.k']);
  assert.deepEqual(validateBuiltin('rbac.authorization.k8s.io/v1', 'RoleBinding', { metadata: { name: 'rb' }, subjects: [{ kind: 'ServiceAccount', name: 'x' }] }).map((c) => c.field), ['roleRef']);
  assert.deepEqual(validateBuiltin('rbac.authorization.k8s.io/v1', 'Role', { metadata: { name: 'r' }, rules: [{ verbs: ['get'], resources: ['pods'], apiGroups: [''] }] }), []);
  assert.deepEqual(validateBuiltin('coordination.k8s.io/v1', 'Lease', { metadata: { name: 'l' }, spec: { holderIdentity: 'a', leaseDurationSeconds: 15 } }), []);
  assert.deepEqual(validateBuiltin('events.k8s.io/v1', 'Event', { metadata: { name: 'e' }, eventTime: '2024-01-01T00:00:00.000000Z' }), []);
  assert.deepEqual(validateBuiltin('v1', 'Namespace', { metadata: { name: 'Bad_NS' } }).map((c) => c.field), ['metadata.name']);
  assert.deepEqual(validateBuiltin('example.com/v1', 'Widget', { anything: 1 }), []);
});

test('C11 (built-in): validation is fast once loaded', () => {
  const pod = { metadata: { name: 'p' }, spec: podSpec };
  const t0 = performance.now();
  for (let i = 0; i < 2000; i++) validateBuiltin('v1', 'Pod', pod);
  assert.ok(performance.now() - t0 < 1000);
});
