import { startScheduler } from '../../scheduler/server/scheduler-server.js';
import { parse, parsePort, parseSeconds, UsageError } from '../options.js';
import { onShutdownSignal } from '../signals.js';

export const schedulerUsage = 'kubedask scheduler [--host H] [--port 8786] [--dashboard-port 8787] [--heartbeat-timeout SECONDS] [--log-level info]';

export async function schedulerCommand(argv: string[]): Promise<void> {
  const v = parse(argv, {
    host: { type: 'string' }, port: { type: 'string' }, 'dashboard-port': { type: 'string' },
    'heartbeat-timeout': { type: 'string' }, 'log-level': { type: 'string' },
  });
  const level = v['log-level'] ?? 'info';
  if (!['silent', 'error', 'warn', 'info'].includes(level)) throw new UsageError(`--log-level must be silent, error, warn or info, got "${level}"`);
  const timeout = parseSeconds(v['heartbeat-timeout'], '--heartbeat-timeout', 30);
  const scheduler = await startScheduler({
    host: v.host ?? '0.0.0.0',
    port: parsePort(v.port, '--port', 8786),
    dashboardPort: parsePort(v['dashboard-port'], '--dashboard-port', 8787),
    heartbeatTimeoutMs: timeout * 1000,
    logLevel: level as 'info',
  });
  process.stdout.write(`scheduler at grpc://${scheduler.address}\ndashboard at ${scheduler.dashboardUrl}\n`);
  onShutdownSignal(() => scheduler.close());
  await scheduler.closed;
}
