// pods/portforward: finds the running pod, negotiates the streaming protocol and hands the
// connection to its framing: WebSocket channels (portforward-websocket.ts) or SPDY streams,
// plain or tunnelled through a WebSocket (portforward-spdy.ts).
import { WebSocketServer } from 'ws';
import { ApiError, badRequest } from './errors.js';
import { forwardOverSpdy } from './portforward-spdy.js';
import { forwardOverChannels } from './portforward-websocket.js';
import type { ForwardTarget } from './pod-connection.js';
import type { KubeObject } from './types.js';
import type { UpgradeRequest } from './upgrade-request.js';
import { WebSocketSender } from './websocket-sender.js';

/** WebSocket subprotocols, as the kubelet names them: binary or base64 channel framing. */
const CHANNEL_PROTOCOLS: Record<string, 'binary' | 'base64'> = {
  'v4.channel.k8s.io': 'binary',
  'channel.k8s.io': 'binary',
  'v4.base64.channel.k8s.io': 'base64',
  'base64.channel.k8s.io': 'base64',
};
/** The SPDY subprotocol a port-forward speaks, on its own or tunnelled through a WebSocket (kubectl 1.31+). */
const SPDY_PROTOCOL = 'portforward.k8s.io';
const SPDY_TUNNEL = `SPDY/3.1+${SPDY_PROTOCOL}`;
const WEBSOCKET_PROTOCOLS = [...Object.keys(CHANNEL_PROTOCOLS), SPDY_TUNNEL];

export function servePortForward(u: UpgradeRequest): void {
  const target = forwardTarget(u.ctx.rest.get(u.pod));
  const upgrade = String(u.req.headers.upgrade ?? '').toLowerCase();
  if (upgrade === 'spdy/3.1') return upgradeToSpdy(u, target);
  if (upgrade !== 'websocket') {
    throw badRequest(`unable to upgrade connection: pods/portforward speaks WebSocket (subprotocols ${WEBSOCKET_PROTOCOLS.join(', ')}) or SPDY/3.1; got Upgrade: ${upgrade || '(none)'}`);
  }
  const offered = String(u.req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim()).filter(Boolean);
  const protocol = offered.length === 0 ? '' : offered.find((p) => WEBSOCKET_PROTOCOLS.includes(p));
  if (protocol === undefined) {
    throw badRequest(`unable to upgrade connection: requested protocol(s) are not supported: [${offered.join(' ')}]; supports [${WEBSOCKET_PROTOCOLS.join(' ')}]`);
  }
  // Channel framing names its ports in the query; SPDY streams name theirs in their headers.
  const ports = protocol === SPDY_TUNNEL ? [] : parsePorts(u.url.searchParams);
  // ws refuses subprotocols that are not RFC 6455 tokens, and "SPDY/3.1+..." has a '/': offer it a
  // token instead, and answer with the real name (ws writes back whatever handleProtocols returns).
  if (protocol) u.req.headers['sec-websocket-protocol'] = 'k8s-portforward';
  const wss = new WebSocketServer({ noServer: true, clientTracking: false, handleProtocols: () => protocol || false });
  wss.handleUpgrade(u.req, u.socket, u.head, (ws) => {
    if (protocol !== SPDY_TUNNEL) return forwardOverChannels(ws, CHANNEL_PROTOCOLS[protocol] ?? 'binary', target, ports);
    const sender = new WebSocketSender(ws);
    const session = forwardOverSpdy({
      write: (b) => sender.send(b), onceDrained: (cb) => sender.onceDrained(cb),
      pause: () => ws.pause(), resume: () => ws.resume(), end: () => ws.close(1000),
    }, target);
    ws.on('message', (data: Buffer) => session.receive(data));
    ws.on('close', () => session.transportClosed());
    ws.on('error', () => ws.terminate());
  });
}

/** The plain SPDY/3.1 upgrade (kubectl's fallback, and clients before 1.31). */
function upgradeToSpdy(u: UpgradeRequest, target: ForwardTarget): void {
  const offered = String(u.req.headers['x-stream-protocol-version'] ?? '').split(',').map((p) => p.trim()).filter(Boolean);
  if (offered.length > 0 && !offered.includes(SPDY_PROTOCOL)) {
    throw new ApiError(403, 'Forbidden', `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server supports [${SPDY_PROTOCOL}]`);
  }
  const socket = u.socket;
  socket.write(['HTTP/1.1 101 Switching Protocols', 'Connection: Upgrade', 'Upgrade: SPDY/3.1',
    ...(offered.length > 0 ? [`X-Stream-Protocol-Version: ${SPDY_PROTOCOL}`] : []), '', ''].join('\r\n'));
  const session = forwardOverSpdy({
    write: (b) => socket.write(b),
    onceDrained: (cb) => (socket.writableNeedDrain ? socket.once('drain', cb) : cb()),
    pause: () => socket.pause(), resume: () => socket.resume(), end: () => socket.end(),
  }, target);
  if (u.head.length > 0) session.receive(u.head);
  socket.on('data', (b: Buffer) => session.receive(b));
  socket.on('close', () => session.transportClosed());
}

function forwardTarget(pod: KubeObject): ForwardTarget {
  const name = pod.metadata.name ?? '';
  const spec = (pod.spec ?? {}) as { nodeName?: string };
  const status = (pod.status ?? {}) as { phase?: string; podIP?: string };
  if (!spec.nodeName) throw badRequest(`pod ${name} does not have a host assigned`);
  if (status.phase !== 'Running' || !status.podIP) throw badRequest(`pod ${name} is not running (phase ${status.phase ?? 'Pending'}), so none of its ports can be forwarded`);
  return { name, uid: String(pod.metadata.uid ?? ''), podIP: status.podIP };
}

/** `ports=8080&ports=9000` or `ports=8080,9000`, as the kubelet reads them. */
function parsePorts(q: URLSearchParams): number[] {
  const values = [...q.getAll('ports'), ...q.getAll('port')];
  if (values.length === 0) throw badRequest('query parameter "ports" is required');
  return values.flatMap((v) => v.split(',')).map(parsePort);
}

function parsePort(text: string): number {
  const port = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(port >= 1 && port <= 65535)) throw badRequest(`unable to parse "${text}" as a port: must be an integer from 1 to 65535`);
  return port;
}
