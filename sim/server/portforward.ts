// pods/portforward: finds the running pod, negotiates the streaming protocol and hands the
// connection to its framing (portforward-websocket.ts).
import { WebSocketServer } from 'ws';
import { badRequest } from './errors.js';
import { forwardOverChannels } from './portforward-websocket.js';
import type { ForwardTarget } from './pod-connection.js';
import type { KubeObject } from './types.js';
import type { UpgradeRequest } from './upgrade-request.js';

/** WebSocket subprotocols, as the kubelet names them: binary or base64 channel framing. */
const CHANNEL_PROTOCOLS: Record<string, 'binary' | 'base64'> = {
  'v4.channel.k8s.io': 'binary',
  'channel.k8s.io': 'binary',
  'v4.base64.channel.k8s.io': 'base64',
  'base64.channel.k8s.io': 'base64',
};

export async function servePortForward(u: UpgradeRequest): Promise<void> {
  const target = forwardTarget(u.ctx.rest.get(u.pod));
  const upgrade = String(u.req.headers.upgrade ?? '').toLowerCase();
  if (upgrade !== 'websocket') {
    throw badRequest(`unable to upgrade connection: portforward speaks WebSocket (subprotocols ${Object.keys(CHANNEL_PROTOCOLS).join(', ')}); got Upgrade: ${upgrade || '(none)'}`);
  }
  const offered = String(u.req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim()).filter(Boolean);
  const protocol = offered.length === 0 ? '' : offered.find((p) => p in CHANNEL_PROTOCOLS);
  if (protocol === undefined) {
    throw badRequest(`unable to upgrade connection: requested protocol(s) are not supported: [${offered.join(' ')}]; supports [${Object.keys(CHANNEL_PROTOCOLS).join(' ')}]`);
  }
  const ports = parsePorts(u.url.searchParams);
  const wss = new WebSocketServer({ noServer: true, clientTracking: false, handleProtocols: () => protocol || false });
  wss.handleUpgrade(u.req, u.socket, u.head, (ws) => forwardOverChannels(ws, CHANNEL_PROTOCOLS[protocol] ?? 'binary', target, ports));
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
export function parsePorts(q: URLSearchParams): number[] {
  const values = [...q.getAll('ports'), ...q.getAll('port')];
  if (values.length === 0) throw badRequest('query parameter "ports" is required');
  return values.flatMap((v) => v.split(',')).map(parsePort);
}

export function parsePort(text: string): number {
  const port = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(port >= 1 && port <= 65535)) throw badRequest(`unable to parse "${text}" as a port: must be an integer from 1 to 65535`);
  return port;
}
