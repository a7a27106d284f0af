// The template hashes the operator writes to annotations must not change for the same input when
// the code computing them does (canonical JSON, quantity parsing): a changed hash would roll every
// running cluster's pods. The expected values were computed by the hand-written canonical JSON this
// code replaced (commit a86a2ff) and are fixed here.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { API_VERSION, type DaskCluster, type DaskClusterSpec } from '../../operator/api/types.js';
import { buildWorkerGroup, canonicalJson, hashOf, schedulerTemplateHash, withClusterDefaults, workerTemplateHash } from '../../operator/builders/index.js';

// A partial template (no containers), as users write overrides.
const spec = {
  image: 'ghcr.io/example/kubedask:1.2.3', imagePullPolicy: 'IfNotPresent',
  scheduler: { resources: { limits: { cpu: '2', memory: '4Gi' } }, template: { metadata: { labels: { team: 'data' } }, spec: { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'dask', effect: 'NoSchedule' }] } } },
  workerGroups: [{ name: 'gpu', replicas: 2, threads: 4, gpus: 1, resources: { limits: { memory: '1.5Gi', cpu: '3500m' } }, template: { spec: { nodeSelector: { 'kubernetes.io/arch': 'amd64', accelerator: 'nvidia' }, containers: [{ name: 'worker', env: [{ name: 'Z', value: 'é ☃ "q" \\ \n' }, { name: 'A', value: '1' }] }] } } }],
} as unknown as DaskClusterSpec;
const cluster: DaskCluster = { apiVersion: API_VERSION, kind: 'DaskCluster', metadata: { name: 'prod', namespace: 'analytics', uid: 'uid-1' }, spec };
// Keys out of order, undefined in arrays and objects, escapes, integer-like keys, -0 and 1e21.
const tricky = { z: [1, undefined, null, -0, 1e21, 0.1, 'x'], 'é': { b: true, a: false, u: undefined }, A: 'tab\tquote"back\\slash\u0001', '10': 'numeric key', '2': 'k' };

describe('template hashes are stable across releases', () => {
  it('a known cluster hashes to the values the previous code wrote', () => {
    const group = buildWorkerGroup(cluster, withClusterDefaults(spec).workerGroups[0]!);
    group.metadata = { ...group.metadata, uid: 'uid-group' };
    assert.equal(schedulerTemplateHash(cluster), '27b0888852f21307');
    assert.equal(workerTemplateHash(group, cluster), 'bd1b4e6a988655be');
  });

  it('canonical JSON of an awkward value is byte-identical to the previous output', () => {
    assert.equal(canonicalJson(tricky), '{"10":"numeric key","2":"k","A":"tab\\tquote\\"back\\\\slash\\u0001","z":[1,null,null,0,1e+21,0.1,"x"],"é":{"a":false,"b":true}}');
    assert.equal(hashOf(tricky), '322f8a33de37417d');
  });
});
