// `kubedask sim`: a Kubernetes API emulator and process kubelet on this machine, for trying
// the operator, kubectl and helm without a cluster.
import { resolve } from 'node:path';
import { startApiServer } from '../../sim/server/api-server.js';
import { startKubelet } from '../../sim/kubelet/kubelet.js';
import { parse, parseCount, parsePort } from '../options.js';
import { onShutdownSignal } from '../signals.js';


export async function simCommand(argv: string[]): Promise<void> {
  const v = parse(argv, {
    port: { type: 'string' }, kubeconfig: { type: 'string' }, nodes: { type: 'string' }, 'gpus-per-node': { type: 'string' },
    'cpu-per-node': { type: 'string' }, 'memory-per-node': { type: 'string' },
  });
  const kubeconfig = resolve(v.kubeconfig ?? 'kube-sim.kubeconfig');
  const nodes = parseCount(v.nodes, '--nodes', 1, 0);
  const gpus = parseCount(v['gpus-per-node'], '--gpus-per-node', 0, 0);
  const api = await startApiServer({ port: parsePort(v.port, '--port', 6443) });
  await api.writeKubeconfig(kubeconfig);
  const kubelet = await startKubelet({
    server: api.url,
    kubeconfig,
    nodes: Array.from({ length: nodes }, (_, i) => ({
      name: `sim-node-${i}`, gpus, cpu: v['cpu-per-node'] ?? '4', memory: v['memory-per-node'] ?? '16Gi',
    })),
  });
  process.stdout.write(`kube-sim API server at ${api.url} with ${nodes} node(s), ${gpus} GPU(s) each\n`
    + `kubeconfig written to ${kubeconfig}\n  export KUBECONFIG=${kubeconfig}\npress Ctrl-C to stop\n`);
  onShutdownSignal(async () => {
    await kubelet.close();
    await api.close();
  });
  await new Promise(() => undefined);
}
