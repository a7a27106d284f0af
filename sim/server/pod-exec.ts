// pods/exec: proxied byte for byte to the kubelet of the pod's node, which speaks the stream
// protocol (v5/v4.channel.k8s.io) itself, as the real API server proxies it. Refusals before the
// upgrade (no such pod or container, pod not on a node) are Status answers (upgrade.ts).
import { connect } from 'node:net';
import { badRequest } from './errors.js';
import { kubeletOf, kubeletPath, validateContainer } from './kubelet-location.js';
import type { UpgradeRequest } from './upgrade-request.js';

/** Parameters of an exec that the kubelet needs (the container is in its path). */
const EXEC_PARAMS = ['stdin', 'stdout', 'stderr', 'tty'];

export async function proxyExec(u: UpgradeRequest): Promise<void> {
  const { store } = u.ctx;
  const name = u.pod.name!;
  const q = u.url.searchParams;
  const pod = u.ctx.rest.get(u.pod);
  const container = validateContainer(pod, q.get('container'));
  const kubelet = kubeletOf(store, pod);
  if (!kubelet) throw badRequest(`pod ${name} does not have a host assigned`);
  const query = new URLSearchParams();
  for (const c of q.getAll('command')) query.append('command', c);
  for (const key of EXEC_PARAMS) { const v = q.get(key); if (v !== null) query.set(key, v); }
  const path = kubeletPath('exec', pod, container, query);
  const socket = u.socket;
  const upstream = connect(kubelet.port, kubelet.host);
  // kubectl may leave while this connects: the kubelet connection goes too, before any command starts.
  const gone = (): void => void upstream.destroy();
  socket.once('close', gone);
  await new Promise<void>((resolve, reject) => {
    upstream.once('connect', resolve);
    upstream.once('error', (err) => reject(new Error(`error dialing backend: ${err.message}`)));
    upstream.once('close', () => reject(new Error('error dialing backend: the client went away')));
  }).finally(() => socket.off('close', gone));
  if (socket.destroyed) return void upstream.destroy(); // gone before its close handler was there
  const headers: string[] = [];
  for (let i = 0; i < u.req.rawHeaders.length; i += 2) {
    if (u.req.rawHeaders[i]!.toLowerCase() !== 'host') headers.push(`${u.req.rawHeaders[i]}: ${u.req.rawHeaders[i + 1]}`);
  }
  upstream.write(`GET ${path} HTTP/1.1\r\nHost: ${kubelet.host}:${kubelet.port}\r\n${headers.join('\r\n')}\r\n\r\n`);
  if (u.head.length > 0) upstream.write(u.head);
  upstream.pipe(socket);
  socket.pipe(upstream);
  upstream.on('error', () => socket.destroy());
  socket.on('error', () => upstream.destroy());
  upstream.on('close', () => socket.destroy());
  socket.on('close', () => upstream.destroy());
}
