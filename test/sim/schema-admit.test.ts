// C11/C12: custom resource admission: pruning, defaults, OpenAPI validation, CEL rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { admitCustomResource, type JSONSchemaProps } from '../../sim/schema/index.js';

const schema: JSONSchemaProps = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      required: ['image'],
      properties: {
        image: { type: 'string', minLength: 1 },
        replicas: { type: 'integer', minimum: 0, default: 1 },
        minReplicas: { type: 'integer', default: 0 },
        maxReplicas: { type: 'integer', default: 10 },
        mode: { type: 'string', enum: ['a', 'b'] },
        port: { 'x-kubernetes-int-or-string': true },
        extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        labels: { type: 'object', additionalProperties: { type: 'string', default: 'unused' } },
        pools: { type: 'object', additionalProperties: { type: 'object', properties: { size: { type: 'integer', default: 3 } } } },
        template: { type: 'object', 'x-kubernetes-embedded-resource': true, 'x-kubernetes-preserve-unknown-fields': true },
        tags: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } },
        workerGroups: {
          type: 'array',
          maxItems: 3,
          'x-kubernetes-list-type': 'map',
          'x-kubernetes-list-map-keys': ['name'],
          items: {
            type: 'object',
            required: ['name'],
            properties: {
              name: { type: 'string', pattern: '^[a-z]+$' },
              replicas: { type: 'integer', format: 'int32', default: 2 },
              resources: { type: 'object', properties: { gpu: { type: 'integer', default: 0 } } },
            },
          },
        },
      },
      'x-kubernetes-validations': [
        { rule: 'self.minReplicas <= self.replicas && self.replicas <= self.maxReplicas', message: 'replicas must be within [minReplicas, maxReplicas]' },
        { rule: 'self.image == oldSelf.image', message: 'image is immutable', reason: 'FieldValueForbidden', fieldPath: '.image' },
        { rule: '!has(self.mode) || self.mode != "b" || self.replicas > 1', messageExpression: '"mode b needs more than " + string(self.replicas) + " replicas"' },
      ],
    },
    status: { type: 'object', properties: { phase: { type: 'string' } } },
  },
};

const cr = (spec: Record<string, unknown>, more: Record<string, unknown> = {}): Record<string, unknown> => ({
  apiVersion: 'kubedask.io/v1alpha1', kind: 'DaskCluster', metadata: { name: 'c', namespace: 'default', labels: { a: 'b' } }, spec, ...more,
});

test('C11: unknown fields are pruned, metadata/apiVersion/kind kept, preserve-unknown-fields kept', () => {
  const { object, causes } = admitCustomResource(schema, cr({ image: 'x', mode: null, bogus: 1, extra: { anything: { deep: true } }, workerGroups: [{ name: 'a', junk: 1 }] }, { junkTop: 1, status: { phase: 'P', junk: 2 } }));
  assert.deepEqual(causes, []);
  assert.deepEqual(object.metadata, { name: 'c', namespace: 'default', labels: { a: 'b' } });
  assert.equal(object.apiVersion, 'kubedask.io/v1alpha1');
  assert.equal('junkTop' in object, false);
  const spec = object.spec as Record<string, unknown>;
  assert.equal('bogus' in spec, false);
  assert.equal('mode' in spec, false, 'null of a non-nullable field without default is dropped');
  assert.deepEqual(spec.extra, { anything: { deep: true } });
  assert.deepEqual(object.status, { phase: 'P' });
  assert.deepEqual(spec.workerGroups, [{ name: 'a', replicas: 2 }]);
});

test('C11: defaults are applied recursively (items, nested objects only when the parent exists)', () => {
  const { object, causes } = admitCustomResource(schema, cr({ image: 'x', maxReplicas: null, labels: { k: 'v' }, pools: { cpu: {}, gpu: { size: 1, junk: 1 } }, workerGroups: [{ name: 'a' }, { name: 'b', replicas: 5, resources: {} }] }));
  assert.deepEqual(causes, []);
  const spec = object.spec as Record<string, unknown>;
  assert.equal(spec.replicas, 1);
  assert.equal(spec.maxReplicas, 10);
  assert.deepEqual(spec.labels, { k: 'v' });
  assert.deepEqual(spec.pools, { cpu: { size: 3 }, gpu: { size: 1 } });
  assert.deepEqual(spec.workerGroups, [{ name: 'a', replicas: 2 }, { name: 'b', replicas: 5, resources: { gpu: 0 } }]);
});

test('C11: int-or-string accepts 8080 and "http", rejects true and 1.5', () => {
  assert.deepEqual(admitCustomResource(schema, cr({ image: 'x', port: 8080 })).causes, []);
  assert.deepEqual(admitCustomResource(schema, cr({ image: 'x', port: 'http' })).causes, []);
  const bad = admitCustomResource(schema, cr({ image: 'x', port: true })).causes;
  assert.equal(bad[0]!.field, 'spec.port');
  assert.equal(bad[0]!.message, 'Invalid value: "boolean": spec.port in body must be of type integer,string: "boolean"');
  assert.equal(admitCustomResource(schema, cr({ image: 'x', port: 1.5 })).causes[0]!.field, 'spec.port');
});

test('C11: an embedded resource keeps apiVersion/kind/metadata and requires apiVersion and kind', () => {
  const tmpl = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { x: 'y' } }, spec: { containers: [] } };
  const ok = admitCustomResource(schema, cr({ image: 'x', template: tmpl }));
  assert.deepEqual(ok.causes, []);
  assert.deepEqual((ok.object.spec as Record<string, unknown>).template, tmpl);
  const bad = admitCustomResource(schema, cr({ image: 'x', template: { metadata: { name: 'p' } } })).causes;
  assert.deepEqual(bad.map((c) => [c.field, c.reason]), [['spec.template.apiVersion', 'FieldValueRequired'], ['spec.template.kind', 'FieldValueRequired']]);
});

test('C11: several bad fields give one cause each, with real paths and messages', () => {
  const { causes } = admitCustomResource(schema, cr({
    replicas: -1,
    mode: 'x',
    workerGroups: [{ name: 'a', replicas: 'two' }, { name: 'a' }, { name: 'B1', replicas: 3000000000 }, { name: 'd' }],
    tags: ['t', 't'],
  }));
  assert.deepEqual(causes, [
    { reason: 'FieldValueRequired', field: 'spec.image', message: 'Required value' },
    { reason: 'FieldValueInvalid', field: 'spec.replicas', message: 'Invalid value: -1: spec.replicas in body should be greater than or equal to 0' },
    { reason: 'FieldValueNotSupported', field: 'spec.mode', message: 'Unsupported value: "x": supported values: "a", "b"' },
    { reason: 'FieldValueDuplicate', field: 'spec.tags[1]', message: 'Duplicate value: "t"' },
    { reason: 'FieldValueTooMany', field: 'spec.workerGroups', message: 'Too many: 4: must have at most 3 items' },
    { reason: 'FieldValueTypeInvalid', field: 'spec.workerGroups[0].replicas', message: 'Invalid value: "string": spec.workerGroups[0].replicas in body must be of type integer: "string"' },
    { reason: 'FieldValueInvalid', field: 'spec.workerGroups[2].name', message: 'Invalid value: "B1": spec.workerGroups[2].name in body should match \'^[a-z]+$\'' },
    { reason: 'FieldValueInvalid', field: 'spec.workerGroups[2].replicas', message: 'Invalid value: 3000000000: spec.workerGroups[2].replicas in body must be of type int32: "3000000000"' },
    { reason: 'FieldValueDuplicate', field: 'spec.workerGroups[1]', message: 'Duplicate value: {"name":"a"}' },
    // Type/enum errors keep CEL from running, as the real server says.
    { reason: 'FieldValueInvalid', field: '', message: 'Invalid value: "null": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation' },
  ]);
});

test('C12: a cross-field CEL rule fails with its message; messageExpression is evaluated', () => {
  const { causes } = admitCustomResource(schema, cr({ image: 'x', replicas: 20 }));
  assert.deepEqual(causes, [{ reason: 'FieldValueInvalid', field: 'spec', message: 'Invalid value: "object": replicas must be within [minReplicas, maxReplicas]' }]);
  const m = admitCustomResource(schema, cr({ image: 'x', mode: 'b', replicas: 1 })).causes;
  assert.deepEqual(m, [{ reason: 'FieldValueInvalid', field: 'spec', message: 'Invalid value: "object": mode b needs more than 1 replicas' }]);
  assert.deepEqual(admitCustomResource(schema, cr({ image: 'x', mode: 'b', replicas: 2 })).causes, []);
});

test('C12: an oldSelf transition rule runs only on update, with reason and fieldPath honoured', () => {
  const created = admitCustomResource(schema, cr({ image: 'x' }));
  assert.deepEqual(created.causes, []);
  assert.deepEqual(admitCustomResource(schema, cr({ image: 'x', replicas: 2 }), created.object).causes, []);
  const changed = admitCustomResource(schema, cr({ image: 'y' }), created.object).causes;
  assert.deepEqual(changed, [{ reason: 'FieldValueForbidden', field: 'spec.image', message: 'Forbidden: image is immutable' }]);
});

test('C12: rules on list items and maps, default message, runtime error reported as a failed rule', () => {
  const s: JSONSchemaProps = {
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        properties: {
          groups: { type: 'array', items: { type: 'object', properties: { n: { type: 'integer' }, m: { type: 'integer' } }, 'x-kubernetes-validations': [{ rule: 'self.n > 0' }] } },
          limits: { type: 'object', additionalProperties: { type: 'integer' }, 'x-kubernetes-validations': [{ rule: 'self.all(k, self[k] < 10)', message: 'limits must be < 10' }] },
          opt: { type: 'object', properties: { a: { type: 'integer' } }, 'x-kubernetes-validations': [{ rule: 'self.a > 0' }] },
        },
      },
    },
  };
  const { causes } = admitCustomResource(s, { apiVersion: 'x/v1', kind: 'X', metadata: { name: 'a' }, spec: { groups: [{ n: 1 }, { n: 0 }], limits: { cpu: 3, gpu: 12 }, opt: {} } });
  assert.deepEqual(causes, [
    { reason: 'FieldValueInvalid', field: 'spec.groups[1]', message: 'Invalid value: "object": failed rule: self.n > 0' },
    { reason: 'FieldValueInvalid', field: 'spec.limits', message: 'Invalid value: "object": limits must be < 10' },
    { reason: 'FieldValueInvalid', field: 'spec.opt', message: 'Invalid value: "object": no such key: a evaluating rule: self.a > 0' },
  ]);
});

test('C12: a rule at the root sees metadata.name', () => {
  const s: JSONSchemaProps = { type: 'object', 'x-kubernetes-validations': [{ rule: 'self.metadata.name.startsWith("dask-")', message: 'name must start with dask-' }] };
  assert.deepEqual(admitCustomResource(s, { apiVersion: 'x/v1', kind: 'X', metadata: { name: 'dask-a' } }).causes, []);
  assert.deepEqual(admitCustomResource(s, { apiVersion: 'x/v1', kind: 'X', metadata: { name: 'b' } }).causes, [
    { reason: 'FieldValueInvalid', field: '', message: 'Invalid value: "object": name must start with dask-' },
  ]);
});

test('C12: Kubernetes CEL library functions (quantity, lists, optional) compile and evaluate', () => {
  const s: JSONSchemaProps = {
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        properties: {
          memory: { type: 'string' },
          ports: { type: 'array', items: { type: 'integer' } },
          opt: { type: 'integer' },
          at: { type: 'string', format: 'date-time' },
        },
        'x-kubernetes-validations': [
          { rule: 'isQuantity(self.memory) && quantity(self.memory).isGreaterThan(quantity("1Gi"))', message: 'memory must exceed 1Gi' },
          { rule: 'self.ports.isSorted() && self.ports.sum() < 100000 && self.ports.indexOf(80) >= 0', message: 'ports' },
          { rule: 'self.?opt.orValue(0) >= 0', message: 'opt' },
          { rule: '!has(self.at) || self.at > timestamp("2020-01-01T00:00:00Z")', message: 'at' },
        ],
      },
    },
  };
  const obj = (spec: Record<string, unknown>): Record<string, unknown> => ({ apiVersion: 'x/v1', kind: 'X', metadata: { name: 'a' }, spec });
  assert.deepEqual(admitCustomResource(s, obj({ memory: '2Gi', ports: [80, 443], at: '2024-05-01T00:00:00Z' })).causes, []);
  assert.deepEqual(admitCustomResource(s, obj({ memory: '512Mi', ports: [443, 80], opt: -1, at: '2019-05-01T00:00:00Z' })).causes.map((c) => c.message), [
    'Invalid value: "object": memory must exceed 1Gi',
    'Invalid value: "object": ports',
    'Invalid value: "object": opt',
    'Invalid value: "object": at',
  ]);
});

test('C12: transition rules on list-type=map items compare with the old item of the same key', () => {
  const s: JSONSchemaProps = {
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        properties: {
          groups: {
            type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'],
            items: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, n: { type: 'integer' } }, 'x-kubernetes-validations': [{ rule: 'self.n == oldSelf.n', message: 'n is immutable' }] },
          },
        },
      },
    },
  };
  const obj = (groups: unknown[]): Record<string, unknown> => ({ apiVersion: 'x/v1', kind: 'X', metadata: { name: 'a' }, spec: { groups } });
  const old = obj([{ name: 'a', n: 1 }]);
  assert.deepEqual(admitCustomResource(s, old).causes, []);
  assert.deepEqual(admitCustomResource(s, obj([{ name: 'b', n: 5 }, { name: 'a', n: 1 }]), old).causes, []);
  assert.deepEqual(admitCustomResource(s, obj([{ name: 'b', n: 5 }, { name: 'a', n: 2 }]), old).causes, [
    { reason: 'FieldValueInvalid', field: 'spec.groups[1]', message: 'Invalid value: "object": n is immutable' },
  ]);
});
