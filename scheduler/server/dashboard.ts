// The scheduler's HTTP dashboard: the web pages (dashboard/static) and uPlot's files, the
// session's history as a snapshot and as pushed deltas, JSON status and Prometheus metrics. (A
// metrics-only port is protocol/metrics-http.ts, as workers serve theirs.)
import { createServer, type RequestListener, type ServerResponse, type Server } from 'node:http';
import { serveMetrics, type Scrape } from '../../protocol/metrics-http.js';
import type { HistorySource } from '../history/types.js';
import { UPLOT_FILES, staticFile, staticNames, uplotFile } from '../../dashboard/assets.js';
import { DashboardEvents, parseDeltaRequest, parseMaxEntries } from './dashboard-events.js';
import type { SchedulerCore } from './core.js';


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

const CONTENT_TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8',
};

const PLAIN = 'text/plain; charset=utf-8';

function sendText(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-cache' }).end(body);
}

function sendFile(res: ServerResponse, name: string, text: string): void {
  sendText(res, 200, CONTENT_TYPES[name.slice(name.lastIndexOf('.') + 1)] ?? 'application/octet-stream', text);
}

/** Serves the dashboard; `history` is the scheduler's record of the session (core.history). */
export function startDashboard(core: SchedulerCore, history: HistorySource, scrape: Scrape, host: string, port: number): Promise<Server> {
  const pages = staticNames();
  const events = new DashboardEvents(history);
  // The scheduler this history is of, asked once (a one-entry snapshot) and then remembered.
  let schedulerId: string | undefined;
  const idOf = () => (schedulerId ??= history.snapshot({ maxEntries: 1 }).scheduler);
  return listen(host, port, (req, res) => {
    const url = new URL(req.url ?? '/', 'http://dashboard');
    const path = url.pathname;
    if (path === '/metrics') {
      serveMetrics(res, scrape);
    } else if (path === '/api/status') {
      sendText(res, 200, 'application/json', JSON.stringify(statusOf(core)));
    } else if (path === '/api/history') {
      const maxEntries = parseMaxEntries(path, url.searchParams);
      if (typeof maxEntries === 'string') sendText(res, 400, PLAIN, `${maxEntries}\n`);
      else sendText(res, 200, 'application/json', JSON.stringify(history.snapshot({ maxEntries })));
    } else if (path === '/api/events') {
      const request = parseDeltaRequest(url.searchParams);
      const scheduler = url.searchParams.get('scheduler');
      if (typeof request === 'string') {
        sendText(res, 400, PLAIN, `${request}\n`);
      } else if (scheduler !== null && scheduler !== idOf()) {
        // A position in another scheduler's history (this one restarted): the page starts over.
        sendText(res, 409, PLAIN, `this is ${idOf()}, not ${scheduler}: load /api/history again\n`);
      } else {
        events.subscribe(req, res, request);
      }
    } else if (path === '/' || path === '/status') {
      sendFile(res, 'index.html', staticFile('index.html'));
    } else if (path.startsWith('/static/') && pages.has(path.slice('/static/'.length))) {
      const name = path.slice('/static/'.length);
      sendFile(res, name, staticFile(name));
    } else if (path.startsWith('/vendor/') && (UPLOT_FILES as readonly string[]).includes(path.slice('/vendor/'.length))) {
      const name = path.slice('/vendor/'.length) as (typeof UPLOT_FILES)[number];
      sendFile(res, name, uplotFile(name));
    } else if (path === '/healthz') {
      res.writeHead(200).end('ok');
    } else {
      res.writeHead(404).end('not found');
    }
  }, () => events.close());
}

/** `onClose` runs when close() is called, before the server waits for its connections. */
function listen(host: string, port: number, handler: RequestListener, onClose?: () => void): Promise<Server> {
  const server = createServer((req, res) => {
    // Whatever one request brings (a request target URL cannot parse, a reply that fails to
    // build), it gets an answer; nothing thrown here may reach the scheduler's process.
    try {
      handler(req, res);
    } catch (err) {
      refuse(res, err);
    }
  });
  if (onClose) {
    // Open event streams would keep close() waiting for ever: end them as it starts.
    const close = server.close.bind(server);
    server.close = (callback?: (err?: Error) => void) => { onClose(); return close(callback); };
  }
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

function refuse(res: ServerResponse, err: unknown): void {
  if (res.headersSent) return void res.destroy();
  const badTarget = (err as { code?: string }).code === 'ERR_INVALID_URL';
  res.writeHead(badTarget ? 400 : 500, { 'content-type': 'text/plain; charset=utf-8' })
    .end(badTarget ? 'bad request target\n' : `dashboard failed: ${(err as Error).message}\n`);
}
