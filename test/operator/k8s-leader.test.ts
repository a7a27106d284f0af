// Leader election on a Lease in the API emulator, with short durations.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KubeApi, type KubeObject } from '../../operator/k8s/kube-api.js';
import { LeaderElector } from '../../operator/k8s/leader.js';
import { R } from '../../operator/k8s/resources.js';
import { startApiServer, type RunningApiServer } from '../../sim/server/api-server.js';
import { waitUntil } from '../helpers/wait.js';

type Lease = KubeObject & { spec?: { holderIdentity?: string; leaseTransitions?: number; renewTime?: string; leaseDurationSeconds?: number } };
// Short, yet with room for a loaded CI machine: a renewal may take a while without losing the lease.
const TIMING = { leaseDurationSeconds: 3, renewDeadlineMs: 2000, retryPeriodMs: 100 };

describe('LeaderElector', () => {
  let server: RunningApiServer;
  let api: KubeApi;
  let n = 0;
  const electors: LeaderElector[] = [];
  before(async () => {
    server = await startApiServer();
    api = KubeApi.fromKubeconfigYaml(server.kubeconfig(), { qps: Infinity, retryBaseMs: 5, maxRetries: 1 });
  });
  after(async () => {
    await Promise.all(electors.map((e) => e.stop()));
    api.close();
    await server.close();
  });

  /** An elector plus the log of its transitions; `overlap` records anyone starting while another leads. */
  function candidates(name: string, ids: string[], timing: Partial<typeof TIMING> = {}) {
    const log: string[] = [];
    let overlaps = 0;
    const list: LeaderElector[] = [];
    for (const identity of ids) {
      const e = new LeaderElector({
        api, namespace: 'default', name, identity, ...TIMING, ...timing,
        onStartedLeading: () => {
          if (list.some((other) => other !== e && other.isLeader)) overlaps++;
          log.push(`start ${identity}`);
        },
        onStoppedLeading: () => log.push(`stop ${identity}`),
      });
      list.push(e);
      electors.push(e);
    }
    return { list, log, overlaps: () => overlaps };
  }

  const lease = (name: string) => api.get<Lease>(R.leases, 'default', name);

  it('lets exactly one of two electors lead, and stop() hands over at once', async () => {
    const name = `lease-${++n}`;
    // A 30 s lease: b can only take over within the deadline below because a releases it.
    const { list: [a, b], log, overlaps } = candidates(name, ['a', 'b'], { leaseDurationSeconds: 30 });
    a.start();
    await waitUntil(() => a.isLeader, 'a leads', 5000);
    b.start();
    // Let b try several times while a renews.
    const rv = (await lease(name))!.metadata.resourceVersion;
    await waitUntil(async () => Number((await lease(name))!.metadata.resourceVersion) >= Number(rv) + 5, 'a few renewals', 5000);
    assert.equal(a.isLeader, true);
    assert.equal(b.isLeader, false);
    await a.stop();
    assert.equal(a.isLeader, false);
    await waitUntil(() => b.isLeader, 'b takes over', 5000);
    const held = (await lease(name))!;
    assert.equal(held.spec?.holderIdentity, 'b');
    assert.equal(held.spec?.leaseTransitions, 1);
    assert.deepEqual(log, ['start a', 'stop a', 'start b']);
    assert.equal(overlaps(), 0);
    await b.stop();
    assert.equal((await lease(name))!.spec?.holderIdentity, undefined, 'released');
  });

  it('waits for an abandoned lease to expire before taking it', async () => {
    const name = `lease-${++n}`;
    const now = new Date().toISOString();
    await api.create(R.leases, 'default', { metadata: { name }, spec: { holderIdentity: 'crashed', leaseDurationSeconds: 1, renewTime: now, acquireTime: now } });
    const { list: [c], log } = candidates(name, ['c']);
    const started = Date.now();
    c.start();
    await waitUntil(() => c.isLeader, 'c takes the expired lease', 5000);
    assert.ok(Date.now() - started >= 1000, 'not before the holder’s lease ran out');
    assert.deepEqual(log, ['start c']);
    await c.stop();
  });

  it('a leader that cannot renew within renewDeadline stops leading, and campaigns again', async () => {
    const name = `lease-${++n}`;
    const { list: [d], log } = candidates(name, ['d']);
    d.start();
    await waitUntil(() => d.isLeader, 'd leads', 5000);
    server.faults.next({ status: 503, count: 1_000_000, match: (_m, p) => p.includes(`/leases/${name}`) });
    await waitUntil(() => !d.isLeader, 'd steps down', 5000);
    assert.deepEqual(log, ['start d', 'stop d']);
    server.faults.clear();
    await waitUntil(() => d.isLeader, 'd leads again', 5000);
    assert.deepEqual(log, ['start d', 'stop d', 'start d']);
    await d.stop();
  });

  it('a leader whose lease was taken steps down at its next renewal', async () => {
    const name = `lease-${++n}`;
    const { list: [e], log } = candidates(name, ['e']);
    e.start();
    await waitUntil(() => e.isLeader, 'e leads', 5000);
    const current = (await lease(name))!;
    await api.replace(R.leases, 'default', name, { ...current, spec: { ...current.spec, holderIdentity: 'usurper', leaseDurationSeconds: 30, renewTime: new Date().toISOString() } });
    await waitUntil(() => !e.isLeader, 'e steps down', 5000);
    assert.deepEqual(log, ['start e', 'stop e']);
    await e.stop();
    assert.equal((await lease(name))!.spec?.holderIdentity, 'usurper', 'stop() does not clear a lease it does not hold');
  });

  it('rejects timings where a leader could outlive its lease', () => {
    const base = { api, namespace: 'default', name: 'x', identity: 'x', onStartedLeading: () => undefined, onStoppedLeading: () => undefined };
    assert.throws(() => new LeaderElector({ ...base, leaseDurationSeconds: 1, renewDeadlineMs: 1000 }), /renewDeadline/);
    assert.throws(() => new LeaderElector({ ...base, renewDeadlineMs: 2000, retryPeriodMs: 2000 }), /retryPeriod/);
  });
});
