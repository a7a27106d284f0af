// pods/exec is proxied to the kubelet; a kubectl that is gone by the time the kubelet connection
// opens must not leave that connection (and the command it would start) running.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { PassThrough } from 'node:stream';
import type { IncomingMessage } from 'node:http';
import { startApiServer, type RunningApiServer } from '../../sim/server/api-server.js';
import { proxyExec } from '../../sim/server/pod-exec.js';
import type { RouterContext } from '../../sim/server/http-router.js';
import type { Target } from '../../sim/server/rest.js';
import { waitUntil } from '../helpers/wait.js';

describe('pods/exec proxy', () => {
  let api: RunningApiServer;
  let kubelet: Server;
  const connections: { port?: number; bytes: number; closed: boolean }[] = [];

  const call = async (method: string, path: string, body: unknown, contentType = 'application/json') => {
    const res = await fetch(`${api.url}${path}`, { method, headers: { 'Content-Type': contentType }, body: JSON.stringify(body) });
    assert.ok(res.ok, `${method} ${path}: ${res.status} ${await res.text()}`);
  };

  before(async () => {
    kubelet = createServer((s) => {
      const seen = { port: s.remotePort, bytes: 0, closed: false };
      connections.push(seen);
      s.on('data', (b: Buffer) => (seen.bytes += b.length));
      s.on('close', () => (seen.closed = true));
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => kubelet.listen(0, '127.0.0.1', r));
    api = await startApiServer();
    await call('POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } });
    await call('PATCH', '/api/v1/nodes/n1/status', { status: {
      addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
      daemonEndpoints: { kubeletEndpoint: { Port: (kubelet.address() as AddressInfo).port } },
    } }, 'application/merge-patch+json');
    await call('POST', '/api/v1/namespaces/default/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' },
      spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'node:20' }] } });
  });
  after(async () => {
    await api?.close();
    kubelet?.close();
  });

  it('a client gone before the kubelet connection opened closes that connection without sending the exec', async () => {
    const socket = new PassThrough();
    socket.destroy(); // kubectl hung up
    const type = api.types.find('', 'v1', 'pods')!;
    await proxyExec({
      ctx: { store: api.store, types: api.types } as unknown as RouterContext,
      req: { rawHeaders: [] } as unknown as IncomingMessage,
      socket, head: Buffer.alloc(0),
      url: new URL(`${api.url}/api/v1/namespaces/default/pods/p/exec?command=sleep&command=60&stdout=true`),
      pod: { type, version: 'v1', namespace: 'default', name: 'p' } as Target,
    }).catch(() => undefined);
    // Connections are accepted in order: once this one is seen, any the proxy opened is too.
    const sentinel = connect((kubelet.address() as AddressInfo).port, '127.0.0.1');
    await new Promise((r) => sentinel.once('connect', r));
    await waitUntil(() => connections.some((c) => c.port === sentinel.localPort), 'the kubelet to accept the sentinel connection');
    const proxied = connections.filter((c) => c.port !== sentinel.localPort);
    sentinel.destroy();
    await waitUntil(() => proxied.every((c) => c.closed), 'every connection the proxy opened to close');
    assert.deepEqual(proxied.map((c) => c.bytes).filter((n) => n > 0), [], 'no exec request reached the kubelet');
  });
});
