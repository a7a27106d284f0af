// H28: pods/portforward, reached from the host as a real cluster is: @kubernetes/client-node's
// PortForward (WebSocket, v4.channel.k8s.io) to a pod the process kubelet runs.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import WebSocket from 'ws';
import { startApiServer, type RunningApiServer } from '../../sim/server/api-server.js';
import { startKubelet, type RunningKubelet } from '../../sim/kubelet/kubelet.js';
import { waitUntil } from '../helpers/wait.js';

// Echoes each chunk as "echo:<chunk>"; "count" answers with the connections the server has open.
const echoServer = `const net = require('net');
const server = net.createServer((s) => s.on('data', (d) => String(d) === 'count'
  ? server.getConnections((e, n) => s.write('open:' + n)) : s.write('echo:' + d)));
server.listen(7000);`;

/** One client-node port-forward: what arrived on the data and error channels, and its socket. */
async function forward(kc: k8s.KubeConfig, pod: string, port: number) {
  const out = new PassThrough();
  const err = new PassThrough();
  const input = new PassThrough();
  let data = '';
  let errors = '';
  out.on('data', (b: Buffer) => (data += b.toString()));
  err.on('data', (b: Buffer) => (errors += b.toString()));
  const ws = await new k8s.PortForward(kc).portForward('default', pod, [port], out, err, input) as WebSocket;
  let closed = false;
  ws.on('close', () => (closed = true));
  return { ws, input, data: () => data, errors: () => errors, closed: () => closed };
}

describe('pods/portforward (H28)', () => {
  let api: RunningApiServer;
  let kubelet: RunningKubelet;
  let kc: k8s.KubeConfig;
  let core: k8s.CoreV1Api;
  const dir = mkdtempSync(join(tmpdir(), 'portforward-test-'));

  before(async () => {
    api = await startApiServer();
    const kubeconfig = join(dir, 'kubeconfig');
    await api.writeKubeconfig(kubeconfig);
    kubelet = await startKubelet({ server: api.url, kubeconfig, logDir: join(dir, 'logs'), nodes: [{ name: 'node-1', cpu: '4', memory: '8Gi' }] });
    kc = new k8s.KubeConfig();
    kc.loadFromFile(kubeconfig);
    core = kc.makeApiClient(k8s.CoreV1Api);
    await core.createNamespacedPod({ namespace: 'default', body: {
      metadata: { name: 'echo', labels: { app: 'echo' } },
      spec: { terminationGracePeriodSeconds: 1, containers: [{
        name: 'echo', image: 'node:20', command: ['node', '-e', echoServer],
        ports: [{ name: 'echo', containerPort: 7000 }],
        readinessProbe: { tcpSocket: { port: 7000 }, periodSeconds: 1 },
      }] },
    } });
    await waitUntil(async () => (await core.readNamespacedPod({ name: 'echo', namespace: 'default' })).status?.conditions
      ?.some((c) => c.type === 'Ready' && c.status === 'True'), 'the echo pod to be Ready');
  });
  after(async () => {
    await kubelet?.close();
    await api?.close();
  });

  it('client-node PortForward reaches the pod port both ways, and closing it closes the pod connection', async () => {
    const first = await forward(kc, 'echo', 7000);
    assert.equal(first.ws.protocol, 'v4.channel.k8s.io');
    first.input.write('ping');
    await waitUntil(() => first.data() === 'echo:ping', 'the echo through the forward');
    first.input.end();
    await waitUntil(() => first.closed(), 'the WebSocket to close');

    const second = await forward(kc, 'echo', 7000);
    second.input.write('count');
    await waitUntil(() => second.data().startsWith('open:'), 'the connection count');
    assert.equal(second.data(), 'open:1', 'the first forward\'s pod connection was closed with its WebSocket');
    assert.equal(first.errors() + second.errors(), '');
    second.input.end();
  });

  it('a port nothing listens on: the error channel says so and the socket closes', async () => {
    const f = await forward(kc, 'echo', 7001);
    await waitUntil(() => f.closed(), 'the WebSocket to close');
    assert.match(f.errors(), /^error forwarding port 7001 to pod echo, uid [0-9a-f-]+: .*connection refused/);
    assert.equal(f.data(), '');
  });

  /** Opens a WebSocket to the portforward path and returns the refusal's status and Status body. */
  const refused = (path: string, protocols: string[]) => new Promise<{ code: number; body: { reason: string; message: string } }>((resolve, reject) => {
    const ws = new WebSocket(`${api.url.replace('http', 'ws')}${path}`, protocols);
    ws.on('open', () => reject(new Error('the upgrade was accepted')));
    ws.on('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (b: Buffer) => (text += b.toString()));
      res.on('end', () => resolve({ code: res.statusCode ?? 0, body: JSON.parse(text) as { reason: string; message: string } }));
    });
    ws.on('error', () => undefined);
  });

  it('refuses a missing pod, a pod that is not running, a missing port and an unknown protocol with a Status', async () => {
    const missing = await refused('/api/v1/namespaces/default/pods/nope/portforward?ports=80', ['v4.channel.k8s.io']);
    assert.equal(missing.code, 404);
    assert.equal(missing.body.message, 'pods "nope" not found');

    await core.createNamespacedPod({ namespace: 'default', body: {
      metadata: { name: 'too-big' }, spec: { containers: [{ name: 'c', image: 'node:20', command: ['node'], resources: { requests: { cpu: '64' } } }] },
    } });
    const pending = await refused('/api/v1/namespaces/default/pods/too-big/portforward?ports=80', ['v4.channel.k8s.io']);
    assert.equal(pending.code, 400);
    assert.match(pending.body.message, /pod too-big does not have a host assigned/);

    const noPort = await refused('/api/v1/namespaces/default/pods/echo/portforward', ['v4.channel.k8s.io']);
    assert.equal(noPort.code, 400);
    assert.match(noPort.body.message, /query parameter "ports" is required/);

    const protocol = await refused('/api/v1/namespaces/default/pods/echo/portforward?ports=7000', ['v9.channel.k8s.io']);
    assert.equal(protocol.code, 400);
    assert.match(protocol.body.message, /requested protocol\(s\) are not supported: \[v9\.channel\.k8s\.io\]/);
  });

  it('a client-node PortForward to a missing pod fails instead of hanging', async () => {
    // client-node rejects with the WebSocket's error event, whose message has the HTTP status.
    await assert.rejects(forward(kc, 'nope', 7000), (e: { message?: string }) => /Unexpected server response: 404/.test(e.message ?? ''));
  });
});
