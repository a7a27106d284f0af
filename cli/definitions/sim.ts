import type { Command } from 'commander';
import type { SimFlags } from '../commands/sim.js';
import { parseCountFromZero, parsePort } from '../options.js';
import { valued } from './option.js';

export function defineSim(program: Command): void {
  program.command('sim')
    .description('run a Kubernetes API emulator and process kubelet on this machine until Ctrl-C')
    .addOption(valued('--port <P>', 'port of the API server (0: any free port)', parsePort, 6443))
    .option('--kubeconfig <PATH>', 'where to write a kubeconfig for kubectl, helm and the operator', 'kube-sim.kubeconfig')
    .addOption(valued('--nodes <N>', 'nodes the kubelet runs pods on', parseCountFromZero, 1))
    .addOption(valued('--gpus-per-node <G>', 'nvidia.com/gpu capacity of each node', parseCountFromZero, 0))
    .option('--cpu-per-node <C>', 'CPU capacity of each node (a quantity)', '4')
    .option('--memory-per-node <M>', 'memory capacity of each node (a quantity)', '16Gi')
    .action(async (flags: SimFlags) => (await import('../commands/sim.js')).simCommand(flags));
}
