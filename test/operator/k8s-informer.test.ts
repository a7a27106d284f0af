// Informer against the API emulator: sync, events, recovery from dropped and stalled watches,
// 410 after compaction (no change missed), 5xx/429, resync and namespace scoping.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Informer, type InformerEvent, type InformerOptions } from '../../operator/k8s/informer.js';
import { KubeApi, type KubeObject } from '../../operator/k8s/kube-api.js';
import { R, type ResourceType } from '../../operator/k8s/resources.js';
import { startApiServer, type RunningApiServer } from '../../sim/server/api-server.js';
import { waitUntil } from '../helpers/wait.js';

const CM: ResourceType = { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true };
type ConfigMap = KubeObject & { data?: Record<string, string> };
const cm = (name: string, data: Record<string, string> = {}): ConfigMap => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data });
const FAST: Partial<InformerOptions> = { backoffBaseMs: 10, backoffMaxMs: 100 };

describe('Informer', () => {
  let server: RunningApiServer;
  let api: KubeApi;
  let ns = 0;
  const informers: Informer<KubeObject>[] = [];
  before(async () => {
    server = await startApiServer({ watchHistory: 1000 });
    api = KubeApi.fromKubeconfigYaml(server.kubeconfig(), { qps: Infinity, retryBaseMs: 5 });
  });
  after(async () => {
    informers.forEach((i) => i.stop());
    api.close();
    await server.close();
  });

  async function namespace(): Promise<string> {
    const name = `inf-${++ns}`;
    await api.create(R.namespaces, undefined, { metadata: { name } });
    return name;
  }

  function track(inf: Informer<ConfigMap>): string[] {
    const log: string[] = [];
    inf.on((e) => {
      if (e.type !== 'resync') log.push(`${e.type} ${e.object.metadata.name}${e.type === 'updated' ? ` ${JSON.stringify(e.object.data)}` : ''}`);
    });
    return log;
  }

  function informer(options: Partial<InformerOptions> & { namespaces?: string[] }): Informer<ConfigMap> {
    const inf = new Informer<ConfigMap>(api, CM, { resyncMs: 0, ...FAST, ...options });
    informers.push(inf as Informer<KubeObject>);
    return inf;
  }

  it('syncs, then sees adds, updates and deletes, with the cache updated before handlers run', async () => {
    const n = await namespace();
    await api.create(CM, n, cm('a', { v: '1' }));
    const inf = informer({ namespaces: [n] });
    const log = track(inf);
    const cacheAtEvent: boolean[] = [];
    inf.on((e) => cacheAtEvent.push(e.type === 'deleted' ? inf.get(n, e.object.metadata.name!) === undefined : inf.get(n, e.object.metadata.name!) === e.object));
    assert.equal(inf.synced, false);
    await inf.start();
    assert.equal(inf.synced, true);
    assert.deepEqual(log, ['added a']);
    await api.create(CM, n, cm('b'));
    await api.patch(CM, n, 'a', { data: { v: '2' } }, { type: 'merge' });
    await api.delete(CM, n, 'b');
    await waitUntil(() => log.length === 4, 'three watch events', 5000);
    assert.deepEqual(log, ['added a', 'added b', 'updated a {"v":"2"}', 'deleted b']);
    assert.deepEqual(inf.list().map((o) => o.metadata.name), ['a']);
    assert.equal(inf.get(n, 'a')?.data?.v, '2');
    assert.ok(cacheAtEvent.every(Boolean), 'handlers see the cache already updated');
  });

  it('reconnects after a dropped watch and resumes without a relist', async () => {
    const n = await namespace();
    const inf = informer({ namespaces: [n] });
    const log = track(inf);
    await inf.start();
    await waitUntil(() => server.faults.openWatches() > 0, 'watch open', 5000);
    server.faults.dropWatches();
    await api.create(CM, n, cm('after-drop'));
    await waitUntil(() => log.includes('added after-drop'), 'the add after the drop', 5000);
    assert.equal(inf.lists, 1, 'resumed from its resourceVersion');
  });

  it('abandons a stalled watch after the idle timeout and catches up', async () => {
    // Default bookmark interval (60 s): a stalled watch says nothing at all, as a dead connection.
    const quiet = await startApiServer();
    const quietApi = KubeApi.fromKubeconfigYaml(quiet.kubeconfig(), { qps: Infinity });
    const inf = new Informer<ConfigMap>(quietApi, CM, { namespaces: ['default'], resyncMs: 0, idleTimeoutMs: 300, ...FAST });
    const log = track(inf);
    try {
      await inf.start();
      await waitUntil(() => quiet.faults.openWatches() > 0, 'watch open', 5000);
      quiet.faults.stallWatches(60_000);
      await quietApi.create(CM, 'default', cm('during-stall'));
      // Far sooner than the 60 s the stall lasts: the idle timer gave up on it.
      await waitUntil(() => log.includes('added during-stall'), 'the add made during the stall', 10_000);
      assert.equal(inf.lists, 1);
    } finally {
      inf.stop();
      quietApi.close();
      await quiet.close();
    }
  });

  it('relists after 410 Gone and emits exactly the changes it missed', async () => {
    const n = await namespace();
    for (const name of ['keep', 'change', 'remove']) await api.create(CM, n, cm(name, { v: '1' }));
    const inf = informer({ namespaces: [n] });
    const log = track(inf);
    await inf.start();
    assert.equal(log.length, 3);
    // Keep the watch down while changes happen and history is compacted away.
    const isWatch = (m: string, p: string): boolean => m === 'GET' && p.includes(`/namespaces/${n}/configmaps?`) && p.includes('watch=');
    const injected = server.faults.injected;
    server.faults.next({ status: 503, count: 1_000_000, match: isWatch });
    server.faults.dropWatches();
    await waitUntil(() => server.faults.injected > injected, 'a failed reconnect', 5000);
    await api.patch(CM, n, 'change', { data: { v: '2' } }, { type: 'merge' });
    await api.delete(CM, n, 'remove');
    await api.create(CM, n, cm('new'));
    server.faults.compact();
    server.faults.clear();
    await waitUntil(() => log.length === 6, 'the missed changes', 5000);
    assert.deepEqual(log.slice(3).sort(), ['added new', 'deleted remove', 'updated change {"v":"2"}']);
    assert.equal(inf.lists, 2, 'one relist');
    assert.deepEqual(inf.list().map((o) => o.metadata.name).sort(), ['change', 'keep', 'new']);
    await api.create(CM, n, cm('later'));
    await waitUntil(() => log.includes('added later'), 'watching again after the relist', 5000);
  });

  it('rides out 5xx on list and 429 on watch, reporting errors and backing off', async () => {
    const n = await namespace();
    await api.create(CM, n, cm('x'));
    const path = `/namespaces/${n}/configmaps?`;
    server.faults.next({ status: 503, count: 2, match: (m, p) => m === 'GET' && p.includes(path) && !p.includes('watch=') });
    server.faults.next({ status: 429, retryAfterSeconds: 0, count: 2, match: (m, p) => m === 'GET' && p.includes(path) && p.includes('watch=') });
    server.faults.next({ status: 500, count: 1, match: (m, p) => m === 'GET' && p.includes(path) && p.includes('watch=') });
    const errors: unknown[] = [];
    const inf = informer({ namespaces: [n], onError: (e) => errors.push(e) });
    const log = track(inf);
    await inf.start();
    await api.create(CM, n, cm('y'));
    await waitUntil(() => log.includes('added y'), 'an add once the watch works', 5000);
    assert.deepEqual(log, ['added x', 'added y']);
    assert.deepEqual(errors.map((e) => (e as { status?: number }).status), [429, 429, 500], 'the list 5xx were retried inside the client');
  });

  it('emits resync for every cached object on the resync period', async () => {
    const n = await namespace();
    await api.create(CM, n, cm('r1'));
    await api.create(CM, n, cm('r2'));
    const inf = informer({ namespaces: [n], resyncMs: 50 });
    const resyncs: InformerEvent<ConfigMap>[] = [];
    inf.on((e) => e.type === 'resync' && resyncs.push(e));
    await inf.start();
    await waitUntil(() => resyncs.length >= 4, 'two resync rounds', 5000);
    assert.deepEqual(new Set(resyncs.map((e) => e.object.metadata.name)), new Set(['r1', 'r2']));
  });

  it('in multi-namespace mode caches and reports only its namespaces', async () => {
    const [a, b, c] = [await namespace(), await namespace(), await namespace()];
    for (const n of [a, b, c]) await api.create(CM, n, cm(`in-${n}`));
    const inf = informer({ namespaces: [a, b] });
    const seen: string[] = [];
    inf.on((e) => seen.push(e.object.metadata.namespace!));
    await inf.start();
    assert.deepEqual(new Set(inf.list().map((o) => o.metadata.namespace)), new Set([a, b]));
    await api.create(CM, c, cm('more'));
    await api.create(CM, a, cm('more'));
    await api.create(CM, b, cm('more'));
    await waitUntil(() => seen.length === 4, 'the adds in a and b', 5000);
    assert.ok(!seen.includes(c), 'nothing from the other namespace');
    assert.equal(inf.list({ namespace: a }).length, 2);
    assert.equal(inf.get(c, 'more'), undefined);
  });

  it('watches a cluster-scoped kind across the cluster; its cache filters by labels', async () => {
    const inf = new Informer<KubeObject>(api, R.namespaces, { namespaces: ['ignored'], resyncMs: 0, ...FAST });
    informers.push(inf);
    await inf.start();
    assert.ok(inf.get(undefined, 'default'));
    await api.create(R.namespaces, undefined, { metadata: { name: 'labelled', labels: { team: 'blue' } } });
    await waitUntil(() => inf.get(undefined, 'labelled') !== undefined, 'the new namespace', 5000);
    assert.deepEqual(inf.list({ labels: { team: 'blue' } }).map((o) => o.metadata.name), ['labelled']);
  });
});
