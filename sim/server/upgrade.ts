// Upgraded connections (WebSocket) to pod subresources, dispatched by subresource. pods/exec is
// proxied byte for byte to the kubelet of the pod's node, which speaks the stream protocol
// itself, as the real API server proxies it. Refusals before the upgrade are ordinary HTTP
// responses with a Status body, which kubectl reports as the server's error.
import type { IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { ApiError, badRequest, unknownPath } from './errors.js';
import { getPod, kubeletOf, kubeletPath, validateContainer } from './kubelet-location.js';
import type { ObjectStore } from './store.js';

export interface UpgradeContext {
  store: ObjectStore;
}

interface PodTarget { namespace: string; name: string; query: URLSearchParams }

type UpgradeHandler = (ctx: UpgradeContext, req: IncomingMessage, socket: Duplex, head: Buffer, target: PodTarget) => Promise<void>;

const handlers: Record<string, UpgradeHandler> = {
  exec: proxyExec,
};

export function handleUpgrade(ctx: UpgradeContext, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  const url = new URL(req.url ?? '/', 'http://kube-sim');
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  // /api/v1/namespaces/{ns}/pods/{name}/{subresource}
  const [api, version, namespaces, namespace, pods, name, subresource] = parts;
  const handler = subresource ? handlers[subresource] : undefined;
  const isPodSub = parts.length === 7 && api === 'api' && version === 'v1' && namespaces === 'namespaces' && pods === 'pods';
  if (!isPodSub || !handler) return refuse(socket, unknownPath());
  handler(ctx, req, socket, head, { namespace: namespace!, name: name!, query: url.searchParams }).catch((err: unknown) => refuse(socket, err));
}

function refuse(socket: Duplex, err: unknown): void {
  const apiError = err instanceof ApiError ? err : new ApiError(500, 'InternalError', `Internal error occurred: ${(err as Error)?.message ?? String(err)}`);
  const body = JSON.stringify(apiError.toStatus());
  socket.end(`HTTP/1.1 ${apiError.code} ${apiError.reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/** Parameters of an exec that the kubelet needs (the container is in its path). */
const EXEC_PARAMS = ['stdin', 'stdout', 'stderr', 'tty'];

async function proxyExec(ctx: UpgradeContext, req: IncomingMessage, socket: Duplex, head: Buffer, t: PodTarget): Promise<void> {
  const pod = getPod(ctx.store, t.namespace, t.name);
  const container = validateContainer(pod, t.query.get('container'));
  const kubelet = kubeletOf(ctx.store, pod);
  if (!kubelet) throw badRequest(`pod ${t.name} does not have a host assigned`);
  const query = new URLSearchParams();
  for (const c of t.query.getAll('command')) query.append('command', c);
  for (const key of EXEC_PARAMS) { const v = t.query.get(key); if (v !== null) query.set(key, v); }
  const path = kubeletPath('exec', pod, container, query);
  const upstream = await new Promise<Socket>((resolve, reject) => {
    const s = connect(kubelet.port, kubelet.host, () => resolve(s));
    s.once('error', (err) => reject(new Error(`error dialing backend: ${err.message}`)));
  });
  const headers: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i]!.toLowerCase() !== 'host') headers.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
  }
  upstream.write(`GET ${path} HTTP/1.1\r\nHost: ${kubelet.host}:${kubelet.port}\r\n${headers.join('\r\n')}\r\n\r\n`);
  if (head.length > 0) upstream.write(head);
  upstream.pipe(socket);
  socket.pipe(upstream);
  upstream.on('error', () => socket.destroy());
  socket.on('error', () => upstream.destroy());
  upstream.on('close', () => socket.destroy());
  socket.on('close', () => upstream.destroy());
}
