// H28: pods/portforward, reached from the host as a real cluster is: @kubernetes/client-node's
// PortForward (WebSocket, v4.channel.k8s.io) and the real kubectl's port-forward (SPDY tunnelled
// through a WebSocket, or plain SPDY) to a pod the process kubelet runs, directly or by Service.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import WebSocket from 'ws';
import { startApiServer, type RunningApiServer } from '../../sim/server/api-server.js';
import { startKubelet, type RunningKubelet } from '../../sim/kubelet/kubelet.js';
import { kubectlPortForward } from '../helpers/port-forward.js';
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

/** Sends `text` to a local port and returns the first answer. */
async function roundTrip(port: number, text: string): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  let answer = '';
  socket.on('data', (b: Buffer) => (answer += b.toString()));
  socket.on('error', () => undefined);
  socket.write(text);
  try {
    return await waitUntil(() => answer, `an answer to ${text} through local port ${port}`, 20_000);
  } finally {
    socket.destroy();
  }
}

describe('pods/portforward (H28)', () => {
  let api: RunningApiServer;
  let kubelet: RunningKubelet;
  let kc: k8s.KubeConfig;
  let core: k8s.CoreV1Api;
  let kubeconfigPath: string;
  const dir = mkdtempSync(join(tmpdir(), 'portforward-test-'));

  before(async () => {
    api = await startApiServer();
    const kubeconfig = join(dir, 'kubeconfig');
    await api.writeKubeconfig(kubeconfig);
    kubeconfigPath = kubeconfig;
    // node:20 runs as this Node.js: kube-sim runs only images mapped to a local command.
    kubelet = await startKubelet({ server: api.url, kubeconfig, logDir: join(dir, 'logs'), images: { node: ['node'] }, nodes: [{ name: 'node-1', cpu: '4', memory: '8Gi' }] });
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
    await core.createNamespacedService({ namespace: 'default', body: {
      metadata: { name: 'echo' }, spec: { selector: { app: 'echo' }, ports: [{ name: 'echo', port: 80, targetPort: 'echo' }] },
    } });
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

  /** An HTTP upgrade request other than a WebSocket one: the status and Status message it gets. */
  const upgradeAnswer = (headers: Record<string, string>) => new Promise<{ code: number; message: string }>((resolve, reject) => {
    const req = request(`${api.url}/api/v1/namespaces/default/pods/echo/portforward`, { method: 'POST', headers: { Connection: 'Upgrade', ...headers } });
    req.on('upgrade', () => reject(new Error('the upgrade was accepted')));
    req.on('response', (res) => {
      let text = '';
      res.on('data', (b: Buffer) => (text += b.toString()));
      res.on('end', () => resolve({ code: res.statusCode ?? 0, message: (JSON.parse(text) as { message: string }).message }));
    });
    req.on('error', reject);
    req.end();
  });

  it('refuses other upgrades, and a SPDY client that speaks no port-forward protocol, with a Status', async () => {
    const h2c = await upgradeAnswer({ Upgrade: 'h2c' });
    assert.equal(h2c.code, 400);
    assert.match(h2c.message, /pods\/portforward speaks WebSocket .* or SPDY\/3\.1; got Upgrade: h2c/);
    const spdy = await upgradeAnswer({ Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': 'v4.channel.k8s.io' });
    assert.equal(spdy.code, 403);
    assert.match(spdy.message, /unable to negotiate protocol: client supports \[v4\.channel\.k8s\.io\], server supports \[portforward\.k8s\.io\]/);
  });

  it('is in discovery as the real server lists it, and a plain request is told to upgrade', async () => {
    const resources = await (await fetch(`${api.url}/api/v1`)).json() as { resources: { name: string; kind: string; verbs: string[] }[] };
    const pf = resources.resources.find((r) => r.name === 'pods/portforward');
    assert.deepEqual(pf && { kind: pf.kind, verbs: pf.verbs }, { kind: 'PodPortForwardOptions', verbs: ['create', 'get'] });
    const plain = await fetch(`${api.url}/api/v1/namespaces/default/pods/echo/portforward?ports=7000`);
    assert.equal(plain.status, 400);
    assert.equal((await plain.json() as { message: string }).message, 'Upgrade request required');
  });

  it('a client-node PortForward to a missing pod fails instead of hanging', async () => {
    // client-node rejects with the WebSocket's error event, whose message has the HTTP status.
    await assert.rejects(forward(kc, 'nope', 7000), (e: { message?: string }) => /Unexpected server response: 404/.test(e.message ?? ''));
  });

  /** How many connections the echo server has open, asked through a forward of its own. */
  const openConnections = async () => {
    const f = await forward(kc, 'echo', 7000);
    f.input.write('count');
    const answer = await waitUntil(() => f.data(), 'the connection count');
    f.input.end();
    return Number(answer.replace('open:', '')) - 1;
  };

  it('kubectl port-forward pod/P (SPDY tunnelled through a WebSocket) reaches the pod, one stream pair per connection', async () => {
    const pf = await kubectlPortForward(kubeconfigPath, ['pod/echo', ':7000', '-v=4']);
    // A connection still open when kubectl dies without a word (SIGKILL): its pod connection must
    // close with the session.
    const held = connect(pf.port, '127.0.0.1');
    held.on('error', () => undefined);
    try {
      assert.equal(await roundTrip(pf.port, 'one'), 'echo:one');
      assert.equal(await roundTrip(pf.port, 'two'), 'echo:two');
      let heldAnswer = '';
      held.on('data', (b: Buffer) => (heldAnswer += b.toString()));
      held.write('held');
      await waitUntil(() => heldAnswer === 'echo:held', 'the held connection to work');
      assert.equal(await openConnections(), 1, 'only the held connection is open at the pod');
      assert.match(pf.stderr(), /negotiated protocol: portforward\.k8s\.io/, 'kubectl used the WebSocket tunnel, not the SPDY fallback');
    } finally {
      await pf.stop('SIGKILL');
      held.destroy();
    }
    await waitUntil(async () => (await openConnections()) === 0, 'the pod connections to close after kubectl died');
  });

  it('kubectl port-forward over plain SPDY/3.1 (its fallback, forced off WebSockets)', async () => {
    const pf = await kubectlPortForward(kubeconfigPath, ['pod/echo', ':7000', '-v=4'], { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' });
    try {
      assert.equal(await roundTrip(pf.port, 'plain'), 'echo:plain');
      assert.doesNotMatch(pf.stderr(), /negotiated protocol/);
    } finally {
      await pf.stop();
    }
  });

  it('kubectl port-forward svc/S maps the Service port to the named container port of a pod behind it', async () => {
    const pf = await kubectlPortForward(kubeconfigPath, ['svc/echo', ':80']);
    try {
      assert.match(pf.stdout(), /-> 7000/);
      assert.equal(await roundTrip(pf.port, 'svc'), 'echo:svc');
    } finally {
      await pf.stop();
    }
  });

  it('kubectl port-forward to a port nothing listens on reports the refusal and ends', async () => {
    const pf = await kubectlPortForward(kubeconfigPath, ['pod/echo', ':7001']);
    try {
      const socket = connect(pf.port, '127.0.0.1');
      socket.on('error', () => undefined);
      await waitUntil(() => pf.exited(), 'kubectl to end after the forward failed');
      socket.destroy();
      assert.match(pf.stderr(), /an error occurred forwarding \d+ -> 7001: error forwarding port 7001 to pod echo, uid [0-9a-f-]+: .*connection refused/);
    } finally {
      await pf.stop();
    }
  });

  it('kubectl port-forward to a missing pod fails with the API server\'s NotFound', async () => {
    await assert.rejects(kubectlPortForward(kubeconfigPath, ['pod/nope', ':80']), /pods "nope" not found/);
  });
});
