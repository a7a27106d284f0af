// An HTTP answer written straight to a socket: how an upgrade request that is refused (by the API
// server or the kubelet) gets a status and a body instead of a connection left hanging.
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

export function writeRawResponse(socket: Duplex, code: number, body: string, contentType: string): void {
  if (socket.destroyed) return;
  socket.end([
    `HTTP/1.1 ${code} ${STATUS_CODES[code] ?? 'Error'}`,
    `Content-Type: ${contentType}`,
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    '', body,
  ].join('\r\n'));
}
