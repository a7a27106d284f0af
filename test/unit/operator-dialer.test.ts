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

  it('where the name does not resolve, opens one local port-forward per address, reuses it, closes it on forget', async () => {
    const opened: string[] = [];
    const closed: string[] = [];
    const d = serviceDialer(KubeApi.fromKubeconfigYaml(kubeconfig('laptop')), {
      lookup: notFound, onForward: (a) => opened.push(a), onClose: (a) => closed.push(a),
    });
    const [a, b] = await Promise.all([d.target(ADDRESS), d.target(ADDRESS)]);
    assert.match(a, /^127\.0\.0\.1:\d+$/);
    assert.equal(b, a, 'one forward, shared');
    assert.deepEqual(opened, [ADDRESS]);
    const port = Number(a.split(':')[1]);
    await new Promise<void>((resolve, reject) => net.connect(port, '127.0.0.1', resolve).on('error', reject).unref());
    d.forget(ADDRESS);
    await new Promise<void>((resolve) => { const wait = () => (closed.length ? resolve() : setImmediate(wait)); wait(); });
    assert.deepEqual(closed, [ADDRESS]);
    await assert.rejects(new Promise((resolve, reject) => net.connect(port, '127.0.0.1', () => resolve(undefined)).on('error', reject)), /ECONNREFUSED/);
  });

  it('with an in-cluster config never tunnels: a failed lookup there is retried by the caller', async () => {
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
