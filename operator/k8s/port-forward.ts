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

export interface ServicePort {
  namespace: string;
  service: string;
  /** The Service's port (mapped to its targetPort on the pod). */
  port: number;
}

export interface LocalForward {
  /** `127.0.0.1:PORT`: where local clients connect. */
  readonly address: string;
  /** Stops listening and closes every tunnel. */
  close(): Promise<void>;
}

/** No ready pod serves the Service (yet): the local connection is closed, a client retries. */
export class NoReadyPodError extends Error {
  override name = 'NoReadyPodError';
}

type Pod = IPod & KubeObject;
type Service = IService & KubeObject;

const isReady = (p: Pod): boolean => !p.metadata.deletionTimestamp && p.status?.phase === 'Running'
  && (p.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

/** The ready pod behind the Service and the pod port its `port` maps to. */
export async function podForService(api: KubeApi, s: ServicePort): Promise<{ pod: string; port: number }> {
  const svc = await api.get<Service>(R.services, s.namespace, s.service);
  if (!svc) throw new NoReadyPodError(`Service ${s.namespace}/${s.service} not found`);
  const selector = svc.spec?.selector ?? {};
  if (Object.keys(selector).length === 0) throw new NoReadyPodError(`Service ${s.namespace}/${s.service} selects no pods`);
  const sp = (svc.spec?.ports ?? []).find((p) => p.port === s.port);
  if (!sp) throw new NoReadyPodError(`Service ${s.namespace}/${s.service} has no port ${s.port}`);
  const labelSelector = Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(',');
  const { items } = await api.list<Pod>(R.pods, { namespace: s.namespace, labelSelector });
  const pod = items.find(isReady);
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
    sock.on('close', () => socket.end());
    sock.on('error', (err: Error) => socket.destroy(err));
    socket.on('close', () => sock.close());
    if (socket.destroyed) sock.close();
  };
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', (err) => o.onError?.(err));
    // Until the tunnel is open the socket is not read (no 'data' listener), so nothing is lost.
    tunnel(socket).catch((err: Error) => {
      o.onError?.(err);
      socket.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.localPort ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}
