// Checklist E (watch) and the fault injection knobs (23), plus informer recovery from 410 (27).
import * as k8s from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { collectWatch, raw, startSim, type Sim } from './api-helpers.js';
import { waitUntil } from '../helpers/wait.js';

const CM = '/api/v1/namespaces/default/configmaps';
const cm = (name: string, labels: Record<string, string> = {}, data: Record<string, string> = {}) => ({ metadata: { name, labels }, data });

describe('kube-sim API: watch', () => {
  let sim: Sim;
  before(async () => {
    sim = await startSim({ watchHistory: 20, bookmarkIntervalMs: 50 });
  });
  after(() => sim.close());

  it('E18: watch answers 200 at once with flushed headers and one JSON event per line', async () => {
    const started = Date.now();
    const { status, firstChunk } = await new Promise<{ status: number; firstChunk: string }>((resolve, reject) => {
      const req = http.get(`${sim.server.url}${CM}?watch=true&resourceVersion=${sim.server.store.currentRv()}`, (res) => {
        res.once('data', (chunk: Buffer) => {
          resolve({ status: res.statusCode ?? 0, firstChunk: chunk.toString() });
          req.destroy();
        });
        // Headers arrived before any event: now make one.
        void sim.core.createNamespacedConfigMap({ namespace: 'default', body: cm('e18') });
      });
      req.on('error', reject);
    });
    assert.equal(status, 200);
    assert.ok(Date.now() - started < 2000);
    assert.ok(firstChunk.endsWith('\n'));
    const evt = JSON.parse(firstChunk.trim()) as { type: string; object: { metadata: { name: string } } };
    assert.equal(evt.type, 'ADDED');
    assert.equal(evt.object.metadata.name, 'e18');
  });

  it('E19: resourceVersion unset or "0" replays current objects as ADDED; "N" sends only later changes', async () => {
    await sim.core.createNamespace({ body: { metadata: { name: 'e19' } } });
    const a = await sim.core.createNamespacedConfigMap({ namespace: 'e19', body: cm('a') });
    await sim.core.createNamespacedConfigMap({ namespace: 'e19', body: cm('b') });
    const fromZero = await collectWatch(sim, '/api/v1/namespaces/e19/configmaps', { resourceVersion: '0' });
    const unset = await collectWatch(sim, '/api/v1/namespaces/e19/configmaps');
    const fromA = await collectWatch(sim, '/api/v1/namespaces/e19/configmaps', { resourceVersion: a.metadata?.resourceVersion ?? '' });
    await sim.core.deleteNamespacedConfigMap({ name: 'a', namespace: 'e19' });
    const summary = (evts: Array<{ type: string; object: k8s.KubernetesObject }>) => evts.map((e) => `${e.type} ${e.object.metadata?.name}`);
    assert.deepEqual(summary(await fromZero.waitForEvents(3)), ['ADDED a', 'ADDED b', 'DELETED a']);
    assert.deepEqual(summary(await unset.waitForEvents(3)), ['ADDED a', 'ADDED b', 'DELETED a']);
    assert.deepEqual(summary(await fromA.waitForEvents(2)), ['ADDED b', 'DELETED a']);
    const deleted = fromA.events[1].object;
    assert.ok(Number(deleted.metadata?.resourceVersion) > Number(a.metadata?.resourceVersion), 'DELETED carries a new resourceVersion');
    [fromZero, unset, fromA].forEach((w) => w.stop());
  });

  it('E20: with a selector, objects that stop matching arrive as DELETED and ones that start as ADDED', async () => {
    const w = await collectWatch(sim, CM, { labelSelector: 'team=blue', resourceVersion: String(sim.server.store.currentRv()) });
    await sim.core.createNamespacedConfigMap({ namespace: 'default', body: cm('e20', { team: 'red' }) });
    const patch = (team: string) => sim.core.patchNamespacedConfigMap({ name: 'e20', namespace: 'default', body: { metadata: { labels: { team } } } }, k8s.setHeaderOptions('Content-Type', 'application/merge-patch+json'));
    await patch('blue');
    await sim.core.patchNamespacedConfigMap({ name: 'e20', namespace: 'default', body: { data: { x: '1' } } }, k8s.setHeaderOptions('Content-Type', 'application/merge-patch+json'));
    await patch('red');
    await sim.core.deleteNamespacedConfigMap({ name: 'e20', namespace: 'default' });
    await waitUntil(() => w.events.length >= 3, '3 events');
    assert.deepEqual(w.events.map((e) => e.type), ['ADDED', 'MODIFIED', 'DELETED']);
    assert.equal(w.events[2].object.metadata?.labels?.team, 'red', 'the DELETED event carries the object as it now is');
    w.stop();
  });

  it('E21: BOOKMARK events only with allowWatchBookmarks=true', async () => {
    const rv = String(sim.server.store.currentRv());
    const plain = await collectWatch(sim, CM, { resourceVersion: rv });
    const marked = await collectWatch(sim, CM, { resourceVersion: rv, allowWatchBookmarks: true });
    const bookmark = (await marked.waitForEvents(1, 'a bookmark'))[0];
    assert.equal(bookmark.type, 'BOOKMARK');
    assert.equal(bookmark.object.kind, 'ConfigMap');
    assert.match(bookmark.object.metadata?.resourceVersion ?? '', /^\d+$/);
    await waitUntil(() => marked.events.length >= 2, 'a second bookmark');
    assert.equal(plain.events.length, 0);
    plain.stop();
    marked.stop();
  });

  it('E22: a resourceVersion older than the history window gets 200 then ERROR 410 Expired; timeoutSeconds closes', async () => {
    const old = String(sim.server.store.currentRv());
    for (let i = 0; i < 25; i++) await sim.core.createNamespacedConfigMap({ namespace: 'default', body: cm(`e22-${i}`) });
    const res = await fetch(`${sim.server.url}${CM}?watch=true&resourceVersion=${old}`);
    assert.equal(res.status, 200);
    const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as { type: string; object: { kind: string; code: number; reason: string } });
    assert.equal(lines.length, 1);
    assert.equal(lines[0].type, 'ERROR');
    assert.deepEqual([lines[0].object.kind, lines[0].object.code, lines[0].object.reason], ['Status', 410, 'Expired']);
    const recent = String(sim.server.store.currentRv() - 5);
    const ok = await collectWatch(sim, CM, { resourceVersion: recent });
    assert.equal((await ok.waitForEvents(5)).length, 5, 'recent versions still resume');
    ok.stop();
    const timed = await collectWatch(sim, CM, { timeoutSeconds: 1, resourceVersion: String(sim.server.store.currentRv()) });
    assert.equal(await timed.ended, null, 'server closed the watch cleanly');
  });

  it('23: faults: 429 with Retry-After, 5xx, dropped and stalled watches, write delay', async () => {
    const { faults } = sim.server;
    faults.next({ status: 429, retryAfterSeconds: 2, count: 2, match: (method) => method === 'GET' });
    for (let i = 0; i < 2; i++) {
      const limited = await raw(sim, 'GET', CM);
      assert.equal(limited.status, 429);
      assert.equal(limited.headers.get('retry-after'), '2');
      assert.equal(limited.body.reason, 'TooManyRequests');
    }
    assert.equal((await raw(sim, 'GET', CM)).status, 200);
    faults.next({ status: 503 });
    assert.equal((await raw(sim, 'GET', CM)).status, 503);
    faults.next({ status: 500, match: (_m, path) => path.includes('/secrets') });
    assert.equal((await raw(sim, 'GET', CM)).status, 200);
    assert.equal((await raw(sim, 'GET', '/api/v1/namespaces/default/secrets')).status, 500);

    const w = await collectWatch(sim, CM, { resourceVersion: String(sim.server.store.currentRv()) });
    await waitUntil(() => faults.openWatches() >= 1, 'watch registered');
    assert.ok(faults.dropWatches() >= 1);
    assert.equal(await w.ended, null);

    const stalled = await collectWatch(sim, CM, { resourceVersion: String(sim.server.store.currentRv()) });
    await waitUntil(() => faults.openWatches() >= 1, 'watch registered');
    faults.stallWatches(200);
    await sim.core.createNamespacedConfigMap({ namespace: 'default', body: cm('stalled') });
    await stalled.ended;
    assert.equal(stalled.events.length, 0, 'a stalled watch delivers nothing, then drops');

    faults.writeDelayMs = 100;
    const t0 = Date.now();
    await sim.core.createNamespacedConfigMap({ namespace: 'default', body: cm('slow') });
    assert.ok(Date.now() - t0 >= 100);
    faults.writeDelayMs = 0;
  });

  it('27: an informer relists after compaction + dropped watch (410) without duplicate adds', async () => {
    const { faults } = sim.server;
    await sim.core.createNamespace({ body: { metadata: { name: 'inf' } } });
    await sim.core.createNamespacedConfigMap({ namespace: 'inf', body: cm('one') });
    let lists = 0;
    const listFn = () => {
      lists++;
      return sim.core.listNamespacedConfigMap({ namespace: 'inf' });
    };
    const informer = k8s.makeInformer(sim.kc, '/api/v1/namespaces/inf/configmaps', listFn);
    const adds: string[] = [];
    const errors: unknown[] = [];
    informer.on('add', (o) => adds.push(o.metadata?.name ?? ''));
    informer.on('error', (e) => errors.push(e));
    await informer.start();
    await waitUntil(() => adds.includes('one'), 'initial add');
    await sim.core.createNamespacedConfigMap({ namespace: 'inf', body: cm('two') });
    await waitUntil(() => adds.includes('two'), 'add of two');
    assert.equal(lists, 1);
    // History is gone and the watch drops: its resume gets 410, so the informer must relist.
    faults.compact();
    faults.dropWatches();
    await waitUntil(() => lists === 2, 'relist after 410');
    await sim.core.createNamespacedConfigMap({ namespace: 'inf', body: cm('three') });
    await waitUntil(() => adds.includes('three'), 'add of three after relist');
    assert.deepEqual(adds.sort(), ['one', 'three', 'two'], 'each object added exactly once');
    assert.equal(lists, 2, 'one relist, not a loop');
    assert.deepEqual(errors, []);
    await informer.stop();
  });

  it('27: an informer restarted with backoff on errors rides out 5xx, 429 and a stalled watch, adding each object once', async () => {
    const { faults } = sim.server;
    await sim.core.createNamespace({ body: { metadata: { name: 'inf2' } } });
    await sim.core.createNamespacedConfigMap({ namespace: 'inf2', body: cm('a') });
    const path = '/api/v1/namespaces/inf2/configmaps';
    let lists = 0;
    const informer = k8s.makeInformer(sim.kc, path, () => {
      lists++;
      return sim.core.listNamespacedConfigMap({ namespace: 'inf2' });
    });
    const adds: string[] = [];
    const restarts: number[] = [];
    // client-node informers stop on an error; the controller's job is to restart them with
    // back-off (this is what the operator does), never in a tight loop.
    let backoffMs = 20;
    let stopped = false;
    informer.on('add', (o) => adds.push(o.metadata?.name ?? ''));
    informer.on('error', () => {
      restarts.push(Date.now());
      setTimeout(() => { if (!stopped) void informer.start().catch(() => undefined); }, backoffMs);
      backoffMs = Math.min(backoffMs * 2, 500);
    });
    const isList = (m: string, p: string) => m === 'GET' && p.startsWith(path) && !p.includes('watch=');
    const isWatch = (m: string, p: string) => m === 'GET' && p.startsWith(path) && p.includes('watch=');
    faults.next({ status: 503, count: 2, match: isList });
    faults.next({ status: 429, retryAfterSeconds: 1, count: 2, match: isWatch });
    await informer.start().catch(() => undefined);
    await waitUntil(() => adds.includes('a'), 'the first add after the failures');
    await waitUntil(() => faults.openWatches() >= 1, 'the watch to be open');
    assert.equal(restarts.length, 4, 'one restart per injected failure');
    assert.equal(lists, 3, 'two failed lists, one that worked; the 429s were on the watch');
    for (let i = 1; i < restarts.length; i++) assert.ok(restarts[i]! - restarts[i - 1]! >= 15, 'restarts are spaced by back-off');

    faults.stallWatches(200);
    await sim.core.createNamespacedConfigMap({ namespace: 'inf2', body: cm('b') });
    await waitUntil(() => adds.includes('b'), 'the add made during the stall');
    await sim.core.createNamespacedConfigMap({ namespace: 'inf2', body: cm('c') });
    await waitUntil(() => adds.includes('c'), 'a later add');
    assert.deepEqual([...adds].sort(), ['a', 'b', 'c'], 'each object added exactly once');
    stopped = true;
    await informer.stop();
  });
});
