// `kubedask sim`: a Kubernetes API emulator and process kubelet on this machine, for trying
// the operator, kubectl and helm without a cluster.
import { resolve } from 'node:path';
import { routeGrpcLogsByEnv } from '../../protocol/grpc-log.js';
import { startApiServer } from '../../sim/server/api-server.js';
import { parseImageRef } from '../../sim/kubelet/images.js';
import { startKubelet } from '../../sim/kubelet/kubelet.js';
import { UsageError } from '../errors.js';
import { parsePositiveQuantity } from '../quantity-flags.js';
import { onShutdownSignal } from '../signals.js';

/** `kubedask sim` options, as ../definitions/sim.ts defines them. */
export interface SimFlags {
  port: number;
  kubeconfig: string;
  nodes: number;
  gpusPerNode: number;
  cpuPerNode: string;
  memoryPerNode: string;
  /** --image NAME=COMMAND: image -> entrypoint argv. */
  image: Record<string, string[]>;
}

export async function simCommand(flags: SimFlags): Promise<void> {
  routeGrpcLogsByEnv('sim'); // its kubelet's gRPC health probes
  const cpu = parsePositiveQuantity(flags.cpuPerNode, '--cpu-per-node');
  const memory = parsePositiveQuantity(flags.memoryPerNode, '--memory-per-node');
  for (const name of Object.keys(flags.image)) {
    if (!parseImageRef(name)) throw new UsageError(`--image ${name}=...: "${name}" is not an image reference (lowercase [registry/]path[:tag])`);
  }
  const kubeconfig = resolve(flags.kubeconfig);
  const api = await startApiServer({ port: flags.port });
  await api.writeKubeconfig(kubeconfig);
  const kubelet = await startKubelet({
    server: api.url,
    kubeconfig,
    images: flags.image,
    nodes: Array.from({ length: flags.nodes }, (_, i) => ({
      name: `sim-node-${i}`, gpus: flags.gpusPerNode, cpu, memory,
    })),
  });
  const mapped = Object.entries(flags.image).map(([name, argv]) => `${name} runs ${argv.join(' ')}`);
  process.stdout.write(`kube-sim API server at ${api.url} with ${flags.nodes} node(s), ${flags.gpusPerNode} GPU(s) each\n`
    + `images: kubedask runs this checkout${mapped.map((m) => `, ${m}`).join('')}; others fail to pull\n`
    + `kubeconfig written to ${kubeconfig}\n  export KUBECONFIG=${kubeconfig}\npress Ctrl-C to stop\n`);
  onShutdownSignal(async () => {
    await kubelet.close();
    await api.close();
  });
  await new Promise(() => undefined);
}
