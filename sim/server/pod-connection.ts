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

/**
 * A writer from one client connection to its pod connections that pauses the client's input while
 * any pod connection it wrote to is full, and resumes it once every one has drained or closed:
 * a pod that reads slowly slows the client instead of making the sim queue its bytes.
 */
export function pausingWriter(pause: () => void, resume: () => void): (socket: Socket, chunk: Buffer) => void {
  let held = 0;
  return (socket, chunk) => {
    if (socket.destroyed || socket.write(chunk)) return;
    if (held++ === 0) pause();
    const release = (): void => {
      socket.off('drain', release);
      socket.off('close', release);
      if (--held === 0) resume();
    };
    socket.once('drain', release);
    socket.once('close', release);
  };
}
