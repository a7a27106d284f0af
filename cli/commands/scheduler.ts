import { startScheduler, type SchedulerOptions } from '../../scheduler/server/scheduler-server.js';
import type { TlsFlags } from '../definitions/option.js';
import { onShutdownSignal } from '../signals.js';
import { tlsFromFlags } from '../tls-files.js';

/** `kubedask scheduler` options, as ../definitions/scheduler.ts defines them. */
export interface SchedulerFlags extends TlsFlags {
  host: string;
  port: number;
  dashboardPort: number;
  /** False with --no-dashboard. */
  dashboard: boolean;
  /** -1: no metrics endpoint. */
  metricsPort: number;
  heartbeatTimeout: number;
  logLevel: SchedulerOptions['logLevel'];
}

export async function schedulerCommand(flags: SchedulerFlags): Promise<void> {
  const tls = tlsFromFlags(flags);
  const scheduler = await startScheduler({
    host: flags.host,
    port: flags.port,
    dashboardPort: flags.dashboard ? flags.dashboardPort : -1,
    metricsPort: flags.metricsPort,
    heartbeatTimeoutMs: flags.heartbeatTimeout * 1000,
    logLevel: flags.logLevel,
    tls,
  });
  process.stdout.write(`scheduler at ${tls ? 'tls' : 'grpc'}://${scheduler.address}\n${scheduler.dashboardUrl ? `dashboard at ${scheduler.dashboardUrl}\n` : ''}${scheduler.metricsUrl ? `metrics at ${scheduler.metricsUrl}\n` : ''}`);
  onShutdownSignal(() => scheduler.close());
  await scheduler.closed;
}
