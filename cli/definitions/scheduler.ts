import type { Command } from 'commander';
import type { SchedulerFlags } from '../commands/scheduler.js';
import { parsePort, parseSeconds } from '../options.js';
import { logLevelOption, tlsOptions, valued } from './option.js';

export function defineScheduler(program: Command): void {
  const command = program.command('scheduler')
    .description('run a scheduler that clients submit to and workers register with')
    .option('--host <H>', 'interface to listen on', '0.0.0.0')
    .addOption(valued('--port <P>', 'gRPC port for clients and workers', parsePort, 8786))
    .addOption(valued('--dashboard-port <P>', 'port of the web dashboard', parsePort, 8787))
    .option('--no-dashboard', 'serve no dashboard')
    .addOption(valued('--metrics-port <P>', 'port of the Prometheus /metrics endpoint', parsePort, -1, 'off'))
    .addOption(valued('--heartbeat-timeout <SECONDS>', 'a worker silent this long is lost', parseSeconds, 30))
    .addOption(logLevelOption());
  for (const option of tlsOptions()) command.addOption(option);
  command.action(async (flags: SchedulerFlags) => (await import('../commands/scheduler.js')).schedulerCommand(flags));
}
