// An emulated Kubernetes for operator tests: the kube-sim API server with our CRDs, a process
// kubelet, the real kubectl, and the real `kubedask operator` as a child process (with the DNS
// shim pods get, so it reaches schedulers by their Service names as it would in a cluster).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { startApiServer, type ApiServerOptions, type RunningApiServer } from '../../sim/server/api-server.js';
import { startKubelet, type NodeSpec, type RunningKubelet } from '../../sim/kubelet/kubelet.js';
import { kubeTools, runTool, type RunResult } from '../helpers/kube-tools.js';
import { waitUntil } from '../helpers/wait.js';
import type { DaskCluster } from '../../operator/api/types.js';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const cli = join(repoRoot, 'bin', 'kubedask.js');
const shim = fileURLToPath(new URL('../../sim/kubelet/dns-shim.js', import.meta.url));


export interface OperatorProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code (or signal name) once the process is gone. */
  exited: Promise<number | string | null>;
  stop(signal?: NodeJS.Signals): Promise<number | string | null>;
}

export interface KubeEnv {
  api: RunningApiServer;
  kubelet: RunningKubelet;
  kubeconfig: string;
  dir: string;
  kubectl(...args: string[]): Promise<RunResult>;
  /** kubectl that must succeed; returns stdout. */
  kubectlOk(...args: string[]): Promise<string>;
  apply(yaml: string): Promise<string>;
  get<T = Record<string, unknown>>(resource: string, name: string, namespace?: string): Promise<T | undefined>;
  list<T = Record<string, unknown>>(resource: string, namespace?: string, selector?: string): Promise<T[]>;
  /** The operator as a child process; `dnsShim: false` runs it as a plain process on the host,
   *  where Service names do not resolve (it then reaches schedulers by port-forward). */
  startOperator(args?: string[], o?: { dnsShim?: boolean }): OperatorProcess;
  /** waitUntil that, on timeout, adds what the cluster looks like and the operators' last log lines. */
  waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs?: number): Promise<void>;
  /** host:port of a Service address as a pod would reach it (the ready pod behind the Service). */
  resolve(address: string): Promise<string>;
  close(): Promise<void>;
}

/** Images the kubelet runs besides kubedask's: `node`, for runners that are a node one-liner
 *  (as `kubedask sim --image node=node`). */
const images = { node: ['node'] };

export async function startKubeEnv(o: { nodes?: NodeSpec[]; api?: ApiServerOptions } = {}): Promise<KubeEnv> {
  const tools = kubeTools();
  const dir = mkdtempSync(join(tmpdir(), 'kubedask-operator-'));
  const api = await startApiServer(o.api);
  const kubeconfig = join(dir, 'kubeconfig');
  await api.writeKubeconfig(kubeconfig);
  const kubelet = await startKubelet({
    server: api.url, kubeconfig, logDir: join(dir, 'logs'), images,
    nodes: o.nodes ?? [{ name: 'node-a', cpu: '8', memory: '16Gi' }, { name: 'node-b', cpu: '8', memory: '16Gi' }],
  });
  const operators: OperatorProcess[] = [];

  const run = (args: string[], input?: string): Promise<RunResult> => runTool(tools.kubectl, args, { env: { KUBECONFIG: kubeconfig, HOME: dir }, input });
  const kubectlOk = async (...args: string[]) => {
    const r = await run(args);
    if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
    return r.stdout;
  };
  const env: KubeEnv = {
    api, kubelet, kubeconfig, dir,
    kubectl: (...args) => run(args),
    kubectlOk,
    async apply(yaml) {
      const r = await run(['apply', '-f', '-'], yaml);
      if (r.status !== 0) throw new Error(`kubectl apply failed: ${r.stderr}`);
      return r.stdout;
    },
    async get<T>(resource: string, name: string, namespace = 'default') {
      const r = await run(['get', resource, name, '-n', namespace, '-o', 'json']);
      if (r.status !== 0) {
        if (/NotFound|not found/.test(r.stderr)) return undefined;
        throw new Error(`kubectl get ${resource} ${name}: ${r.stderr}`);
      }
      return JSON.parse(r.stdout) as T;
    },
    async list<T>(resource: string, namespace = 'default', selector?: string) {
      const out = await kubectlOk('get', resource, '-n', namespace, '-o', 'json', ...(selector ? ['-l', selector] : []));
      return (JSON.parse(out) as { items: T[] }).items;
    },
    startOperator(args = [], o = {}) {
      const shimmed = o.dnsShim ?? true;
      // Unshimmed: nothing of the sim's pod network, not even inherited.
      const { NODE_OPTIONS: _options, KUBE_SIM_SERVER: _server, ...plain } = process.env;
      const child = spawn(process.execPath, [cli, 'operator', '--health-port', '0', '--metrics-port', '0', '--host', '127.0.0.1', '--resync', '30', '--log-level', 'debug', ...args], {
        env: shimmed ? { ...process.env, KUBECONFIG: kubeconfig, KUBE_SIM_SERVER: api.url, NODE_OPTIONS: `--import ${shim}` } : { ...plain, KUBECONFIG: kubeconfig },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
      child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
      const exited = new Promise<number | string | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
      const p: OperatorProcess = {
        child, exited,
        output: () => out,
        async stop(signal = 'SIGTERM') {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          return exited;
        },
      };
      operators.push(p);
      return p;
    },
    async waitFor(cond, what, timeoutMs = 60_000) {
      try {
        await waitUntil(cond, what, timeoutMs);
      } catch (err) {
        const pods = await run(['get', 'pods', '-A', '-o', 'wide', '--show-labels']);
        const crs = await run(['get', 'dc,dwg,dj', '-A', '-o', 'yaml']);
        const events = await run(['get', 'events', '-A']);
        const tail = operators.map((p) => p.output().split('\n').filter((l) => !l.includes('"requeue"')).slice(-30).join('\n')).join('\n---\n');
        throw new Error(`${(err as Error).message}\n--- pods\n${pods.stdout}\n--- events\n${events.stdout.split('\n').slice(-30).join('\n')}\n--- resources\n${crs.stdout.slice(-6000)}\n--- operator\n${tail}`, { cause: err });
      }
    },
    async resolve(address) {
      const [host, port] = address.split(':') as [string, string];
      const [svc, ns = 'default'] = host.split('.');
      let ip: string | undefined;
      await waitUntil(async () => {
        const service = await env.get<{ spec: { selector: Record<string, string> } }>('service', svc!, ns);
        if (!service) return false;
        const selector = Object.entries(service.spec.selector).map(([k, v]) => `${k}=${v}`).join(',');
        const pods = await env.list<{ status?: { podIP?: string; conditions?: { type: string; status: string }[] } }>('pods', ns, selector);
        ip = pods.find((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))?.status?.podIP;
        return ip !== undefined;
      }, `a ready pod behind ${host}`);
      return `${ip}:${port}`;
    },
    async close() {
      await Promise.all(operators.map((p) => p.stop('SIGKILL')));
      await kubelet.close();
      await api.close();
    },
  };
  await installCrds(env);
  return env;
}

/** The generated CRDs, applied server-side (they are too big for a last-applied annotation). */
async function installCrds(env: KubeEnv): Promise<void> {
  const crdDir = join(repoRoot, 'crds');
  for (const f of readdirSync(crdDir).filter((n) => n.endsWith('.yaml'))) {
    await env.kubectlOk('apply', '--server-side', '-f', join(crdDir, f));
  }
  for (const f of readdirSync(crdDir).filter((n) => n.endsWith('.yaml'))) {
    const crd = parseAllDocuments(readFileSync(join(crdDir, f), 'utf8'))[0]!.toJSON() as { metadata: { name: string } };
    await env.kubectlOk('wait', '--for=condition=Established', `crd/${crd.metadata.name}`, '--timeout=30s');
  }
}

export const example = (name: string): string => readFileSync(join(repoRoot, 'examples', name), 'utf8');

/** The fields of a pod these tests read. */
export interface PodJson {
  metadata: { name: string; uid: string; annotations?: Record<string, string>; deletionTimestamp?: string };
  status?: { phase?: string };
}

/** A cluster's worker pods, leaving out those already being deleted. */
export async function liveWorkerPods(env: KubeEnv, cluster: string, namespace = 'default'): Promise<PodJson[]> {
  return (await env.list<PodJson>('pods', namespace, `kubedask.io/cluster=${cluster},kubedask.io/component=worker`))
    .filter((p) => !p.metadata.deletionTimestamp);
}

/** The cluster is Ready with exactly `count` ready workers, and its status is for the current spec. */
export async function readyWithWorkers(env: KubeEnv, cluster: string, count: number, namespace = 'default'): Promise<boolean> {
  const c = await env.get<DaskCluster>('daskcluster', cluster, namespace);
  return c?.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True') === true && c.status?.readyWorkers === count
    && c.status.observedGeneration === c.metadata.generation;
}
