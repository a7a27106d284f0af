import { availableParallelism, hostname } from 'node:os';
import type { Command } from 'commander';
import type { WorkerFlags } from '../commands/worker.js';
import { parseCount, parseHostPort, parsePort, parseResources, parseSeconds, parseSize } from '../options.js';
import { DEFAULT_LOG_LINES, MAX_LOG_LINES } from '../../worker/runtime/log-buffer.js';
import { logLevelOption, tlsOptions, valued } from './option.js';

export function defineWorker(program: Command): void {
  const command = program.command('worker')
    .description('run a worker that registers with a scheduler and computes its tasks')
    .addOption(valued('--scheduler <HOST:PORT>', 'the scheduler to register with (required; grpc:// or tls:// prefix allowed)', parseHostPort))
    .addOption(valued('--nthreads <T>', 'tasks run at once', parseCount, availableParallelism(), 'the number of CPUs'))
    .addOption(valued('--memory-limit <SIZE>', 'memory for task results (4GiB, 512MB; 0 for no limit)', parseSize, 0))
    .addOption(valued('--resources <LIST>', 'abstract resources tasks may ask for, as GPU=1,MEMORY=2', parseResources, {}, 'none'))
    .addOption(valued('--name <NAME>', 'the worker\'s name at the scheduler', String, `${hostname()}-${process.pid}`, 'HOSTNAME-PID'))
    .addOption(valued('--group <G>', 'the worker group it belongs to (the operator sets it)', String, '', 'none'))
    .option('--host <H>', 'interface the data port binds to', '127.0.0.1')
    .option('--advertise-host <H>', 'host peers reach the data port at, when bound to 0.0.0.0 (default: $POD_IP, else the first external IPv4 address)')
    .addOption(valued('--port <P>', 'data port for peers (0: any free port)', parsePort, 0))
    .addOption(valued('--metrics-port <P>', 'port of the Prometheus /metrics endpoint, on --host (0: any free port)', parsePort, -1, 'off'))
    .addOption(valued('--connect-timeout <SECONDS>', 'give up when the scheduler is unreachable this long', parseSeconds, 30))
    .addOption(valued('--log-lines <N>', `recent log lines kept for client.getWorkerLogs() (0: none; at most ${MAX_LOG_LINES})`, (v, flag) => parseCount(v, flag, 0, MAX_LOG_LINES), DEFAULT_LOG_LINES))
    .option('--exit-with-parent', 'exit when the parent process goes (how LocalCluster starts workers)')
    .addOption(logLevelOption());
  for (const option of tlsOptions()) command.addOption(option);
  // Checked after parsing rather than with makeOptionMandatory(), which commander checks before
  // unknown options: `worker --nthread 2` should name the misspelt flag first.
  command.hook('preAction', () => {
    if (command.getOptionValue('scheduler') === undefined) command.error('required option \'--scheduler <HOST:PORT>\' not specified');
  });
  command.action(async (flags: WorkerFlags) => (await import('../commands/worker.js')).workerCommand(flags));
}
