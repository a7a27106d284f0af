// C11/C12: CustomResourceDefinition admission (structural schemas, CEL rules that must compile).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateCrd, type JSONSchemaProps } from '../../sim/schema/index.js';

function crdWith(schema: JSONSchemaProps, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'daskclusters.kubedask.io' },
    spec: {
      group: 'kubedask.io',
      names: { plural: 'daskclusters', singular: 'daskcluster', kind: 'DaskCluster', listKind: 'DaskClusterList' },
      scope: 'Namespaced',
      versions: [{ name: 'v1alpha1', served: true, storage: true, schema: { openAPIV3Schema: schema } }],
      ...extra,
    },
  };
}

const good: JSONSchemaProps = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      properties: {
        replicas: { type: 'integer', minimum: 0 },
        minReplicas: { type: 'integer' },
        maxReplicas: { type: 'integer' },
        port: { 'x-kubernetes-int-or-string': true },
        extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        groups: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, n: { type: 'integer' } } } },
      },
      'x-kubernetes-validations': [
        { rule: 'self.minReplicas <= self.replicas && self.replicas <= self.maxReplicas', message: 'replicas out of range' },
        { rule: 'self.groups.all(g, g.n >= 0)' },
        { rule: 'self.replicas == oldSelf.replicas', messageExpression: '"was " + string(oldSelf.replicas)' },
      ],
    },
  },
};

test('C11: a structural CRD with compilable CEL rules is accepted', () => {
  assert.deepEqual(validateCrd(crdWith(good)), []);
});

test('C11: a property without type is rejected naming the field, as the real server', () => {
  const causes = validateCrd(crdWith({ type: 'object', properties: { spec: { properties: { a: { type: 'string' } } } } }));
  assert.deepEqual(causes, [{
    reason: 'FieldValueRequired',
    field: 'spec.versions[0].schema.openAPIV3Schema.properties[spec].type',
    message: 'Required value: must not be empty for specified object fields',
  }]);
});

test('C11: other non-structural schemas: $ref, uniqueItems, properties+additionalProperties, metadata, items type', () => {
  const causes = validateCrd(crdWith({
    type: 'object',
    properties: {
      metadata: { type: 'object', properties: { labels: { type: 'object' } } },
      spec: {
        type: 'object',
        properties: { r: { $ref: '#/x', type: 'string' }, l: { type: 'array', uniqueItems: true, items: {} } },
        additionalProperties: { type: 'string' },
      },
    },
  }));
  const base = 'spec.versions[0].schema.openAPIV3Schema';
  const fields = causes.map((c) => c.field).sort();
  assert.deepEqual(fields, [
    `${base}.properties[metadata]`,
    `${base}.properties[spec].additionalProperties`,
    `${base}.properties[spec].properties[l].items.type`,
    `${base}.properties[spec].properties[l].uniqueItems`,
    `${base}.properties[spec].properties[r].$ref`,
  ].sort());
  assert.ok(causes.every((c) => c.reason === 'FieldValueForbidden' || c.reason === 'FieldValueRequired'));
});

test('C11: spec checks: metadata.name, plural, storage versions', () => {
  const crd = crdWith(good, {
    names: { plural: 'DaskClusters', kind: 'DaskCluster' },
    versions: [
      { name: 'v1', served: false, storage: false, schema: { openAPIV3Schema: good } },
    ],
  });
  const fields = validateCrd(crd).map((c) => c.field);
  assert.ok(fields.includes('spec.names.plural'));
  assert.ok(fields.includes('metadata.name'));
  assert.equal(fields.filter((f) => f === 'spec.versions').length, 2);
});

test('C12: a CRD whose CEL rule cannot compile is rejected (syntax, unknown field, unknown function, type)', () => {
  const bad = ['self.replicas >', 'self.nosuchfield > 1', 'nosuchfn(self.replicas)', 'self.replicas == "x"', 'self.replicas + 1'];
  for (const rule of bad) {
    const schema = { type: 'object', properties: { spec: { type: 'object', properties: { replicas: { type: 'integer' } }, 'x-kubernetes-validations': [{ rule }] } } };
    const causes = validateCrd(crdWith(schema));
    assert.equal(causes.length, 1, `rule ${rule} must be rejected`);
    assert.equal(causes[0]!.field, 'spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule');
    assert.match(causes[0]!.message, /compilation failed/);
  }
});

test('C12: a rule on a nested list item compiles against the item type; a bad messageExpression is rejected', () => {
  const schema = {
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        properties: {
          groups: {
            type: 'array',
            items: { type: 'object', properties: { n: { type: 'integer' } }, 'x-kubernetes-validations': [{ rule: 'self.n > 0', messageExpression: 'self.n' }] },
          },
        },
      },
    },
  };
  const causes = validateCrd(crdWith(schema));
  assert.equal(causes.length, 1);
  assert.equal(causes[0]!.field, 'spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[groups].items.x-kubernetes-validations[0].messageExpression');
});

test('C12: rules at the root see metadata.name but not undeclared metadata fields; bad reason rejected', () => {
  const ok = { type: 'object', 'x-kubernetes-validations': [{ rule: 'self.metadata.name.size() < 20' }], properties: { spec: { type: 'object' } } };
  assert.deepEqual(validateCrd(crdWith(ok)), []);
  const bad = { type: 'object', 'x-kubernetes-validations': [{ rule: 'self.metadata.labels.size() < 20', reason: 'Nope' }] };
  const fields = validateCrd(crdWith(bad)).map((c) => c.field).sort();
  assert.deepEqual(fields, [
    'spec.versions[0].schema.openAPIV3Schema.x-kubernetes-validations[0].reason',
    'spec.versions[0].schema.openAPIV3Schema.x-kubernetes-validations[0].rule',
  ]);
});

test('C11: controller-gen int-or-string (anyOf integer/string) is structural; other types in anyOf are not', () => {
  const ios = { anyOf: [{ type: 'integer' }, { type: 'string' }], 'x-kubernetes-int-or-string': true, pattern: '^[0-9]+[KMG]i?$' };
  const ok = { type: 'object', properties: { spec: { type: 'object', properties: { limits: { type: 'object', additionalProperties: ios } } } } };
  assert.deepEqual(validateCrd(crdWith(ok)), []);
  const bad = { type: 'object', properties: { spec: { type: 'object', anyOf: [{ type: 'object' }] } } };
  assert.deepEqual(validateCrd(crdWith(bad)).map((c) => c.field), ['spec.versions[0].schema.openAPIV3Schema.properties[spec].anyOf[0].type']);
});

test('C12: an oldSelf rule under a non-map list is rejected (uncorrelatable), under a map list accepted', () => {
  const list = (listType: string): JSONSchemaProps => ({
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        properties: {
          groups: {
            type: 'array',
            'x-kubernetes-list-type': listType,
            ...(listType === 'map' ? { 'x-kubernetes-list-map-keys': ['name'] } : {}),
            items: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, n: { type: 'integer' } }, 'x-kubernetes-validations': [{ rule: 'self.n == oldSelf.n' }] },
          },
        },
      },
    },
  });
  assert.deepEqual(validateCrd(crdWith(list('map'))), []);
  assert.deepEqual(validateCrd(crdWith(list('atomic'))).map((c) => c.field), ['spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[groups].items.x-kubernetes-validations[0].rule']);
});

test('C11: a default that violates its own schema is rejected at the default', () => {
  const schema = { type: 'object', properties: { spec: { type: 'object', properties: { replicas: { type: 'integer', minimum: 0, default: -1 } } } } };
  assert.deepEqual(validateCrd(crdWith(schema)), [{
    reason: 'FieldValueInvalid',
    field: 'spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[replicas].default',
    message: 'Invalid value: -1: spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[replicas].default in body should be greater than or equal to 0',
  }]);
});
