import { Option, type Command } from 'commander';
import type { SimFlags } from '../commands/sim.js';
import { addImageMapping } from '../image-flags.js';
import { parseCountFromZero, parsePort } from '../options.js';
import { valued } from './option.js';

export function defineSim(program: Command): void {
  program.command('sim')
    .description('run a Kubernetes API emulator and process kubelet on this machine until Ctrl-C')
    .addOption(valued('--port <P>', 'port of the API server (0: any free port)', parsePort, 6443))
    .option('--kubeconfig <PATH>', 'where to write a kubeconfig for kubectl, helm and the operator', 'kube-sim.kubeconfig')
    .addOption(valued('--nodes <N>', 'nodes the kubelet runs pods on', parseCountFromZero, 1))
    .addOption(valued('--gpus-per-node <G>', 'GPUs of each node (nvidia.com/gpu, NVIDIA node labels)', parseCountFromZero, 0))
    .option('--cpu-per-node <C>', 'CPU capacity of each node (a quantity)', '4')
    .option('--memory-per-node <M>', 'memory capacity of each node (a quantity)', '16Gi')
    .addOption(new Option('--image <NAME=COMMAND>', 'let image NAME run, with local COMMAND as its entrypoint (repeatable); any other image but kubedask fails to pull')
      .argParser((value: string, previous: Record<string, string[]>) => addImageMapping(value, '--image', previous)).default({}, 'none'))
    .action(async (flags: SimFlags) => (await import('../commands/sim.js')).simCommand(flags));
}
