// The kubelet's side of a port-forward, for pods that are local processes on their own loopback
// IP: each forwarded stream is a TCP connection to podIP:port.
import { connect, type Socket } from 'node:net';

/** The running pod a forward reaches, as the error messages name it. */
export interface ForwardTarget {
  name: string;
  uid: string;
  podIP: string;
}

/** Connects to the pod's port; the pod's processes listen on its own loopback IP. */
export function dialPod(target: ForwardTarget, port: number): Socket {
  const socket = connect({ host: target.podIP, port });
  socket.setNoDelay(true);
  return socket;
}

/** The error the kubelet reports on a stream's error channel when the pod's port cannot be reached. */
export function forwardError(target: ForwardTarget, port: number, err: NodeJS.ErrnoException): string {
  const why = err.code === 'ECONNREFUSED' ? 'connect: connection refused' : err.message;
  return `error forwarding port ${port} to pod ${target.name}, uid ${target.uid}: failed to connect to localhost:${port} inside the pod: dial tcp4 ${target.podIP}:${port}: ${why}`;
}
