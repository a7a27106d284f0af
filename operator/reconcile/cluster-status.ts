// A DaskCluster's status, computed only from what was observed: Ready means the scheduler
// answered over gRPC and enough workers are registered with it, never merely that pods run.
import { ANNOTATIONS, names, type ClusterPhase, type DaskCluster, type DaskWorkerGroup, type GroupStatus } from '../api/types.js';
import { condition, type ConditionInput } from './conditions.js';
import type { Pod } from './context.js';
import { isFinished, isReady, isTerminating, podProblem, type PodProblem } from './pod-health.js';
import type { SchedulerView } from './observe.js';
import type { AutoscalingState } from '../autoscaler/runner.js';

export interface GroupObservation {
  group: DaskWorkerGroup;
  pods: Pod[];
  templateHash: string;
}

export interface ClusterObservation {
  cluster: DaskCluster;
  scheduler: SchedulerView;
  /** The scheduler Deployment's pod template is not the one the spec asks for yet. */
  schedulerRolling: boolean;
  groups: GroupObservation[];
  /** Group names the spec asks for; one with no DaskWorkerGroup yet has no workers. */
  expectedGroups: string[];
  /** The autoscaler's view, when the cluster is autoscaled and active. */
  autoscaling?: AutoscalingState;
}

export interface ComputedStatus {
  phase: ClusterPhase;
  conditions: ConditionInput[];
  groups: GroupStatus[];
  readyWorkers: number;
  desiredWorkers: number;
  schedulerAddress: string;
  dashboardURL: string;
  idleSeconds: number;
  ready: boolean;
  problem?: PodProblem;
}

export function computeClusterStatus(o: ClusterObservation): ComputedStatus {
  const { cluster, scheduler } = o;
  const gen = cluster.metadata.generation;
  const connected = new Set(scheduler.metrics?.workerMetrics.map((w) => w.name) ?? []);
  const autoscaled = cluster.spec.autoscaling?.enabled === true;
  const groups: GroupStatus[] = [];
  const short: string[] = [];
  const problems: PodProblem[] = scheduler.pods.map(podProblem).filter((p) => p !== undefined);
  for (const g of o.groups) {
    const pods = g.pods.filter((p) => !isTerminating(p) && !isFinished(p));
    const desired = g.group.spec.replicas ?? 0;
    const ready = pods.filter((p) => isReady(p) && connected.has(p.metadata.name!)).length;
    groups.push({
      name: g.group.spec.groupName, desired, ready,
      pending: pods.filter((p) => !isReady(p)).length,
      outdated: pods.filter((p) => p.metadata.annotations?.[ANNOTATIONS.templateHash] !== g.templateHash).length,
    });
    // With autoscaling the floor is minReplicas (none while idle scale-to-zero applies); a
    // fixed-size group is ready at its size.
    const need = autoscaled ? (o.autoscaling?.idleToZero ? 0 : g.group.spec.minReplicas ?? 0) : desired;
    if (ready < need) short.push(`${g.group.spec.groupName} has ${ready}/${need}`);
    problems.push(...pods.map(podProblem).filter((p) => p !== undefined));
  }
  for (const name of o.expectedGroups) {
    if (!o.groups.some((g) => g.group.spec.groupName === name)) short.push(`${name} has no DaskWorkerGroup yet`);
  }
  const readyWorkers = groups.reduce((n, g) => n + g.ready, 0);
  const desiredWorkers = groups.reduce((n, g) => n + g.desired, 0);
  const suspended = cluster.spec.suspend === true;
  const schedulerOk = scheduler.metrics !== undefined;
  const workersOk = short.length === 0;
  const ready = !suspended && schedulerOk && workersOk;
  const problem = problems[0];

  const conditions: ConditionInput[] = [
    schedulerOk
      ? condition('SchedulerReady', true, 'SchedulerAnswering', `the scheduler answers Control at ${scheduler.address}`, gen)
      : condition('SchedulerReady', false, suspended ? 'Suspended' : schedulerProblem(scheduler)?.reason ?? 'SchedulerNotReady',
        suspended ? 'the cluster is suspended' : schedulerProblem(scheduler)?.message ?? scheduler.unreachable ?? 'no scheduler pod yet', gen),
    condition('WorkersReady', workersOk && schedulerOk, workersOk && schedulerOk ? 'WorkersConnected' : 'WaitingForWorkers',
      workersOk ? `${readyWorkers} workers connected to the scheduler` : `workers connected to the scheduler: ${short.join(', ')}`, gen),
    condition('Ready', ready, ready ? 'ClusterReady' : suspended ? 'Suspended' : 'NotReady',
      ready ? `scheduler and ${readyWorkers}/${desiredWorkers} workers ready` : suspended ? 'the cluster is suspended' : 'waiting for the scheduler and the minimum workers', gen),
    problem
      ? condition('Degraded', true, problem.reason, problems.map((p) => p.message).join('; '), gen)
      : condition('Degraded', false, 'Healthy', 'no pod of the cluster is failing to start', gen),
  ];
  if (autoscaled) {
    conditions.push(o.autoscaling ? { ...o.autoscaling.condition, ...(gen !== undefined ? { observedGeneration: gen } : {}) }
      : condition('Autoscaling', false, 'Inactive', suspended ? 'the cluster is suspended' : 'the cluster is being deleted', gen));
  }
  const outdated = groups.some((g) => g.outdated > 0) || o.schedulerRolling;
  const phase: ClusterPhase = cluster.metadata.deletionTimestamp ? 'Terminating'
    : suspended ? 'Suspended'
      : problem && !ready ? 'Failed'
        : scheduler.pods.length === 0 || scheduler.pods.every((p) => p.status?.phase === 'Pending') ? 'Pending'
          : !ready ? 'Starting'
            : outdated ? 'Updating'
              : groups.some((g) => g.ready + g.pending !== g.desired) ? 'Scaling' : 'Running';
  const { name, namespace } = cluster.metadata;
  return {
    phase, conditions, groups, readyWorkers, desiredWorkers, ready,
    schedulerAddress: names.schedulerAddress(name!, namespace!),
    dashboardURL: names.dashboardUrl(name!, namespace!),
    idleSeconds: scheduler.metrics?.idleSeconds ?? 0,
    ...(problem ? { problem } : {}),
  };
}

function schedulerProblem(s: SchedulerView): PodProblem | undefined {
  for (const p of s.pods) {
    const found = podProblem(p);
    if (found) return found;
  }
  return undefined;
}
