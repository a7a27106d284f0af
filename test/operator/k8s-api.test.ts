// KubeApi against the API emulator: verbs, patch types, errors as ApiError, paging,
// client-side rate limiting and retries.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiError, ConnectionError, isAlreadyExists, isConflict, isGone, isInvalid, isNotFound, KubeApi, type KubeObject, type RequestInfo } from '../../operator/k8s/kube-api.js';
import { TokenBucket } from '../../operator/k8s/rate-limiter.js';
import { R, type ResourceType } from '../../operator/k8s/resources.js';
import { startApiServer, type RunningApiServer } from '../../sim/server/api-server.js';
import { waitUntil } from '../helpers/wait.js';

const CM: ResourceType = { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true };
const CRD: ResourceType = { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', kind: 'CustomResourceDefinition', namespaced: false };
const WIDGET: ResourceType = { group: 'example.com', version: 'v1', plural: 'widgets', kind: 'Widget', namespaced: true };
type ConfigMap = KubeObject & { data?: Record<string, string> };
type Widget = KubeObject & { spec: { replicas?: number; color?: string }; status?: { replicas?: number } };
const cm = (name: string, data: Record<string, string> = {}, labels: Record<string, string> = {}): ConfigMap => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels }, data });

async function rejects(call: Promise<unknown>): Promise<ApiError> {
  try {
    await call;
  } catch (err) {
    assert.ok(err instanceof ApiError, `expected ApiError, got ${String(err)}`);
    return err;
  }
  return assert.fail('expected the call to fail');
}

describe('KubeApi', () => {
  let server: RunningApiServer;
  let api: KubeApi;
  const requests: RequestInfo[] = [];
  before(async () => {
    server = await startApiServer({ watchHistory: 50 });
    api = KubeApi.fromKubeconfigYaml(server.kubeconfig(), { qps: Infinity, retryBaseMs: 5, onRequest: (i) => requests.push(i) });
  });
  after(async () => {
    api.close();
    await server.close();
  });

  it('creates, reads, lists, replaces and deletes, with plain JSON objects', async () => {
    const created = await api.create<ConfigMap>(CM, 'default', cm('crud', { a: '1' }, { app: 'x' }));
    assert.equal(created.metadata.name, 'crud');
    assert.equal(typeof created.metadata.creationTimestamp, 'string', 'timestamps stay strings');
    const got = await api.get<ConfigMap>(CM, 'default', 'crud');
    assert.deepEqual(got?.data, { a: '1' });
    assert.equal(await api.get(CM, 'default', 'missing'), undefined);
    await api.create(CM, 'default', cm('other', {}, { app: 'y' }));
    const listed = await api.list<ConfigMap>(CM, { namespace: 'default', labelSelector: 'app=x' });
    assert.deepEqual(listed.items.map((i) => i.metadata.name), ['crud']);
    assert.equal(listed.items[0].kind, 'ConfigMap', 'list items carry their kind');
    assert.match(listed.resourceVersion, /^\d+$/);
    const replaced = await api.replace<ConfigMap>(CM, 'default', 'crud', { ...got!, data: { a: '2' } });
    assert.deepEqual(replaced.data, { a: '2' });
    assert.equal(await api.delete(CM, 'default', 'crud'), true);
    assert.equal(await api.delete(CM, 'default', 'crud'), false, 'already gone');
    const ns = await api.get(R.namespaces, undefined, 'default');
    assert.equal(ns?.metadata.name, 'default', 'cluster-scoped get');
  });

  it('answers 404, 409 and 422 as ApiError with the verb, resource, name and server message', async () => {
    const first = await api.create<ConfigMap>(CM, 'default', cm('errs'));
    const exists = await rejects(api.create(CM, 'default', cm('errs')));
    assert.equal(exists.status, 409);
    assert.ok(isAlreadyExists(exists) && !isConflict(exists));
    assert.match(exists.message, /^create configmaps "errs" in namespace "default": .*already exists/);
    await api.replace(CM, 'default', 'errs', { ...first, data: { b: '1' } });
    const stale = await rejects(api.replace(CM, 'default', 'errs', { ...first, data: { b: '2' } }));
    assert.ok(isConflict(stale), stale.message);
    assert.match(stale.message, /^update configmaps "errs"/);
    const invalid = await rejects(api.create(CM, 'default', cm('Not_Valid')));
    assert.ok(isInvalid(invalid));
    assert.equal(invalid.reason, 'Invalid');
    const missing = await rejects(api.patch(CM, 'default', 'nope', { data: {} }, { type: 'merge' }));
    assert.ok(isNotFound(missing));
    assert.match(missing.message, /patch \(merge\) configmaps "nope".*not found/);
    const wrongUid = await rejects(api.delete(CM, 'default', 'errs', { uid: 'not-the-uid' }));
    assert.ok(isConflict(wrongUid), 'a uid precondition that does not match is a conflict');
    assert.equal(await api.delete(CM, 'default', 'errs', { uid: first.metadata.uid }), true);
  });

  it('patches with merge, json, strategic and apply, and through status and scale subresources', async () => {
    await api.create(CM, 'default', cm('patched', { a: '1', b: '2' }));
    let p = await api.patch<ConfigMap>(CM, 'default', 'patched', { data: { b: null, c: '3' } }, { type: 'merge' });
    assert.deepEqual(p.data, { a: '1', c: '3' });
    p = await api.patch<ConfigMap>(CM, 'default', 'patched', [{ op: 'replace', path: '/data/a', value: 'x' }], { type: 'json' });
    assert.equal(p.data?.a, 'x');
    p = await api.patch<ConfigMap>(CM, 'default', 'patched', { data: { d: '4' } }, { type: 'strategic' });
    assert.deepEqual(p.data, { a: 'x', c: '3', d: '4' });
    const applied = await api.patch<ConfigMap>(CM, 'default', 'applied', cm('applied', { k: 'v' }), { type: 'apply', fieldManager: 'test-apply', force: true });
    assert.deepEqual(applied.data, { k: 'v' });
    assert.ok(applied.metadata.managedFields?.some((f) => f.manager === 'test-apply' && f.operation === 'Apply'));

    await api.create(CRD, undefined, {
      apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'widgets.example.com' },
      spec: {
        group: 'example.com', scope: 'Namespaced', names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
        versions: [{
          name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
          subresources: { status: {}, scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' } },
        }],
      },
    });
    await waitUntil(async () => (await api.list(WIDGET, { namespace: 'default' }).catch(() => undefined)) !== undefined, 'widgets served', 5000);
    await api.create<Widget>(WIDGET, 'default', { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec: { replicas: 1 } });
    const withStatus = await api.patch<Widget>(WIDGET, 'default', 'w', { status: { replicas: 1 }, spec: { replicas: 9 } }, { type: 'merge', subresource: 'status' });
    assert.deepEqual([withStatus.spec.replicas, withStatus.status?.replicas], [1, 1], 'the status subresource ignores spec');
    await api.patch(WIDGET, 'default', 'w', { spec: { replicas: 3 } }, { type: 'merge', subresource: 'scale' });
    assert.equal((await api.get<Widget>(WIDGET, 'default', 'w'))?.spec.replicas, 3);
    const w = (await api.get<Widget>(WIDGET, 'default', 'w'))!;
    const replacedStatus = await api.replace<Widget>(WIDGET, 'default', 'w', { ...w, status: { replicas: 3 } }, { subresource: 'status' });
    assert.equal(replacedStatus.status?.replicas, 3);
  });

  it('follows continue tokens across pages of 500', async () => {
    await api.create(R.namespaces, undefined, { metadata: { name: 'paging' } });
    await Promise.all(Array.from({ length: 1001 }, (_, i) => api.create(CM, 'paging', cm(`p-${String(i).padStart(4, '0')}`))));
    const before = requests.length;
    const { items } = await api.list<ConfigMap>(CM, { namespace: 'paging' });
    assert.equal(items.length, 1001);
    assert.equal(new Set(items.map((i) => i.metadata.name)).size, 1001);
    assert.deepEqual(requests.slice(before).map((r) => r.verb), ['list', 'list', 'list'], 'three pages');
  });

  it('retries reads on 5xx, never writes; honours 429 Retry-After for both', async () => {
    await api.create(CM, 'default', cm('retry'));
    const before = requests.length;
    server.faults.next({ status: 503, count: 2, match: (m, p) => m === 'GET' && p.includes('/configmaps/retry') });
    assert.ok(await api.get(CM, 'default', 'retry'));
    assert.deepEqual(requests.slice(before).map((r) => r.status), [503, 503, 200]);

    const beforeWrite = requests.length;
    server.faults.next({ status: 500, match: (m) => m === 'PATCH' });
    const failed = await rejects(api.patch(CM, 'default', 'retry', { data: { x: '1' } }, { type: 'merge' }));
    assert.equal(failed.status, 500);
    assert.deepEqual(requests.slice(beforeWrite).map((r) => r.status), [500], 'a write is not retried on 5xx');

    const before429 = requests.length;
    server.faults.next({ status: 429, retryAfterSeconds: 1, match: (m) => m === 'PATCH' });
    const started = Date.now();
    await api.patch(CM, 'default', 'retry', { data: { x: '2' } }, { type: 'merge' });
    assert.ok(Date.now() - started >= 900, 'waited for Retry-After');
    assert.deepEqual(requests.slice(before429).map((r) => r.status), [429, 200]);

    server.faults.next({ status: 503, count: 10, match: (m, p) => m === 'GET' && p.includes('/configmaps/retry') });
    const exhausted = await rejects(api.get(CM, 'default', 'retry'));
    assert.equal(exhausted.status, 503, 'gives up after maxRetries');
    server.faults.clear();
  });

  it('reports connection failures as ConnectionError after retrying reads', async () => {
    const dead = await startApiServer();
    const yaml = dead.kubeconfig();
    await dead.close();
    const seen: number[] = [];
    const offline = KubeApi.fromKubeconfigYaml(yaml, { retryBaseMs: 1, onRequest: (i) => seen.push(i.status) });
    await assert.rejects(offline.get(CM, 'default', 'x'), (err: unknown) => err instanceof ConnectionError && /get configmaps "x"/.test(err.message));
    assert.deepEqual(seen, [0, 0, 0, 0], 'one try and three retries');
  });

  it('streams watch events and throws 410 Gone from an ERROR event', async () => {
    const rv = (await api.list(CM, { namespace: 'default' })).resourceVersion;
    const ctl = new AbortController();
    const seen: string[] = [];
    const done = (async () => {
      for await (const e of api.watch<ConfigMap>(CM, { namespace: 'default', resourceVersion: rv, signal: ctl.signal })) seen.push(`${e.type} ${e.object.metadata.name}`);
    })();
    await waitUntil(() => server.faults.openWatches() > 0, 'watch open', 5000);
    await api.create(CM, 'default', cm('watched'));
    await api.delete(CM, 'default', 'watched');
    await waitUntil(() => seen.length >= 2, 'two events', 5000);
    assert.deepEqual(seen, ['ADDED watched', 'DELETED watched']);
    ctl.abort();
    await done; // abort ends the iteration quietly

    server.faults.compact();
    const gone = (async () => {
      for await (const _ of api.watch(CM, { namespace: 'default', resourceVersion: rv, signal: new AbortController().signal })) assert.fail('no events before the error');
    })();
    await assert.rejects(gone, (err: unknown) => isGone(err));
  });
});

describe('client-side rate limit', () => {
  it('token bucket: burst at once, then one per 1/qps, first come first served', () => {
    let now = 0;
    const bucket = new TokenBucket(10, 3, () => now);
    assert.deepEqual([1, 2, 3, 4, 5].map(() => bucket.reserve()), [0, 0, 0, 100, 200]);
    now = 1000; // 10 tokens earned, 2 of them already owed, capped at burst
    assert.deepEqual([1, 2, 3, 4].map(() => bucket.reserve()), [0, 0, 0, 100]);
    assert.deepEqual(bucket.stats, { immediate: 6, delayed: 3 });
  });

  it('bounds the requests a KubeApi sends: beyond the burst they wait for tokens', async () => {
    const server = await startApiServer();
    const sent: string[] = [];
    const api = KubeApi.fromKubeconfigYaml(server.kubeconfig(), { qps: 50, burst: 5, onRequest: (i) => sent.push(i.verb) });
    try {
      const calls = Array.from({ length: 15 }, () => api.get(CM, 'default', 'nothing'));
      assert.equal(api.limiter.stats.immediate, 5, 'the burst goes at once');
      assert.equal(api.limiter.stats.delayed, 10, 'the rest wait for tokens');
      assert.equal(api.limiter.waiting, 10);
      await Promise.all(calls);
      assert.equal(sent.length, 15);
      assert.equal(api.limiter.waiting, 0);
    } finally {
      api.close();
      await server.close();
    }
  });
});
