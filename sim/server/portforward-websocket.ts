// Port-forward over a WebSocket with channel framing (v4.channel.k8s.io and kin), as the kubelet
// serves it: per requested port a data channel (2i) and a write-only error channel (2i+1); each
// channel's first message is the port, 2 bytes little-endian. The socket closes when every
// port's connection has ended, and a closed WebSocket closes every pod connection.
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { dialPod, forwardError, pausingWriter, type ForwardTarget } from './pod-connection.js';
import { WebSocketSender } from './websocket-sender.js';

export function forwardOverChannels(ws: WebSocket, framing: 'binary' | 'base64', target: ForwardTarget, ports: number[]): void {
  const sender = new WebSocketSender(ws);
  /** False when the client is behind: the caller waits for sender.onceDrained. */
  const send = (channel: number, payload: Buffer): boolean => (framing === 'binary'
    ? sender.send(Buffer.concat([Buffer.from([channel]), payload]))
    : sender.send(String.fromCharCode(48 + channel) + payload.toString('base64')));
  let open = ports.length;
  const sockets: Socket[] = ports.map((port, i) => {
    const portBytes = Buffer.alloc(2);
    portBytes.writeUInt16LE(port);
    send(2 * i, portBytes);
    send(2 * i + 1, portBytes);
    const socket = dialPod(target, port);
    socket.on('data', (chunk: Buffer) => {
      if (send(2 * i, chunk)) return;
      socket.pause();
      sender.onceDrained(() => socket.resume());
    });
    socket.on('error', (err) => send(2 * i + 1, Buffer.from(forwardError(target, port, err))));
    socket.on('close', () => {
      if (--open === 0 && ws.readyState === ws.OPEN) ws.close(1000);
    });
    return socket;
  });

  const writeToPod = pausingWriter(() => ws.pause(), () => ws.resume());
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    const frame = isBinary ? data : decodeBase64Frame(data.toString());
    if (frame.length === 0) return;
    const channel = frame[0]!;
    // Only data channels carry input; the kubelet ignores writes to error channels.
    const socket = channel % 2 === 0 ? sockets[channel / 2] : undefined;
    if (!socket || frame.length === 1) return;
    writeToPod(socket, frame.subarray(1));
  });
  ws.on('close', () => { for (const s of sockets) s.destroy(); });
  ws.on('error', () => ws.terminate());
}

function decodeBase64Frame(text: string): Buffer {
  if (text.length === 0) return Buffer.alloc(0);
  return Buffer.concat([Buffer.from([text.charCodeAt(0) - 48]), Buffer.from(text.slice(1), 'base64')]);
}
