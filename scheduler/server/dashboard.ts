// A small HTTP dashboard: an HTML summary, JSON status and Prometheus metrics; and a
// metrics-only listener, for a port that Prometheus may scrape but users need not reach.
import { createServer, type RequestListener, type Server } from 'node:http';
import { DEFAULT_TARGET_DURATION_MS } from '../state/adaptive.js';
import type { SchedulerCore } from './core.js';
import { adaptiveMetrics } from './metrics.js';

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

export function prometheusText(core: SchedulerCore): string {
  const c = core.state.counts();
  const lines = [
    '# HELP kubedask_workers Connected workers.', '# TYPE kubedask_workers gauge', `kubedask_workers ${core.workers.size}`,
    '# HELP kubedask_tasks Tasks by state.', '# TYPE kubedask_tasks gauge',
  ];
  const states: [string, number][] = [['waiting', c.waiting], ['queued', c.queued], ['no-worker', c.noWorker],
    ['processing', c.processing], ['memory', c.memory], ['erred', c.erred], ['released', c.released]];
  for (const [state, n] of states) lines.push(`kubedask_tasks{state="${state}"} ${n}`);
  lines.push('# HELP kubedask_memory_bytes Bytes of results held by workers.', '# TYPE kubedask_memory_bytes gauge', `kubedask_memory_bytes ${c.memoryBytes}`);
  lines.push(...groupGauges(core));
  return `${lines.join('\n')}\n`;
}

/** Per worker group: the groups and target duration the operator last watched with, else the
 *  groups of connected workers and a 30 s target (see state/adaptive.ts). */
function groupGauges(core: SchedulerCore): string[] {
  const shape = core.adaptiveShape;
  const a = adaptiveMetrics(core, shape?.targetMs ?? DEFAULT_TARGET_DURATION_MS, shape?.groups ?? []);
  const label = (g: string) => `group="${g.replace(/[\\"\n]/g, (ch) => (ch === '\n' ? '\\n' : `\\${ch}`))}"`;
  const lines = ['# HELP kubedask_scheduler_group_tasks Ready (queued), waiting-for-resource (no_worker) and processing tasks counted toward each worker group.', '# TYPE kubedask_scheduler_group_tasks gauge'];
  for (const g of a.groups) {
    lines.push(`kubedask_scheduler_group_tasks{${label(g.name)},state="queued"} ${g.tasksQueued}`,
      `kubedask_scheduler_group_tasks{${label(g.name)},state="no_worker"} ${g.tasksNoWorker}`,
      `kubedask_scheduler_group_tasks{${label(g.name)},state="processing"} ${g.tasksProcessing}`);
  }
  lines.push('# HELP kubedask_scheduler_group_workers Connected workers of each group, not retiring.', '# TYPE kubedask_scheduler_group_workers gauge');
  for (const g of a.groups) lines.push(`kubedask_scheduler_group_workers{${label(g.name)}} ${g.workers}`);
  lines.push('# HELP kubedask_scheduler_adaptive_target_workers Workers each group needs to finish its work within the target duration and hold its data (scale on this).', '# TYPE kubedask_scheduler_adaptive_target_workers gauge');
  for (const g of a.groups) lines.push(`kubedask_scheduler_adaptive_target_workers{${label(g.name)}} ${g.target}`);
  lines.push('# HELP kubedask_scheduler_tasks_unplaceable Queued or no-worker tasks no connected worker group can run.', '# TYPE kubedask_scheduler_tasks_unplaceable gauge', `kubedask_scheduler_tasks_unplaceable ${a.tasksUnplaceable}`);
  return lines;
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

export function startDashboard(core: SchedulerCore, host: string, port: number): Promise<Server> {
  return listen(host, port, (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(prometheusText(core));
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
export function startMetricsServer(core: SchedulerCore, host: string, port: number): Promise<Server> {
  return listen(host, port, (req, res) => {
    if ((req.url ?? '/').split('?')[0] === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(prometheusText(core));
    } else {
      res.writeHead(404).end('not found');
    }
  });
}

function listen(host: string, port: number, handler: RequestListener): Promise<Server> {
  const server = createServer(handler);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
