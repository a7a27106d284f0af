// The pure half of KubeCluster: the DaskCluster it creates from the user's options, what its
// status says about readiness, and the spec edits scale() and adapt() make. No I/O here.
import { API_VERSION, DURATION_PATTERN, type Condition, type DaskCluster, type DaskClusterSpec, type Resources, type WorkerGroupTemplate } from '../operator/api/types.js';
import { START_FAILURES } from '../operator/reconcile/pod-health.js';
import { KubeClusterError } from './errors.js';

export interface KubeClusterOptions {
  /** The DaskCluster's name (a DNS label, at most 53 characters). */
  name: string;
  /** Default: the kubeconfig context's namespace (in a pod, its own). */
  namespace?: string;
  /** Image of the scheduler and workers (default: the operator's, ghcr.io/kubedask/kubedask). */
  image?: string;
  /** Workers of the default group (default 1). */
  workers?: number;
  /** Task slots per worker (default 1). */
  threads?: number;
  /** Worker container requests and limits, e.g. { requests: { cpu: '1', memory: '2Gi' } }. */
  resources?: Resources;
  /** nvidia.com/gpu per worker. */
  gpus?: number;
  /** Scheduler container requests and limits. */
  schedulerResources?: Resources;
  /** Further DaskCluster spec fields (workerGroups, autoscaling, security, ...); the options above win. */
  spec?: DaskClusterSpec;
  labels?: Record<string, string>;
  /** A kubeconfig file; by default KUBECONFIG, ~/.kube/config, or the pod's service account. */
  kubeconfig?: string;
  /** How long create()/attach() wait for the cluster to be Ready (default 180 s). */
  timeoutMs?: number;
  /**
   * How this process reaches the scheduler: through the Service's DNS name (in a pod), through a
   * port-forward via the API server (outside the cluster), or 'auto' (default): the Service when
   * running in the cluster (the pod's service account config), else a port-forward.
   */
  connection?: 'auto' | 'service' | 'port-forward';
  /**
   * Delete the DaskCluster if this process is interrupted (SIGINT, SIGTERM) or ends without
   * close() (default true, as dask-kubernetes). false keeps it running after the process.
   */
  shutdownOnExit?: boolean;
}

export interface AdaptOptions {
  minimum?: number;
  maximum: number;
  /** Aim to finish queued and running work within this long, a Go duration such as '30s' (the cluster's, 30 s by default). */
  targetDuration?: string;
}

const count = (what: string, n: unknown): number => {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new KubeClusterError(`${what} must be a whole number >= 0, got ${String(n)}`);
  return n;
};

/** The DaskCluster create() makes. */
export function clusterManifest(o: KubeClusterOptions, namespace: string): DaskCluster {
  if (!o.name || !/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(o.name) || o.name.length > 53) {
    throw new KubeClusterError(`KubeCluster name ${JSON.stringify(o.name)} must be a DNS label of at most 53 characters (lower-case letters, digits, '-')`);
  }
  const spec: DaskClusterSpec = structuredClone(o.spec ?? {});
  const [first, ...rest] = spec.workerGroups ?? [{ name: 'default' }];
  const group: WorkerGroupTemplate = { ...first! };
  if (o.workers !== undefined) {
    group.replicas = count('workers', o.workers);
    delete spec.replicas; // it would win over the group's replicas, and the options win here
  } else group.replicas ??= 1;
  if (o.threads !== undefined) {
    if (!Number.isInteger(o.threads) || o.threads < 1) throw new KubeClusterError(`threads must be a whole number >= 1, got ${String(o.threads)}`);
    group.threads = o.threads;
  }
  if (o.resources !== undefined) group.resources = o.resources;
  if (o.gpus !== undefined) group.gpus = count('gpus', o.gpus);
  spec.workerGroups = [group, ...rest];
  if (o.image !== undefined) spec.image = o.image;
  if (o.schedulerResources !== undefined) spec.scheduler = { ...spec.scheduler, resources: o.schedulerResources };
  return { apiVersion: API_VERSION, kind: 'DaskCluster', metadata: { name: o.name, namespace, ...(o.labels ? { labels: o.labels } : {}) }, spec };
}

export type Readiness = { state: 'ready' } | { state: 'waiting' | 'failed'; why: string };

const conditionOf = (c: DaskCluster, type: string): Condition | undefined => c.status?.conditions?.find((x) => x.type === type);

/** The conditions, one a line, for error messages. */
export function describeConditions(c: DaskCluster | undefined): string {
  if (!c) return 'the DaskCluster is gone';
  const lines = (c.status?.conditions ?? []).map((x) => `${x.type}=${x.status} (${x.reason}): ${x.message}`);
  return [`phase ${c.status?.phase ?? '(none yet: is the kubedask operator running?)'}`, ...lines].join('; ');
}

/** Degraded reasons that waiting does not cure. Unschedulable is not one: a node autoscaler may add room. */
const TERMINAL = new Set([...START_FAILURES, 'PodFailed']);

/** Ready once the operator has seen this generation and says Ready; failed once it is Degraded for good. */
export function readiness(c: DaskCluster): Readiness {
  const seen = c.status?.observedGeneration === c.metadata.generation;
  if (seen && conditionOf(c, 'Ready')?.status === 'True') return { state: 'ready' };
  const degraded = conditionOf(c, 'Degraded');
  if (seen && degraded?.status === 'True' && TERMINAL.has(degraded.reason)) return { state: 'failed', why: describeConditions(c) };
  return { state: 'waiting', why: describeConditions(c) };
}

/** The spec adapt() writes: the autoscaler on, the first group between minimum and maximum. */
export function adaptedSpec(spec: DaskClusterSpec, a: AdaptOptions): DaskClusterSpec {
  const minimum = count('adapt minimum', a.minimum ?? 0);
  const maximum = count('adapt maximum', a.maximum);
  if (minimum > maximum) throw new KubeClusterError(`adapt: minimum ${minimum} is more than maximum ${maximum}`);
  if (a.targetDuration !== undefined && !new RegExp(DURATION_PATTERN).test(a.targetDuration)) {
    throw new KubeClusterError(`adapt: targetDuration ${JSON.stringify(a.targetDuration)} is not a duration such as '30s' or '1m30s'`);
  }
  const next = structuredClone(spec);
  const [first, ...rest] = next.workerGroups ?? [{ name: 'default' }];
  const clamp = (n: number) => Math.min(Math.max(n, minimum), maximum);
  const group: WorkerGroupTemplate = { ...first!, minReplicas: minimum, maxReplicas: maximum, replicas: clamp(first!.replicas ?? minimum) };
  next.workerGroups = [group, ...rest];
  if (next.replicas !== undefined) next.replicas = clamp(next.replicas);
  next.autoscaling = { ...next.autoscaling, enabled: true, ...(a.targetDuration !== undefined ? { targetDuration: a.targetDuration } : {}) };
  return next;
}

/**
 * The spec scale() writes, in one edit: `n` workers in the first group through spec.replicas (as
 * the scale subresource writes them), adaptive scaling off (a fixed size is asked for), and the
 * first group's bounds widened to hold n. undefined when the spec says all that already.
 */
export function specForScale(spec: DaskClusterSpec, n: number): DaskClusterSpec | undefined {
  count('scale', n);
  const first = spec.workerGroups?.[0] ?? { name: 'default' };
  const tooLow = first.minReplicas !== undefined && n < first.minReplicas;
  const tooHigh = first.maxReplicas !== undefined && n > first.maxReplicas;
  if (!spec.autoscaling?.enabled && !tooLow && !tooHigh && spec.replicas === n) return undefined;
  const next = structuredClone(spec);
  const group: WorkerGroupTemplate = { ...first };
  if (tooLow) group.minReplicas = n;
  if (tooHigh) group.maxReplicas = n;
  next.workerGroups = [group, ...(spec.workerGroups ?? []).slice(1)];
  next.replicas = n;
  if (next.autoscaling?.enabled) next.autoscaling = { ...next.autoscaling, enabled: false };
  return next;
}
