// The process kubelet: registers nodes, schedules pending pods onto them as a scheduler
// would (capacity, GPUs, taints, nodeSelector), and runs bound pods as local processes.
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PodEventRecorder } from './events.js';
import { gpuLabels } from './gpu-labels.js';
import { startKubeletServer } from './kubelet-server.js';
import { podLogDir, PodRunner } from './pod-runner.js';
import { parseQuantity } from '../../operator/api/quantity.js';
import { addTo, insufficient, podRequests, type Resources } from './quantities.js';
import { Rest, type KubeObject, type WatchEvent } from './rest.js';

export interface NodeSpec {
  name: string;
  cpu?: string;
  memory?: string;
  /** nvidia.com/gpu capacity; a node with GPUs gets the NVIDIA labels too (./gpu-labels.ts). */
  gpus?: number;
  pods?: number;
  labels?: Record<string, string>;
  taints?: { key: string; value?: string; effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute' }[];
}

export interface KubeletOptions {
  /** API server base URL, e.g. http://127.0.0.1:6443 */
  server: string;
  /** Kubeconfig that pod processes get as KUBECONFIG (the operator's way in). */
  kubeconfig: string;
  nodes: NodeSpec[];
  /** Images it can run besides the project's (./images.ts): reference, its tag optional ->
   *  entrypoint argv (`node` and `kubedask` run from this machine). Others fail to pull. */
  images?: Record<string, string[]>;
  /** Where container output goes; by default a folder in tmp that close() removes. */
  logDir?: string;
}

export interface RunningKubelet {
  /** Pods running here, namespace/name -> pod IP. */
  pods(): Record<string, string>;
  close(): Promise<void>;
}

interface PodSpecLike {
  nodeName?: string;
  schedulerName?: string;
  nodeSelector?: Record<string, string>;
  tolerations?: { key?: string; operator?: string; value?: string; effect?: string }[];
  containers?: { resources?: { requests?: Record<string, string>; limits?: Record<string, string> } }[];
  terminationGracePeriodSeconds?: number;
}

const shim = fileURLToPath(new URL('./dns-shim.js', import.meta.url));

export async function startKubelet(options: KubeletOptions): Promise<RunningKubelet> {
  const rest = new Rest(options.server);
  const abort = new AbortController();
  const runners = new Map<string, PodRunner>();
  const pods = new Map<string, KubeObject>();
  const nodes = new Map(options.nodes.map((n) => [n.name, n]));
  const unschedulableReported = new Map<string, string>();
  const ownLogDir = options.logDir === undefined;
  const ctx = {
    rest,
    images: options.images ?? {},
    events: new PodEventRecorder(rest),
    baseEnv: {
      ...inheritedEnv(),
      KUBE_SIM_SERVER: options.server,
      KUBECONFIG: options.kubeconfig,
      NODE_OPTIONS: `--import ${shim}`,
    },
    logDir: options.logDir ?? join(tmpdir(), `kube-sim-logs-${process.pid}`),
    hostIP: '127.0.0.1',
  };

  // Serves pods/log and pods/exec for the API server, which finds it through the Node's status.
  const endpoint = await startKubeletServer((namespace, name) => runners.get(`${namespace}/${name}`), ctx.hostIP);
  for (const n of options.nodes) await registerNode(rest, n, endpoint.port);

  const capacityOf = (n: NodeSpec): Resources => ({
    cpu: parseQuantity(n.cpu ?? '4'), memory: parseQuantity(n.memory ?? '16Gi'), pods: n.pods ?? 110, 'nvidia.com/gpu': n.gpus ?? 0,
  });
  const usedOn = (nodeName: string): Resources => {
    const used: Resources = {};
    for (const p of pods.values()) {
      const spec = p.spec as PodSpecLike;
      const phase = (p.status as { phase?: string } | undefined)?.phase;
      if (spec.nodeName !== nodeName || phase === 'Succeeded' || phase === 'Failed') continue;
      addTo(used, { ...podRequests(spec), pods: 1 });
    }
    return used;
  };

  const schedule = async (pod: KubeObject): Promise<void> => {
    const spec = pod.spec as PodSpecLike;
    if (spec.nodeName || pod.metadata.deletionTimestamp) return;
    if (spec.schedulerName && spec.schedulerName !== 'default-scheduler') return;
    const wanted = { ...podRequests(spec), pods: 1 };
    const reasons = new Map<string, number>();
    for (const node of nodes.values()) {
      const why = unfit(node, spec, capacityOf(node), usedOn(node.name), wanted);
      if (!why) {
        spec.nodeName = node.name; // counts toward usage at once, before the watch catches up
        // A pod deleted meanwhile cannot be bound; it is not counted then.
        if (!(await bind(rest, pod, node.name))) spec.nodeName = undefined;
        return;
      }
      reasons.set(why, (reasons.get(why) ?? 0) + 1);
    }
    const message = `0/${nodes.size} nodes are available: ${[...reasons].map(([why, n]) => `${n} ${why}`).join(', ')}.`;
    const id = key(pod);
    if (unschedulableReported.get(id) === message) return;
    unschedulableReported.set(id, message);
    await rest.mergePatch(`/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}/status`, {
      status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastTransitionTime: new Date().toISOString() }] },
    }).catch(() => undefined);
  };

  const onPod = (e: WatchEvent<KubeObject>): void => {
    const pod = e.object;
    const id = key(pod);
    if (e.type === 'DELETED') {
      pods.delete(id);
      unschedulableReported.delete(id);
      ctx.events.forget(pod);
      const runner = runners.get(id);
      runners.delete(id);
      // Gone from the API: once its processes are, its logs go too (the kubelet's garbage collection).
      void (runner?.stop(gracePeriod(pod)) ?? Promise.resolve())
        .then(() => rm(podLogDir(ctx.logDir, pod), { recursive: true, force: true })).catch(() => undefined);
      void retryPending();
      return;
    }
    pods.set(id, pod);
    const spec = pod.spec as PodSpecLike;
    if (!spec.nodeName) return void schedule(pod);
    if (!nodes.has(spec.nodeName)) return;
    const runner = runners.get(id);
    if (pod.metadata.deletionTimestamp) {
      if (runner) runners.delete(id);
      void (runner?.stop(gracePeriod(pod)) ?? Promise.resolve()).then(() =>
        rest.delete(`/api/v1/namespaces/${pod.metadata.namespace}/pods/${pod.metadata.name}`, { gracePeriodSeconds: 0 }).catch(() => undefined));
      return;
    }
    if (!runner) {
      const ip = podIp(ipsGiven++);
      const r = new PodRunner(pod, ip, ctx);
      runners.set(id, r);
      void r.start().catch(() => undefined);
    }
    const phase = (pod.status as { phase?: string } | undefined)?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') void retryPending();
  };

  let retrying = false;
  const retryPending = async (): Promise<void> => {
    if (retrying) return;
    retrying = true;
    try {
      for (const p of [...pods.values()]) if (!(p.spec as PodSpecLike).nodeName) await schedule(p);
    } finally {
      retrying = false;
    }
  };

  void rest.listWatch<KubeObject>('/api/v1/pods', onPod, abort.signal);

  return {
    pods: () => Object.fromEntries([...runners].map(([id, r]) => [id, r.podIP])),
    async close() {
      abort.abort();
      await Promise.all([...runners.values()].map((r) => r.stop(2)));
      runners.clear();
      await endpoint.close();
      if (ownLogDir) await rm(ctx.logDir, { recursive: true, force: true });
    },
  };
}

function key(pod: KubeObject): string {
  return `${pod.metadata.namespace ?? ''}/${pod.metadata.name}`;
}

function gracePeriod(pod: KubeObject): number {
  return pod.metadata.deletionGracePeriodSeconds ?? (pod.spec as PodSpecLike).terminationGracePeriodSeconds ?? 30;
}

// Each kubelet its own /16 of loopback addresses, from its process id, so that kubelets running
// side by side (test files run in parallel) do not hand out the same address and port.
const SUBNET = 1 + (process.pid % 254);
/** Shared by the kubelets of one process, so they do not clash either. */
let ipsGiven = 0;

/** Each pod its own loopback address, 127.<subnet>.1.1 upward, so ports never clash. */
function podIp(n: number): string {
  return `127.${SUBNET}.${1 + Math.floor(n / 250)}.${1 + (n % 250)}`;
}

function unfit(node: NodeSpec, spec: PodSpecLike, capacity: Resources, used: Resources, wanted: Resources): string | undefined {
  const labels = nodeLabels(node);
  for (const [k, v] of Object.entries(spec.nodeSelector ?? {})) {
    if (labels[k] !== v) return "node(s) didn't match Pod's node affinity/selector";
  }
  for (const taint of node.taints ?? []) {
    if (taint.effect === 'PreferNoSchedule') continue;
    const tolerated = (spec.tolerations ?? []).some((t) =>
      (t.operator === 'Exists' ? (!t.key || t.key === taint.key) : t.key === taint.key && (t.value ?? '') === (taint.value ?? ''))
      && (!t.effect || t.effect === taint.effect));
    if (!tolerated) return `node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`;
  }
  const short = insufficient(capacity, used, wanted);
  return short.length ? `Insufficient ${short.join(', ')}` : undefined;
}

/** Binds through pods/binding, as the scheduler does (a pod's nodeName is otherwise immutable). */
async function bind(rest: Rest, pod: KubeObject, nodeName: string): Promise<boolean> {
  const ns = pod.metadata.namespace;
  return rest.create(`/api/v1/namespaces/${ns}/pods/${pod.metadata.name}/binding`, {
    apiVersion: 'v1', kind: 'Binding', metadata: { name: pod.metadata.name, namespace: ns }, target: { apiVersion: 'v1', kind: 'Node', name: nodeName },
  }).then(() => true, () => false);
}

/** The labels a node registers with and is scheduled by: its own over the kubelet's and GFD's. */
function nodeLabels(n: NodeSpec): Record<string, string> {
  return { 'kubernetes.io/hostname': n.name, 'kubernetes.io/os': 'linux', ...gpuLabels(n.gpus ?? 0), ...(n.labels ?? {}) };
}

async function registerNode(rest: Rest, n: NodeSpec, kubeletPort: number): Promise<void> {
  // The device plugin advertises nvidia.com/gpu only on nodes that have GPUs.
  const capacity = { cpu: n.cpu ?? '4', memory: n.memory ?? '16Gi', pods: String(n.pods ?? 110), ...(n.gpus ? { 'nvidia.com/gpu': String(n.gpus) } : {}) };
  const body = {
    apiVersion: 'v1', kind: 'Node',
    metadata: { name: n.name, labels: nodeLabels(n) },
    spec: { taints: n.taints ?? [] },
  };
  await rest.create('/api/v1/nodes', body).catch(async (err: { status?: number }) => { if (err.status !== 409) throw err; });
  await rest.mergePatch(`/api/v1/nodes/${n.name}/status`, {
    status: {
      capacity, allocatable: capacity,
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: new Date().toISOString(), lastTransitionTime: new Date().toISOString() }],
      addresses: [{ type: 'InternalIP', address: '127.0.0.1' }, { type: 'Hostname', address: n.name }],
      daemonEndpoints: { kubeletEndpoint: { Port: kubeletPort } },
      nodeInfo: {
        kubeletVersion: 'v1.33.0-kube-sim', kubeProxyVersion: 'v1.33.0-kube-sim', operatingSystem: 'linux', architecture: process.arch,
        containerRuntimeVersion: 'process://local', kernelVersion: release(), osImage: 'kube-sim process kubelet',
        machineID: n.name, systemUUID: n.name, bootID: String(process.pid),
      },
    },
  });
}

/** What a pod process inherits from the machine: PATH and friends, not this process's secrets. */
function inheritedEnv(): Record<string, string> {
  const keep = ['PATH', 'HOME', 'LANG', 'TMPDIR', 'TZ'];
  return Object.fromEntries(keep.flatMap((k) => (process.env[k] ? [[k, process.env[k]!]] : [])));
}
