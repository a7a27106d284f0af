// The autoscaler's pure inputs and outputs. decide.ts turns what was observed (the scheduler's
// adaptive targets, the groups' pods, the policy) into new replicas per group, with reasons;
// runner.ts feeds it from the metrics stream and writes the result. Times are milliseconds.

/** HPA-style rules for one direction, with defaults applied. */
export interface ScalingRules {
  stabilizationWindowSeconds: number;
  policies: { type: 'Pods' | 'Percent'; value: number; periodSeconds: number }[];
  selectPolicy: 'Max' | 'Min' | 'Disabled';
}

/** The DaskAutoscalingPolicy that covers a cluster, defaults applied; built-in defaults when none does. */
export interface ResolvedPolicy {
  /** The DaskAutoscalingPolicy's name; undefined for the built-in defaults. */
  name?: string;
  limits: {
    maxWorkersPerCluster?: number;
    maxGpusPerCluster?: number;
    maxWorkersPerNamespace?: number;
    maxGpusPerNamespace?: number;
  };
  behavior: { scaleUp: ScalingRules; scaleDown: ScalingRules };
  idle: { scaleToZeroAfterSeconds?: number; deleteClusterAfterSeconds?: number };
}

export interface GroupInput {
  /** The group's name within the cluster (spec.groupName). */
  name: string;
  /** spec.replicas of its DaskWorkerGroup now. */
  replicas: number;
  minReplicas: number;
  maxReplicas?: number;
  gpusPerWorker: number;
  /** The scheduler's adaptive target for the group, and how it came about. */
  recommended: number;
  recommendedReason: string;
  /** Worker pods that exist and are not terminating, by state. */
  ready: number;
  pending: number;
  /** Pending pods the Kubernetes scheduler could not place (PodScheduled=False, Unschedulable). */
  unschedulable: number;
  /** Driven by kubectl scale, an HPA or KEDA: the built-in autoscaler leaves it alone. */
  external: boolean;
}

export interface DecideInput {
  now: number;
  groups: GroupInput[];
  /** Seconds the scheduler has had no task at all; 0 while it has any. */
  idleSeconds: number;
  policy: ResolvedPolicy;
  /** Workers and GPUs the other clusters of the namespace ask for (their groups' replicas). */
  namespaceUsage: { workers: number; gpus: number };
  /** Results the scheduler holds for clients: idle deletion waits until they are released. */
  resultsHeld: number;
}

export type LimitedBy = 'minReplicas' | 'maxReplicas' | 'maxWorkersPerCluster' | 'maxGpusPerCluster'
  | 'maxWorkersPerNamespace' | 'maxGpusPerNamespace' | 'stabilizationWindow' | 'scaleUpRate' | 'scaleDownRate'
  | 'unschedulable' | 'scaleUpDisabled' | 'scaleDownDisabled';

export interface GroupDecision {
  name: string;
  from: number;
  to: number;
  /** The scheduler's target before clamps, windows and limits. */
  recommended: number;
  /** One line a person can read: the scheduler's reason and what changed it. */
  reason: string;
  /** What held the result away from the recommendation, if anything. */
  limitedBy: LimitedBy[];
}

export interface Decision {
  groups: GroupDecision[];
  /** Set when the policy's idle deletion applies: why the cluster should be deleted. */
  deleteCluster?: string;
  /** Set when idle deletion is due but results are still held: why it waits. */
  deleteWaiting?: string;
  /** The policy's idle scale-to-zero applies (targets are 0, minReplicas ignored). */
  idleToZero: boolean;
}
