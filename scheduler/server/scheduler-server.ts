// Starts a scheduler: the gRPC services (Scheduler, WorkerStream, Control) on one port and
// the HTTP dashboard on another.
import * as grpc from '@grpc/grpc-js';
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubedaskError } from '../../protocol/errors.js';
import { HealthService, healthHandlers } from '../../protocol/health.js';
import { channelCredentials, serverCredentials, type Tls } from '../../protocol/tls.js';
import { ControlService, SchedulerService, WorkerStreamService, serverOptions } from '../../protocol/services.js';
import { clientServiceHandlers } from './client-service.js';
import { controlHandlers } from './control-service.js';
import { SchedulerCore } from './core.js';
import { startDashboard } from './dashboard.js';
import { startMetricsListener, type MetricsListener } from '../../protocol/metrics-http.js';
import { PeerClients } from '../../protocol/data-client.js';
import { createLogger, type LogLevel } from '../../protocol/log.js';
import { routeGrpcLogs } from '../../protocol/grpc-log.js';
import type { Exposition } from '../../protocol/prometheus.js';
import { MetricsWatches } from './metrics-watch.js';
import { workerStreamHandlers } from './worker-service.js';

export interface SchedulerOptions {
  host: string;
  /** gRPC port; 0 picks a free one. */
  port: number;
  /** Dashboard HTTP port; 0 picks a free one, -1 disables it. */
  dashboardPort: number;
  /** A second HTTP port serving only /metrics (Prometheus); 0 picks a free one, -1 (default) none. */
  metricsPort: number;
  /** A worker silent this long is considered lost. */
  heartbeatTimeoutMs: number;
  workerSaturation: number;
  logLevel: LogLevel;
  /** Mutual TLS for every connection (clients, workers, and the scheduler's calls to workers). */
  tls?: Tls;
}

export const defaultSchedulerOptions: SchedulerOptions = {
  host: '127.0.0.1', port: 8786, dashboardPort: 8787, metricsPort: -1, heartbeatTimeoutMs: 30_000, workerSaturation: 1.5, logLevel: 'warn',
};

const REBALANCE_INTERVAL_MS = 100;
/** The history's series take at most a sample a second (see history/session-history.ts). */
const HISTORY_SAMPLE_MS = 1000;

export interface RunningScheduler {
  /** host:port clients and workers connect to. */
  address: string;
  dashboardUrl: string;
  /** http://host:port/metrics of the metrics-only port, '' when it is off. */
  metricsUrl: string;
  core: SchedulerCore;
  close(): Promise<void>;
  /** Resolves when the scheduler has stopped (close() or a Control.Shutdown call). */
  closed: Promise<void>;
}

export async function startScheduler(overrides: Partial<SchedulerOptions> = {}): Promise<RunningScheduler> {
  const options = { ...defaultSchedulerOptions, ...overrides };
  const log = createLogger({ component: 'scheduler', level: options.logLevel });
  routeGrpcLogs(log);
  const core = new SchedulerCore({ workerSaturation: options.workerSaturation });
  // prom-client loads at the first scrape (see prometheus.ts).
  let scraper: Promise<() => Promise<Exposition>> | undefined;
  const scrape = async () => (await (scraper ??= import('./prometheus.js').then((m) => m.scraper(core))))();
  const peers = new PeerClients({ credentials: channelCredentials(options.tls) });
  const server = new grpc.Server(serverOptions);
  const watches = new MetricsWatches(core);
  let address = '';
  let dashboardUrl = '';
  let closing: Promise<void> | undefined;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));

  server.addService(SchedulerService, clientServiceHandlers(core, peers, log, () => address, () => dashboardUrl) as unknown as grpc.UntypedServiceImplementation);
  server.addService(WorkerStreamService, workerStreamHandlers(core, log) as unknown as grpc.UntypedServiceImplementation);
  server.addService(ControlService, controlHandlers(core, watches, () => void close()) as unknown as grpc.UntypedServiceImplementation);
  server.addService(HealthService, healthHandlers(['kubedask.v1.Scheduler', 'kubedask.v1.Control'], () => closing === undefined));

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${options.host}:${options.port}`, serverCredentials(options.tls), (err, p) =>
      (err ? reject(new KubedaskError(`cannot serve gRPC on ${options.host}:${options.port}: ${err.message}`, { cause: err })) : resolve(p))));
  address = `${options.host}:${port}`;

  let dashboard: HttpServer | undefined;
  let metrics: MetricsListener | undefined;
  const serveHttp = async <T>(what: string, port: number, start: (port: number) => Promise<T>): Promise<T> => {
    try {
      return await start(port);
    } catch (err) {
      server.forceShutdown();
      dashboard?.close();
      throw new KubedaskError(`cannot serve the ${what} on ${options.host}:${port}: ${(err as Error).message}`, { cause: err });
    }
  };
  const urlOf = (http: HttpServer, path: string) => `http://${options.host}:${(http.address() as AddressInfo).port}${path}`;
  if (options.dashboardPort >= 0) {
    dashboard = await serveHttp('dashboard', options.dashboardPort, (p) => startDashboard(core, core.history, scrape, options.host, p));
    dashboardUrl = urlOf(dashboard, '/');
  }
  let metricsUrl = '';
  if (options.metricsPort >= 0) {
    metrics = await serveHttp('metrics', options.metricsPort, (p) => startMetricsListener(scrape, options.host, p));
    metricsUrl = `http://${options.host}:${metrics.port}/metrics`;
  }

  // Workers that stop sending heartbeats (hung, partitioned) are treated as lost.
  const watchdog = setInterval(() => {
    const now = Date.now();
    for (const link of [...core.workers.values()]) {
      if (now - link.lastSeen <= options.heartbeatTimeoutMs) continue;
      log.warn('worker missed heartbeats', { worker: link.def.name, silentMs: now - link.lastSeen });
      core.workers.delete(link.def.workerId);
      core.handle({ type: 'worker-removed', workerId: link.def.workerId, reason: 'missed heartbeats', graceful: false });
      link.end();
    }
  }, Math.min(1000, options.heartbeatTimeoutMs / 2));
  watchdog.unref();

  // Work stealing: tasks sent ahead to busy workers move to idle ones (see state/stealing.ts).
  const rebalancer = setInterval(() => {
    if (core.workers.size > 1) core.handle({ type: 'rebalance' });
  }, REBALANCE_INTERVAL_MS);
  rebalancer.unref();

  core.sampleHistory();
  const sampler = setInterval(() => core.sampleHistory(), HISTORY_SAMPLE_MS);
  sampler.unref();

  function close(): Promise<void> {
    closing ??= (async () => {
      clearInterval(watchdog);
      clearInterval(rebalancer);
      clearInterval(sampler);
      watches.close();
      for (const link of core.workers.values()) link.send({ close: { reason: 'scheduler shutting down' } });
      for (const link of core.workers.values()) link.end();
      for (const client of core.clients.values()) client.end();
      peers.close();
      // Give open calls a moment to finish, then cut whatever is left.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 2000);
        server.tryShutdown(() => { clearTimeout(timer); resolve(); });
      });
      server.forceShutdown();
      if (dashboard) {
        const http = dashboard;
        await new Promise<void>((resolve) => http.close(() => resolve()));
        http.closeAllConnections();
      }
      await metrics?.close();
      resolveClosed();
    })();
    return closing;
  }

  log.info('scheduler started', { address, dashboard: dashboardUrl, metrics: metricsUrl });
  return { address, dashboardUrl, metricsUrl, core, close, closed };
}
