// Port-forward over SPDY streams, as the kubelet serves kubectl: per forwarded connection the
// client opens an error stream and a data stream with the same `requestid` and a `port` header;
// once both are there, the data stream is joined to a TCP connection to the pod's port. When the
// pod side ends, both streams are finished (FIN), which is what tells kubectl the connection is done.
import type { Socket } from 'node:net';
import { dialPod, forwardError, pausingWriter, type ForwardTarget } from './pod-connection.js';
import { RST_PROTOCOL_ERROR, SpdySession, type SpdyStream, type SpdyTransport } from './spdy-session.js';

interface StreamPair { data?: SpdyStream; error?: SpdyStream }

export function forwardOverSpdy(transport: SpdyTransport, target: ForwardTarget): SpdySession {
  const pairs = new Map<string, StreamPair>();
  const writeToPod = pausingWriter(() => transport.pause(), () => transport.resume());
  const session = new SpdySession(transport, (stream) => {
    const type = stream.headers.streamtype;
    const port = Number(stream.headers.port);
    if ((type !== 'data' && type !== 'error') || !Number.isInteger(port) || port < 1 || port > 65535) return stream.reset(RST_PROTOCOL_ERROR);
    // Clients older than requestid number the error stream N and its data stream N+2.
    const requestId = stream.headers.requestid || String(type === 'error' ? stream.id : stream.id - 2);
    const pair = pairs.get(requestId) ?? {};
    if (pair[type]) return stream.reset(RST_PROTOCOL_ERROR);
    pair[type] = stream;
    pairs.set(requestId, pair);
    stream.reply();
    if (pair.data && pair.error) {
      pairs.delete(requestId);
      join(pair.data, pair.error, target, port, writeToPod);
    }
  });
  return session;
}

/** Joins a stream pair to a new pod connection; each direction waits while its reader is behind. */
function join(data: SpdyStream, error: SpdyStream, target: ForwardTarget, port: number, writeToPod: (s: Socket, chunk: Buffer) => void): void {
  const socket: Socket = dialPod(target, port);
  data.onData = (chunk) => writeToPod(socket, chunk);
  data.onEnd = () => socket.end();
  data.onReset = () => socket.destroy();
  error.onReset = () => socket.destroy();
  socket.on('data', (chunk: Buffer) => {
    if (data.write(chunk)) return;
    socket.pause();
    data.onceDrained(() => socket.resume());
  });
  socket.on('error', (err) => void error.write(Buffer.from(forwardError(target, port, err))));
  socket.on('close', () => {
    data.end();
    error.end();
  });
}
