// Liveness, readiness and metrics over plain HTTP for the kubelet and Prometheus.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Exposition } from '../../protocol/prometheus.js';

export interface ProbeServerOptions {
  host?: string;
  port: number; // 0 picks a free port
  healthz: () => boolean;
  readyz: () => boolean;
  /** The Prometheus text (see protocol/prometheus.ts). */
  metrics: () => Promise<Exposition>;
}

export interface ProbeServer {
  port: number;
  close(): Promise<void>;
}

export async function startProbeServer(o: ProbeServerOptions): Promise<ProbeServer> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://probe').pathname;
    const reply = (code: number, body: string, type = 'text/plain; charset=utf-8'): void => {
      res.writeHead(code, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, 'method not allowed\n');
    const check = (name: string, fn: () => boolean): void => {
      try {
        if (fn()) return reply(200, 'ok\n');
        reply(503, `${name} check failed\n`);
      } catch (err) {
        reply(503, `${name} check failed: ${(err as Error)?.message ?? String(err)}\n`);
      }
    };
    switch (path) {
      case '/healthz':
      case '/livez':
        return check('healthz', o.healthz);
      case '/readyz':
        return check('readyz', o.readyz);
      case '/metrics':
        return void o.metrics().then(
          ({ contentType, text }) => reply(200, text, contentType),
          (err: unknown) => reply(500, `metrics failed: ${(err as Error)?.message ?? String(err)}\n`),
        );
      default:
        return reply(404, 'not found\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host ?? '0.0.0.0', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
