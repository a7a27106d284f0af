// A metrics-only HTTP listener: GET /metrics answers the Prometheus text, anything else 404.
// Only node:http here: the server loads prom-client (through `scrape`) at the first scrape, so
// a process that serves metrics nobody reads pays nothing for them.
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Exposition } from './prometheus.js';

export type Scrape = () => Promise<Exposition>;

export interface MetricsListener {
  port: number;
  close(): Promise<void>;
}

export function startMetricsListener(scrape: Scrape, host: string, port: number): Promise<MetricsListener> {
  const server: Server = createServer((req, res) => {
    if ((req.url ?? '/').split('?')[0] !== '/metrics') {
      res.writeHead(404).end('not found');
      return;
    }
    serveMetrics(res, scrape);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () => new Promise<void>((done) => {
          server.close(() => done());
          server.closeAllConnections();
        }),
      });
    });
  });
}

/** Answers one scrape: the Prometheus text, or 500 saying why it failed. */
export function serveMetrics(res: ServerResponse, scrape: Scrape): void {
  scrape().then(
    ({ contentType, text }) => res.writeHead(200, { 'content-type': contentType }).end(text),
    (err: Error) => res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`metrics failed: ${err.message}\n`),
  );
}
