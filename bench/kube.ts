// What the Kubernetes benchmarks share: kube-sim in its own process (so the API server's work is
// not counted as the operator's), our CRDs installed on it, the real operator process, and a
// wait on a condition with a deadline.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crds } from '../operator/api/crds.js';
import type { KubeApi, KubeObject } from '../operator/k8s/kube-api.js';
import type { ResourceType } from '../operator/k8s/resources.js';

export const cli = fileURLToPath(new URL('../../bin/kubedask.js', import.meta.url));
/** Resolves Service names as a pod would: the operator needs it to reach schedulers on kube-sim. */
export const shim = fileURLToPath(new URL('../sim/kubelet/dns-shim.js', import.meta.url));
const CRD: ResourceType = { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', kind: 'CustomResourceDefinition', namespaced: false };

export interface Sim { url: string; kubeconfig: string; child: ChildProcess }

/** `kubedask sim` with `nodes` process-kubelet nodes (0: an API server only). */
export async function startSim(nodes: number, node: { cpu: string; memory: string } = { cpu: '64', memory: '256Gi' }): Promise<Sim> {
  const kubeconfig = join(mkdtempSync(join(tmpdir(), 'kubedask-bench-kube-')), 'kubeconfig');
  const child = spawn(process.execPath, [cli, 'sim', '--port', '0', '--nodes', String(nodes), '--kubeconfig', kubeconfig, '--cpu-per-node', node.cpu, '--memory-per-node', node.memory],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /API server at (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`kubedask sim exited with ${code}`)));
  });
  return { url, kubeconfig, child };
}

/** The `kubedask operator` process against the sim; its stdout is kept for its log lines. */
export function startOperatorProcess(sim: Sim, logLevel = 'warn'): { child: ChildProcess; output: () => string; stop: () => Promise<void> } {
  const child = spawn(process.execPath, [cli, 'operator', '--health-port', '0', '--metrics-port', '0', '--host', '127.0.0.1', '--log-level', logLevel], {
    env: { ...process.env, KUBECONFIG: sim.kubeconfig, KUBE_SIM_SERVER: sim.url, NODE_OPTIONS: `--import ${shim}` }, stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

export async function installCrds(api: KubeApi): Promise<void> {
  for (const crd of crds() as KubeObject[]) await api.create(CRD, undefined, crd);
  await until(async () => {
    const all = await Promise.all((crds() as KubeObject[]).map((c) => api.get<KubeObject & { status?: { conditions?: { type: string; status: string }[] } }>(CRD, undefined, c.metadata.name!)));
    return all.every((c) => c?.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True'));
  }, 'CRDs established', 30_000);
}

export async function until(cond: () => Promise<boolean>, what: string, timeoutMs: number, everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
