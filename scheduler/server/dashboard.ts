// A small HTTP dashboard: an HTML summary, JSON status and Prometheus metrics; and a
// metrics-only listener, for a port that Prometheus may scrape but users need not reach.
import { createServer, type RequestListener, type ServerResponse, type Server } from 'node:http';
import type { Exposition } from '../../protocol/prometheus.js';
import type { SchedulerCore } from './core.js';

/** The Prometheus text of this scheduler (see prometheus.ts). */
export type Scrape = () => Promise<Exposition>;

export function statusOf(core: SchedulerCore) {
  return {
    scheduler: core.id,
    counts: core.state.counts(),
    idleSeconds: core.idleSince === undefined ? 0 : (Date.now() - core.idleSince) / 1000,
    workers: [...core.workers.values()].map((w) => {
      const summary = core.state.workerSummary(w.def.workerId);
      return {
        name: w.def.name, address: w.def.address, nthreads: w.def.nthreads, resources: w.def.resources,
        memoryUsed: w.memoryUsed, memoryLimit: w.def.memoryLimit, processing: summary?.processing ?? 0,
        executing: w.executing, ready: w.ready, holds: summary?.inMemory ?? 0,
      };
    }),
    clients: core.clients.size,
  };
}

function html(core: SchedulerCore): string {
  const s = statusOf(core);
  const rows = s.workers.map((w) => `<tr><td>${esc(w.name)}</td><td>${esc(w.address)}</td><td>${w.nthreads}</td><td>${w.processing}</td><td>${(w.memoryUsed / 2 ** 20).toFixed(1)} MiB</td></tr>`).join('');
  const counts = Object.entries(s.counts).map(([k, v]) => `<li>${esc(k)}: ${v}</li>`).join('');
  return `<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="2"><title>kubedask ${esc(s.scheduler)}</title>
<h1>kubedask scheduler ${esc(s.scheduler)}</h1><ul>${counts}</ul>
<table border="1" cellpadding="4"><tr><th>worker</th><th>address</th><th>threads</th><th>processing</th><th>memory</th></tr>${rows}</table>
<p><a href="/api/status">/api/status</a> · <a href="/metrics">/metrics</a></p>`;
}

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

export function startDashboard(core: SchedulerCore, scrape: Scrape, host: string, port: number): Promise<Server> {
  return listen(host, port, (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      serveMetrics(res, scrape);
    } else if (path === '/api/status') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(statusOf(core)));
    } else if (path === '/' || path === '/status') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html(core));
    } else if (path === '/healthz') {
      res.writeHead(200).end('ok');
    } else {
      res.writeHead(404).end('not found');
    }
  });
}

/** Serves only /metrics (the dashboard's Prometheus text). */
export function startMetricsServer(scrape: Scrape, host: string, port: number): Promise<Server> {
  return listen(host, port, (req, res) => {
    if ((req.url ?? '/').split('?')[0] === '/metrics') {
      serveMetrics(res, scrape);
    } else {
      res.writeHead(404).end('not found');
    }
  });
}

function serveMetrics(res: ServerResponse, scrape: Scrape): void {
  scrape().then(
    ({ contentType, text }) => res.writeHead(200, { 'content-type': contentType }).end(text),
    (err: Error) => res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`metrics failed: ${err.message}\n`),
  );
}

function listen(host: string, port: number, handler: RequestListener): Promise<Server> {
  const server = createServer(handler);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
