import type { Command } from 'commander';
import type { LocalFlags } from '../commands/local.js';
import { parseCount, parsePort, parseSize } from '../options.js';
import { valued } from './option.js';

export function defineLocal(program: Command): void {
  program.command('local')
    .description('run a scheduler and workers on this machine until Ctrl-C')
    .addOption(valued('--workers <N>', 'worker processes', parseCount, 2))
    .addOption(valued('--threads <T>', 'task threads per worker', parseCount, 1))
    .addOption(valued('--memory-limit <SIZE>', 'memory for task results per worker (4GiB, 512MB; 0 for no limit)', parseSize, 0))
    .addOption(valued('--port <P>', 'the scheduler\'s gRPC port', parsePort, 8786))
    .addOption(valued('--dashboard-port <P>', 'port of the web dashboard', parsePort, 8787))
    .option('--gpus', 'one worker per visible GPU (CUDA_VISIBLE_DEVICES, else nvidia-smi -L) instead of --workers, each seeing only its GPU and with resource GPU=1')
    .action(async (flags: LocalFlags) => (await import('../commands/local.js')).localCommand(flags));
}
