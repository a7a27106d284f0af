// The operator's scheduler dialer: the Service address where its name resolves, a port-forward
// (one per address, reused, closed on forget) where it does not, never one with an in-cluster config.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { KubeApi } from '../../operator/k8s/kube-api.js';
import { serviceDialer } from '../../operator/control/scheduler-dialer.js';

const kubeconfig = (cluster: string) => `apiVersion: v1
kind: Config
clusters: [{name: ${cluster}, cluster: {server: 'http://127.0.0.1:9'}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: c, context: {cluster: ${cluster}, user: u}}]
current-context: c
`;
const notFound = async (): Promise<never> => { throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }); };
const ADDRESS = 'demo-scheduler.team.svc:8786';

describe('operator scheduler dialer', () => {
  it('dials the Service address when its name resolves, and any address that is no Service name as it is', async () => {
    const d = serviceDialer(KubeApi.fromKubeconfigYaml(kubeconfig('laptop')), { lookup: async () => ({ address: '10.0.0.7' }) });
    assert.equal(await d.target(ADDRESS), ADDRESS);
    const never = serviceDialer(KubeApi.fromKubeconfigYaml(kubeconfig('laptop')), { lookup: notFound });
    assert.equal(await never.target('10.1.2.3:8786'), '10.1.2.3:8786');
  });

  it('where the name does not resolve, opens one local port-forward per address, reuses it, closes it on forget', { timeout: 20_000 }, async () => {
    const opened: string[] = [];
    const closed: string[] = [];
    const errors: string[] = [];
    const d = serviceDialer(KubeApi.fromKubeconfigYaml(kubeconfig('laptop'), { maxRetries: 0 }), {
      lookup: notFound, onForward: (a) => opened.push(a), onClose: (a) => closed.push(a), onError: (a, err) => errors.push(`${a}: ${err.message}`),
    });
    const [a, b] = await Promise.all([d.target(ADDRESS), d.target(ADDRESS)]);
    assert.match(a, /^127\.0\.0\.1:\d+$/);
    assert.equal(b, a, 'one forward, shared');
    assert.deepEqual(opened, [ADDRESS]);
    const port = Number(a.split(':')[1]);
    // The tunnel of a local connection goes through the API server (nothing listens at :9): the
    // connection is closed and the dialer's onError hears why.
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    assert.equal(errors.length, 1, errors.join('; '));
    assert.match(errors[0]!, /^demo-scheduler\.team\.svc:8786: \S/);
    d.forget(ADDRESS);
    await new Promise<void>((resolve) => { const wait = () => (closed.length ? resolve() : setImmediate(wait)); wait(); });
    assert.deepEqual(closed, [ADDRESS]);
    await assert.rejects(new Promise((resolve, reject) => net.connect(port, '127.0.0.1', () => resolve(undefined)).on('error', reject)), /ECONNREFUSED/);
  });

  it('a forget() while the name is being looked up cancels the dial: no forward is opened after it', async () => {
    const opened: string[] = [];
    let fail!: () => void;
    const lookup = () => new Promise<never>((_, reject) => { fail = () => reject(Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' })); });
    const d = serviceDialer(KubeApi.fromKubeconfigYaml(kubeconfig('laptop')), { lookup, onForward: (a) => opened.push(a) });
    const dial = d.target(ADDRESS);
    d.forget(ADDRESS);
    fail();
    await assert.rejects(dial, /forgotten while its address was being resolved/);
    assert.deepEqual(opened, []);
    // A later dial (the cluster made again under the same name) tunnels as before.
    const again = d.target(ADDRESS);
    fail();
    assert.match(await again, /^127\.0\.0\.1:\d+$/);
    assert.deepEqual(opened, [ADDRESS]);
    d.close();
  });

  it('with an in-cluster config never tunnels: a failed lookup there is retried by the caller', async () => {
    assert.equal(KubeApi.fromKubeconfigYaml(kubeconfig('inCluster')).inCluster, true);
    assert.equal(KubeApi.fromKubeconfigYaml(kubeconfig('laptop')).inCluster, false);
    const d = serviceDialer(KubeApi.fromKubeconfigYaml(kubeconfig('inCluster')), { lookup: notFound });
    assert.equal(await d.target(ADDRESS), ADDRESS);
  });

  it('a lookup failure other than "no such name" is the caller\'s error, not a reason to tunnel', async () => {
    const d = serviceDialer(KubeApi.fromKubeconfigYaml(kubeconfig('laptop')), {
      lookup: async () => { throw Object.assign(new Error('bad flags'), { code: 'EINVAL' }); },
    });
    await assert.rejects(d.target(ADDRESS), /bad flags/);
  });
});
