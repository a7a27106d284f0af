import { startScheduler } from '../../scheduler/server/scheduler-server.js';
import { parse, parsePort, parseSeconds, parseTls, tlsFlags, UsageError } from '../options.js';
import { onShutdownSignal } from '../signals.js';


export async function schedulerCommand(argv: string[]): Promise<void> {
  const v = parse(argv, {
    host: { type: 'string' }, port: { type: 'string' }, 'dashboard-port': { type: 'string' },
    'no-dashboard': { type: 'boolean' }, 'metrics-port': { type: 'string' }, 'heartbeat-timeout': { type: 'string' }, 'log-level': { type: 'string' }, ...tlsFlags,
  });
  const level = v['log-level'] ?? 'info';
  if (!['silent', 'error', 'warn', 'info'].includes(level)) throw new UsageError(`--log-level must be silent, error, warn or info, got "${level}"`);
  const timeout = parseSeconds(v['heartbeat-timeout'], '--heartbeat-timeout', 30);
  const scheduler = await startScheduler({
    host: v.host ?? '0.0.0.0',
    port: parsePort(v.port, '--port', 8786),
    dashboardPort: v['no-dashboard'] ? -1 : parsePort(v['dashboard-port'], '--dashboard-port', 8787),
    metricsPort: parsePort(v['metrics-port'], '--metrics-port', -1),
    heartbeatTimeoutMs: timeout * 1000,
    logLevel: level as 'info',
    tls: parseTls(v),
  });
  process.stdout.write(`scheduler at ${v['tls-ca'] ? 'tls' : 'grpc'}://${scheduler.address}\n${scheduler.dashboardUrl ? `dashboard at ${scheduler.dashboardUrl}\n` : ''}${scheduler.metricsUrl ? `metrics at ${scheduler.metricsUrl}\n` : ''}`);
  onShutdownSignal(() => scheduler.close());
  await scheduler.closed;
}
