// EventRecorder against the API emulator: core v1 Events, aggregation of repeats, failures
// reported rather than thrown, writes through the client's rate limiter.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EventRecorder } from '../../operator/k8s/events.js';
import { KubeApi, type KubeObject } from '../../operator/k8s/kube-api.js';
import { R } from '../../operator/k8s/resources.js';
import { startApiServer, type RunningApiServer } from '../../sim/server/api-server.js';

type Event = KubeObject & {
  involvedObject: Record<string, string>; reason: string; message: string; type: string; count: number;
  firstTimestamp: string; lastTimestamp: string; source: { component: string; host: string };
};

describe('EventRecorder', () => {
  let server: RunningApiServer;
  let api: KubeApi;
  let pod: KubeObject;
  before(async () => {
    server = await startApiServer();
    api = KubeApi.fromKubeconfigYaml(server.kubeconfig(), { qps: Infinity });
    pod = await api.create(R.pods, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'subject' }, spec: { containers: [{ name: 'c', image: 'i' }] } });
  });
  after(async () => {
    api.close();
    await server.close();
  });

  const events = async (): Promise<Event[]> => (await api.list<Event>(R.events, { namespace: 'default' })).items;

  it('writes a core v1 Event about the object and aggregates repeats into its count', async () => {
    const rec = new EventRecorder(api, { component: 'kubedask-operator', host: 'op-0' });
    const before = api.limiter.stats.immediate + api.limiter.stats.delayed;
    rec.record(pod, 'Normal', 'Scaled', 'scaled to 3');
    rec.record(pod, 'Normal', 'Scaled', 'scaled to 3');
    rec.record(pod, 'Normal', 'Scaled', 'scaled to 3');
    rec.record(pod, 'Warning', 'Scaled', 'scaled to 4');
    await rec.flush();
    assert.equal(api.limiter.stats.immediate + api.limiter.stats.delayed - before, 4, 'two creates and two patches, all through the limiter');
    const list = await events();
    assert.equal(list.length, 2);
    const repeated = list.find((e) => e.message === 'scaled to 3')!;
    assert.equal(repeated.count, 3);
    assert.equal(repeated.type, 'Normal');
    assert.equal(repeated.reason, 'Scaled');
    assert.deepEqual(repeated.source, { component: 'kubedask-operator', host: 'op-0' });
    assert.deepEqual(
      [repeated.involvedObject.kind, repeated.involvedObject.name, repeated.involvedObject.namespace, repeated.involvedObject.uid],
      ['Pod', 'subject', 'default', pod.metadata.uid],
    );
    assert.ok(repeated.lastTimestamp >= repeated.firstTimestamp);
    assert.equal(list.find((e) => e.message === 'scaled to 4')?.type, 'Warning');
  });

  it('never throws: failures go to onError; an Event deleted meanwhile is made again', async () => {
    const errors: unknown[] = [];
    const rec = new EventRecorder(api, { component: 'c', onError: (e) => errors.push(e) });
    server.faults.next({ status: 500, match: (m, p) => m === 'POST' && p.includes('/events') });
    assert.doesNotThrow(() => rec.record(pod, 'Warning', 'Failed', 'boom'));
    await rec.flush();
    assert.equal(errors.length, 1);
    assert.equal((errors[0] as { status: number }).status, 500);

    rec.record(pod, 'Normal', 'Again', 'once');
    await rec.flush();
    const first = (await events()).find((e) => e.reason === 'Again')!;
    await api.delete(R.events, 'default', first.metadata.name!);
    rec.record(pod, 'Normal', 'Again', 'once');
    await rec.flush();
    const again = (await events()).filter((e) => e.reason === 'Again');
    assert.equal(again.length, 1);
    assert.notEqual(again[0].metadata.name, first.metadata.name);
    assert.equal(again[0].count, 1);
    assert.equal(errors.length, 1);
  });

  it('drops a transition recorded again with no other between (a stale read), counts a real return', async () => {
    const rec = new EventRecorder(api, { component: 'c' });
    const phase = (p: string) => rec.record(pod, 'Normal', `Phase${p}`, `cluster is ${p}`, 'phase');
    phase('Starting');
    phase('Running');
    phase('Running'); // a pass that still saw the old phase
    phase('Scaling');
    phase('Running'); // really back
    await rec.flush();
    const running = (await events()).filter((e) => e.reason === 'PhaseRunning');
    assert.equal(running.length, 1);
    assert.equal(running[0].count, 2);
    assert.equal((await events()).find((e) => e.reason === 'PhaseStarting')?.count, 1);
  });

  it('puts events of cluster-scoped objects in the default namespace', async () => {
    const rec = new EventRecorder(api, { component: 'c' });
    const ns = (await api.get(R.namespaces, undefined, 'kube-public'))!;
    rec.record(ns, 'Normal', 'Seen', 'a cluster-scoped object');
    await rec.flush();
    const e = (await events()).find((x) => x.reason === 'Seen');
    assert.equal(e?.involvedObject.kind, 'Namespace');
    assert.equal(e?.involvedObject.namespace, undefined);
  });
});
