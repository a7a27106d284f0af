// The kubedask.io/v1alpha1 resources as the operator reads them: spec and status shapes,
// names and labels. The CRD schemas (operator/api/crds.ts) are the contract the API server
// enforces; these types mirror them, with server-side defaults applied.
import type { IPodTemplateSpec } from 'kubernetes-models/v1/PodTemplateSpec';
import type { IResourceRequirements } from 'kubernetes-models/v1/ResourceRequirements';
import type { IObjectMeta } from '@kubernetes-models/apimachinery/apis/meta/v1/ObjectMeta';

export const GROUP = 'kubedask.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

export type Kind = 'DaskCluster' | 'DaskWorkerGroup' | 'DaskJob' | 'DaskAutoscalingPolicy';
export const PLURAL: Record<Kind, string> = {
  DaskCluster: 'daskclusters',
  DaskWorkerGroup: 'daskworkergroups',
  DaskJob: 'daskjobs',
  DaskAutoscalingPolicy: 'daskautoscalingpolicies',
};

export const PORTS = { grpc: 8786, dashboard: 8787, metrics: 8788 } as const;

/** Server-side defaults the CRD schemas apply (operator/api/crds.ts). */
export const DEFAULT_IMAGE = 'ghcr.io/kubedask/kubedask:0.1.0';
export const DEFAULT_TARGET_DURATION = '30s';
/** Go durations as time.ParseDuration reads them ("30s", "1h30m", "250ms"). */
export const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$';

/** Labels every object the operator makes carries (DESIGN.md). */
export const LABELS = {
  name: 'app.kubernetes.io/name', // always "kubedask"
  instance: 'app.kubernetes.io/instance', // the cluster's name
  component: 'app.kubernetes.io/component', // scheduler | worker | job-runner
  managedBy: 'app.kubernetes.io/managed-by', // always "kubedask-operator"
  cluster: 'kubedask.io/cluster',
  role: 'kubedask.io/component', // scheduler | worker | job-runner
  group: 'kubedask.io/worker-group',
  job: 'kubedask.io/job',
} as const;

export const ANNOTATIONS = {
  /** Hash of the inputs a pod was built from; a pod whose hash differs is outdated. */
  templateHash: 'kubedask.io/template-hash',
  /** On a DaskWorkerGroup: the cluster's replicas last copied into it (kubectl scale sticks until the cluster's value changes). */
  clusterReplicas: 'kubedask.io/cluster-replicas',
  /** On a DaskWorkerGroup: the replicas the operator last wrote. spec.replicas differing from it
   * means someone else (kubectl scale, an HPA, KEDA) scaled the group. */
  operatorReplicas: 'kubedask.io/operator-replicas',
  /** On a DaskWorkerGroup: "external" hands it to kubectl scale, an HPA or KEDA (the built-in
   * autoscaler stands aside); "autoscaler" hands it back. */
  scaledBy: 'kubedask.io/scaled-by',
} as const;

export const FINALIZER = 'kubedask.io/drain-workers';
export const MANAGER = 'kubedask-operator';

export type PodTemplate = IPodTemplateSpec;
export type Resources = IResourceRequirements;
export type ObjectMeta = IObjectMeta;

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export interface SchedulerSpec {
  resources?: Resources;
  /** The scheduler Service: type and annotations (ClusterIP by default). */
  service?: { type?: 'ClusterIP' | 'NodePort' | 'LoadBalancer'; annotations?: Record<string, string> };
  /** Pod template overrides merged over what the operator builds (containers matched by name). */
  template?: PodTemplate;
}

export interface WorkerGroupTemplate {
  name: string;
  /** Desired workers; defaults to minReplicas. */
  replicas?: number;
  minReplicas?: number; // default 0
  maxReplicas?: number; // no default: unbounded (kubectl scale, HPA, KEDA); policies bound the autoscaler
  threads?: number; // default 1
  resources?: Resources;
  /** nvidia.com/gpu per worker; > 0 adds the limit, the toleration and --resources GPU=n. */
  gpus?: number; // default 0
  /** Abstract resources the worker advertises to the scheduler (--resources), e.g. { MEMORY_HEAVY: 1 }. */
  taskResources?: Record<string, number>;
  template?: PodTemplate;
}

export interface AutoscalingSpec {
  enabled?: boolean; // default false
  /** Name of a cluster-scoped DaskAutoscalingPolicy; by default the one covering the namespace. */
  policy?: string;
  /** Finish queued and running work within this duration (Go duration, e.g. "30s"). */
  targetDuration?: string; // default "30s"
}

export interface SecuritySpec {
  /** A Secret with ca.crt, tls.crt and tls.key: mutual TLS between scheduler, workers, clients and the operator. */
  tls?: { secretName: string };
}

export interface DaskClusterSpec {
  image?: string; // default "ghcr.io/kubedask/kubedask:0.1.0"
  /** Workers of the first (default) worker group; when set it wins over workerGroups[0].replicas.
   * The scale subresource writes it: `kubectl scale dc/NAME`, an HPA, KubeCluster.scale(). */
  replicas?: number;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  scheduler?: SchedulerSpec;
  workerGroups?: WorkerGroupTemplate[]; // default [{ name: "default", replicas: 1 }]
  autoscaling?: AutoscalingSpec;
  /** Go duration; delete the cluster after the scheduler has been idle this long. */
  idleTimeout?: string;
  /** True removes every pod and keeps the resource. */
  suspend?: boolean;
  security?: SecuritySpec;
}

export interface GroupStatus {
  name: string;
  desired: number;
  ready: number; // pods Running and Ready whose worker is connected to the scheduler
  pending: number;
  outdated: number;
}

export interface AutoscalingDecision {
  time: string;
  group: string;
  from: number;
  to: number;
  reason: string;
  /** The scheduler's adaptive target for the group. */
  recommended?: number;
  /** The DaskAutoscalingPolicy applied; absent for the built-in defaults. */
  policy?: string;
  inputs?: {
    tasksQueued: number;
    tasksNoWorker: number;
    tasksProcessing: number;
    workSeconds: number;
    workers: number;
    pending: number;
    unschedulable: number;
  };
}

export type ClusterPhase = 'Pending' | 'Starting' | 'Running' | 'Scaling' | 'Updating' | 'Suspended' | 'Failed' | 'Terminating';

export interface DaskClusterStatus {
  phase?: ClusterPhase;
  observedGeneration?: number;
  conditions?: Condition[];
  /** host:port clients connect to (the scheduler Service's DNS name). */
  schedulerAddress?: string;
  /** The dashboard inside the cluster (the scheduler Service, port 8787); reach it from outside with `kubectl port-forward svc/<cluster>-scheduler 8787` or through KubeCluster. */
  dashboardURL?: string;
  /** "ready/desired" workers over all groups, for the printer column. */
  workers?: string;
  readyWorkers?: number;
  desiredWorkers?: number;
  groups?: GroupStatus[];
  /** Live worker pods of the first group (the scale subresource's status.replicas). */
  replicas?: number;
  /** Label selector of the first group's worker pods (the scale subresource's, for an HPA). */
  selector?: string;
  lastAutoscaling?: AutoscalingDecision;
}

export interface DaskCluster {
  apiVersion: typeof API_VERSION;
  kind: 'DaskCluster';
  metadata: ObjectMeta;
  spec: DaskClusterSpec;
  status?: DaskClusterStatus;
}

export interface DaskWorkerGroupSpec extends Omit<WorkerGroupTemplate, 'name'> {
  /** The DaskCluster this group belongs to (same namespace). */
  cluster: string;
  /** The group's name within the cluster (the worker-group label). */
  groupName: string;
  image?: string;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
}

export interface DaskWorkerGroupStatus {
  observedGeneration?: number;
  replicas?: number; // worker pods that exist and are not terminating
  readyReplicas?: number;
  pendingReplicas?: number;
  outdatedReplicas?: number;
  /** Label selector of the group's pods, for the scale subresource (HPA/KEDA). */
  selector?: string;
  conditions?: Condition[];
}

export interface DaskWorkerGroup {
  apiVersion: typeof API_VERSION;
  kind: 'DaskWorkerGroup';
  metadata: ObjectMeta;
  spec: DaskWorkerGroupSpec;
  status?: DaskWorkerGroupStatus;
}

export interface DaskJobSpec {
  /** The cluster made for this job (named <job>-cluster). */
  cluster: DaskClusterSpec;
  /** The runner pod: it gets KUBEDASK_SCHEDULER_ADDRESS and runs the user's client program. */
  runner: { template: PodTemplate };
  backoffLimit?: number; // default 0: runner failures allowed before the job fails
  activeDeadlineSeconds?: number;
  ttlSecondsAfterFinished?: number;
}

export type JobPhase = 'Pending' | 'ClusterStarting' | 'Running' | 'Succeeded' | 'Failed';

export interface DaskJobStatus {
  phase?: JobPhase;
  observedGeneration?: number;
  conditions?: Condition[];
  clusterName?: string;
  runnerPod?: string;
  failures?: number;
  startTime?: string;
  completionTime?: string;
  message?: string;
}

export interface DaskJob {
  apiVersion: typeof API_VERSION;
  kind: 'DaskJob';
  metadata: ObjectMeta;
  spec: DaskJobSpec;
  status?: DaskJobStatus;
}

/** HPA-style behaviour for one direction. */
export interface ScalingRules {
  stabilizationWindowSeconds?: number;
  policies?: { type: 'Pods' | 'Percent'; value: number; periodSeconds: number }[];
  selectPolicy?: 'Max' | 'Min' | 'Disabled';
}

export interface DaskAutoscalingPolicySpec {
  /** Namespaces covered; empty means all. */
  namespaces?: string[];
  namespaceSelector?: { matchLabels?: Record<string, string> };
  limits?: {
    maxWorkersPerCluster?: number;
    maxGpusPerCluster?: number;
    maxWorkersPerNamespace?: number;
    maxGpusPerNamespace?: number;
  };
  behavior?: { scaleUp?: ScalingRules; scaleDown?: ScalingRules };
  idle?: { scaleToZeroAfterSeconds?: number; deleteClusterAfterSeconds?: number };
}

export interface DaskAutoscalingPolicy {
  apiVersion: typeof API_VERSION;
  kind: 'DaskAutoscalingPolicy';
  metadata: ObjectMeta;
  spec: DaskAutoscalingPolicySpec;
}

/** The environment a DaskJob's runner is given (operator/builders/job.ts, tls.ts), which
 *  Client.connect() with no target reads. */
export const SCHEDULER_ADDRESS_ENV = 'KUBEDASK_SCHEDULER_ADDRESS';
export const TLS_ENV = { ca: 'KUBEDASK_TLS_CA', cert: 'KUBEDASK_TLS_CERT', key: 'KUBEDASK_TLS_KEY' } as const;

/** Names DESIGN.md fixes. */
export const names = {
  scheduler: (cluster: string) => `${cluster}-scheduler`,
  workerGroup: (cluster: string, group: string) => `${cluster}-${group}`,
  jobCluster: (job: string) => `${job}-cluster`,
  jobRunner: (job: string, attempt: number) => `${job}-runner-${attempt}`,
  schedulerAddress: (cluster: string, namespace: string) => `${cluster}-scheduler.${namespace}.svc:${PORTS.grpc}`,
  dashboardUrl: (cluster: string, namespace: string) => `http://${cluster}-scheduler.${namespace}.svc:${PORTS.dashboard}`,
};
