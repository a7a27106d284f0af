// A Service's port served on a local TCP port through the API server's pods/portforward, for
// processes outside the pod network (a laptop's KubeCluster, an operator run on the host): what
// `kubectl port-forward svc/NAME` does. Each local connection gets its own tunnel to a ready pod
// behind the Service, looked up when the connection opens, so a replaced pod is found again.
import * as k8s from '@kubernetes/client-node';
import { WebSocketHandler } from '@kubernetes/client-node/dist/web-socket-handler.js';
import net from 'node:net';
import type WebSocket from 'ws';
import { PassThrough, Writable } from 'node:stream';
import type { IPod } from 'kubernetes-models/v1/Pod';
import type { IService } from 'kubernetes-models/v1/Service';
import type { KubeApi, KubeObject } from './kube-api.js';
import { R } from './resources.js';
import { isReady, isTerminating } from '../reconcile/pod-health.js';
import { selectorString } from '../builders/meta.js';

export interface ServicePort {
  namespace: string;
  service: string;
  /** The Service's port (mapped to its targetPort on the pod). */
  port: number;
}

export interface LocalForward {
  /** `127.0.0.1:PORT`: where local clients connect. */
  readonly address: string;
  /** Why the last tunnel failed (no ready pod, pods/portforward denied, API server unreachable), if one did. */
  readonly lastError: Error | undefined;
  /** Stops listening and closes every tunnel; resolves once they are all closed. */
  close(): Promise<void>;
}

/** No ready pod serves the Service (yet): the local connection is closed, a client retries. */
class NoReadyPodError extends Error {
  override name = 'NoReadyPodError';
}

type Pod = IPod & KubeObject;
type Service = IService & KubeObject;

/** The ready pod behind the Service and the pod port its `port` maps to. */
async function podForService(api: KubeApi, s: ServicePort): Promise<{ pod: string; port: number }> {
  const svc = await api.get<Service>(R.services, s.namespace, s.service);
  if (!svc) throw new NoReadyPodError(`Service ${s.namespace}/${s.service} not found`);
  const selector = svc.spec?.selector ?? {};
  if (Object.keys(selector).length === 0) throw new NoReadyPodError(`Service ${s.namespace}/${s.service} selects no pods`);
  const sp = (svc.spec?.ports ?? []).find((p) => p.port === s.port);
  if (!sp) throw new NoReadyPodError(`Service ${s.namespace}/${s.service} has no port ${s.port}`);
  const { items } = await api.list<Pod>(R.pods, { namespace: s.namespace, labelSelector: selectorString(selector) });
  const pod = items.find((p) => isReady(p) && !isTerminating(p));
  if (!pod) throw new NoReadyPodError(`no ready pod behind Service ${s.namespace}/${s.service} (${items.length} selected)`);
  const target = sp.targetPort ?? s.port;
  const port = typeof target === 'number' ? target
    : pod.spec?.containers.flatMap((c) => c.ports ?? []).find((p) => p.name === target)?.containerPort;
  if (port === undefined) throw new NoReadyPodError(`pod ${pod.metadata.name} has no port named ${String(target)}`);
  return { pod: pod.metadata.name!, port };
}

/**
 * Listens on 127.0.0.1 (an ephemeral port unless given) and tunnels each connection to the
 * Service's pod. A connection that cannot be tunnelled is closed at once, and `onError` hears why.
 */
export async function forwardService(kc: k8s.KubeConfig, api: KubeApi, target: ServicePort,
  o: { localPort?: number; onError?: (err: Error) => void } = {}): Promise<LocalForward> {
  // client-node's handler ends the streams it is given when a v5 server closes one; it must not
  // be process.stdout (its default), so it gets streams of its own.
  const streams = { stdin: new PassThrough(), stdout: new PassThrough(), stderr: new PassThrough() };
  const forward = new k8s.PortForward(kc, true, new WebSocketHandler(kc, undefined, streams));
  const sockets = new Set<net.Socket>();
  const tunnels = new Set<WebSocket>();
  const opening = new Set<Promise<void>>();
  let lastError: Error | undefined;
  let closed = false;
  const failed = (err: Error) => {
    lastError = err;
    o.onError?.(err);
  };
  const tunnel = async (socket: net.Socket): Promise<void> => {
    const { pod, port } = await podForService(api, target);
    if (socket.destroyed) return;
    // The API server reports a failed dial to the pod's port on the error stream.
    const errors = new Writable({
      write(chunk: Buffer, _enc, done) {
        if (chunk.length) socket.destroy(new Error(`port-forward to pod ${target.namespace}/${pod}:${port}: ${chunk.toString('utf8').trim()}`));
        done();
      },
    });
    // Without retries (the default) portForward resolves with the open WebSocket itself.
    const sock = await forward.portForward(target.namespace, pod, [port], socket, errors, socket) as WebSocket;
    tunnels.add(sock);
    sock.on('close', () => { tunnels.delete(sock); socket.end(); });
    sock.on('error', (err: Error) => socket.destroy(err));
    socket.on('close', () => sock.close());
    if (socket.destroyed || closed) sock.terminate();
  };
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', failed);
    // Until the tunnel is open the socket is not read (no 'data' listener), so nothing is lost.
    const open = tunnel(socket).catch((err: Error) => {
      failed(err);
      socket.destroy();
    });
    opening.add(open);
    void open.finally(() => opening.delete(open));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.localPort ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    get lastError() { return lastError; },
    async close() {
      closed = true;
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      // Tunnels still opening end themselves (closed is set) before these settle.
      await Promise.all([...opening]);
      const gone = [...tunnels].map((t) => new Promise<void>((resolve) => {
        if (t.readyState === t.CLOSED) resolve(); else { t.once('close', () => resolve()); t.terminate(); }
      }));
      await Promise.all([stopped, ...gone]);
    },
  };
}
