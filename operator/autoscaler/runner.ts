// The autoscaler's I/O edge. Each autoscaled cluster gets one Control.WatchMetrics stream; every
// update the scheduler pushes (at once when its queue changes, else each second) runs one pass:
// observe the groups, decide (pure, decide.ts), then write the new replicas to the groups. The
// group reconciler does the rest: it creates pods, or retires workers through the scheduler and
// deletes exactly those pods. The cluster reconciler writes what was decided into the status.
import { ANNOTATIONS, LABELS, type AutoscalingDecision, type DaskCluster, type DaskWorkerGroup } from '../api/types.js';
import type { MetricsUpdate, MetricsWatch, ScalingDecisionReport } from '../control/scheduler-control.js';
import { isConflict, isInvalid, isNotFound, type KubeObject } from '../k8s/kube-api.js';
import { R } from '../k8s/resources.js';
import { withClusterDefaults } from '../builders/index.js';
import type { Tls } from '../../protocol/tls.js';
import type { Counter, Gauge } from '../runtime/metrics.js';
import { condition, type ConditionInput } from '../reconcile/conditions.js';
import { key, type ReconcileContext } from '../reconcile/context.js';
import { parseDuration } from '../reconcile/duration.js';
import { groupPods } from '../reconcile/observe.js';
import { isTerminating } from '../reconcile/pod-health.js';
import { decide, decisionCause } from './decide.js';
import { ScalingHistory } from './history.js';
import { groupDriver, groupInput, namespaceUsage, watchRequest } from './inputs.js';
import { resolvePolicy } from './policy.js';
import type { Decision, GroupDecision, ResolvedPolicy } from './types.js';

/** What the cluster's status shows of the autoscaler. */
export interface AutoscalingState {
  condition: ConditionInput;
  last?: AutoscalingDecision;
  /** The policy's idle scale-to-zero applies: zero workers is the expected size. */
  idleToZero: boolean;
}

export interface AutoscalerMetrics {
  decisions: Counter;
  recommended: Gauge;
  desired: Gauge;
  updates: Counter;
  reports: Counter;
}

interface Entry {
  namespace: string;
  name: string;
  uid: string;
  requestKey: string;
  address: string;
  tls: Tls | undefined;
  watch?: MetricsWatch;
  retry?: NodeJS.Timeout;
  failures: number;
  history: ScalingHistory;
  latest?: MetricsUpdate;
  running: boolean;
  again: boolean;
  stopped: boolean;
  state: AutoscalingState;
  /** The scheduler's retirement order per group, from the latest update. */
  removeFirst: Map<string, string[]>;
  statusKey: string;
  statusTimer?: NodeJS.Timeout;
  lastStatusAt: number;
  /** Groups with gauge series, dropped when the cluster is. */
  gauged: Set<string>;
}

const NAMESPACE_LABELS_TTL_MS = 60_000;
const STATUS_EVERY_MS = 1_000;

export class Autoscaler {
  private readonly entries = new Map<string, Entry>();
  private readonly nsLabels = new Map<string, { at: number; labels: Record<string, string> | undefined }>();

  constructor(private readonly ctx: ReconcileContext, private readonly m: AutoscalerMetrics) {}

  /**
   * Called by every reconcile of a cluster: opens, reopens or closes its metrics stream, and
   * says what the status should show (undefined when the cluster is not autoscaled).
   */
  sync(cluster: DaskCluster, address: string, schedulerAnswering: boolean, tls: Tls | undefined): AutoscalingState | undefined {
    const k = key(cluster.metadata.namespace!, cluster.metadata.name!);
    const wanted = cluster.spec.autoscaling?.enabled === true && !cluster.spec.suspend && !cluster.metadata.deletionTimestamp;
    let e = this.entries.get(k);
    if (e && (!wanted || e.uid !== cluster.metadata.uid)) { this.stop(e); e = undefined; }
    if (!wanted) return undefined;
    const gen = cluster.metadata.generation;
    const request = watchRequest(cluster, parseDuration(cluster.spec.autoscaling?.targetDuration ?? '30s', 'spec.autoscaling.targetDuration') / 1000);
    const requestKey = JSON.stringify([request, address, Boolean(tls)]);
    if (!e) {
      e = {
        namespace: cluster.metadata.namespace!, name: cluster.metadata.name!, uid: cluster.metadata.uid!, requestKey, address, tls,
        failures: 0, history: new ScalingHistory(), running: false, again: false, stopped: false, removeFirst: new Map(),
        state: { condition: condition('Autoscaling', false, 'WaitingForScheduler', 'waiting for the scheduler to answer', gen), idleToZero: false },
        statusKey: '', lastStatusAt: 0, gauged: new Set(),
      };
      this.entries.set(k, e);
    }
    if (e.requestKey !== requestKey) { // groups or target duration changed: ask again
      e.watch?.close();
      e.watch = undefined;
      Object.assign(e, { requestKey, address, tls });
    }
    if (!e.watch && !e.retry && schedulerAnswering) this.open(e, request);
    return e.state;
  }

  /** The scheduler's order for retiring a group's workers, best first, if it has given one. */
  removalOrder(namespace: string, cluster: string, group: string): string[] | undefined {
    return this.entries.get(key(namespace, cluster))?.removeFirst.get(group);
  }

  forget(namespace: string, name: string): void {
    const e = this.entries.get(key(namespace, name));
    if (e) this.stop(e);
  }

  close(): void {
    for (const e of [...this.entries.values()]) this.stop(e);
  }

  private stop(e: Entry): void {
    e.stopped = true;
    e.watch?.close();
    clearTimeout(e.retry);
    clearTimeout(e.statusTimer);
    for (const group of e.gauged) {
      this.m.recommended.remove({ cluster: key(e.namespace, e.name), group });
      this.m.desired.remove({ cluster: key(e.namespace, e.name), group });
    }
    if (this.entries.get(key(e.namespace, e.name)) === e) this.entries.delete(key(e.namespace, e.name));
  }

  private open(e: Entry, request: ReturnType<typeof watchRequest>): void {
    const watch = this.ctx.control.watch(e.address, request, {
      update: (u) => {
        if (e.watch !== watch) return;
        e.failures = 0;
        e.latest = u;
        this.m.updates.inc({ cluster: key(e.namespace, e.name) });
        void this.pass(e);
      },
      end: (err) => {
        if (e.watch !== watch) return;
        e.watch = undefined;
        if (e.stopped) return;
        e.failures++;
        const delay = Math.min(10_000, 250 * 2 ** Math.min(e.failures, 6));
        this.setState(e, { ...e.state, condition: condition('Autoscaling', false, 'MetricsUnavailable',
          `the scheduler's metrics stream ended${err ? `: ${err.message}` : ''}; reconnecting`, e.state.condition.observedGeneration) });
        e.retry = setTimeout(() => {
          e.retry = undefined;
          if (!e.stopped && !e.watch) this.open(e, request);
        }, delay);
        e.retry.unref?.();
      },
    }, e.tls);
    e.watch = watch;
  }

  // One pass at a time per cluster; an update that arrives meanwhile runs one more pass after.
  private async pass(e: Entry): Promise<void> {
    if (e.running) { e.again = true; return; }
    e.running = true;
    try {
      do {
        e.again = false;
        await this.decideAndApply(e);
      } while (e.again && !e.stopped);
    } catch (err) {
      // Logged once per distinct failure: a lasting one would otherwise log every second.
      if (e.state.condition.reason !== 'ScaleFailed' || e.state.condition.message !== (err as Error).message) {
        this.ctx.log.warn('autoscaler pass failed; the next metrics update retries', { cluster: key(e.namespace, e.name), error: err });
      }
      this.setState(e, { ...e.state, condition: condition('Autoscaling', false, 'ScaleFailed', (err as Error).message, e.state.condition.observedGeneration) });
    } finally {
      e.running = false;
    }
  }

  private async decideAndApply(e: Entry): Promise<void> {
    const { ctx } = this;
    const cluster = ctx.caches.clusters.get(e.namespace, e.name);
    const u = e.latest;
    if (!cluster || cluster.metadata.uid !== e.uid || !u) return;
    const gen = cluster.metadata.generation;
    const resolved = resolvePolicy(ctx.caches.policies.list(), e.namespace, await this.namespaceLabels(e.namespace), cluster.spec.autoscaling?.policy);
    if ('error' in resolved) {
      this.setState(e, { ...e.state, condition: condition('Autoscaling', false, 'PolicyNotFound', `${resolved.error}; groups keep their replicas`, gen) });
      return;
    }
    const policy = resolved.policy;
    e.removeFirst = new Map(u.groups.map((g) => [g.name, g.removeFirst]));

    // The cluster's own groups still in its spec (a removed one is being drained to zero).
    const specOrder = (withClusterDefaults(cluster.spec).workerGroups ?? []).map((g) => g.name);
    const inSpec = new Set(specOrder);
    const groups = ctx.caches.groups.list({ namespace: e.namespace, labels: { [LABELS.cluster]: e.name } })
      .filter((g) => !isTerminating(g) && inSpec.has(g.spec.groupName) && g.metadata.ownerReferences?.some((o) => o.uid === e.uid))
      // In spec order: the policy's limits grant increases to earlier groups first.
      .sort((a, b) => specOrder.indexOf(a.spec.groupName) - specOrder.indexOf(b.spec.groupName));
    const external = new Set<string>();
    for (const g of groups) {
      const driver = groupDriver(g);
      if (driver === 'newly-external') await this.markExternal(cluster, g);
      if (driver === 'external' || driver === 'newly-external') external.add(g.spec.groupName);
    }
    const inputs = groups.map((g) => groupInput(g, groupPods(ctx, g), u.groups.find((m) => m.name === g.spec.groupName), external.has(g.spec.groupName)));
    const decision = decide({
      now: ctx.now(), groups: inputs, idleSeconds: u.cluster.idleSeconds, policy,
      namespaceUsage: namespaceUsage(ctx.caches.groups.list({ namespace: e.namespace }), e.name),
      resultsHeld: u.cluster.tasksInMemory,
    }, e.history);

    let last = e.state.last;
    for (const d of decision.groups) {
      const group = groups.find((g) => g.spec.groupName === d.name)!;
      const ck = key(e.namespace, e.name);
      this.m.recommended.set({ cluster: ck, group: d.name }, d.recommended);
      this.m.desired.set({ cluster: ck, group: d.name }, d.to);
      e.gauged.add(d.name);
      const handBack = groupDriver(group) === 'handed-back';
      if (external.has(d.name) || (d.to === d.from && !handBack)) continue;
      if (!(await this.scale(group, d.to))) continue; // the next update (within a second) looks again
      if (handBack) ctx.events.record(cluster, 'Normal', 'AutoscalerResumed', `group ${d.name} handed back to the autoscaler at ${d.from} workers`);
      if (d.to === d.from) continue;
      e.history.applied(d.name, ctx.now(), d.from, d.to);
      this.m.decisions.inc({ cluster: ck, group: d.name, direction: d.to > d.from ? 'up' : 'down', reason: decisionCause(d, decision.idleToZero) });
      this.reportDecision(e, { group: d.name, from: d.from, to: d.to, reason: d.reason, timeMs: ctx.now() });
      ctx.events.record(cluster, 'Normal', d.to > d.from ? 'ScaledUp' : 'ScaledDown', `group ${d.name}: ${d.from} -> ${d.to} workers: ${d.reason}`);
      ctx.log.info('autoscaled', { cluster: ck, group: d.name, from: d.from, to: d.to, recommended: d.recommended, reason: d.reason });
      last = decisionRecord(ctx.now(), d, policy, u, inputs.find((i) => i.name === d.name)!);
    }
    // A DaskJob's cluster goes when its job ends, not by idle policy.
    const ownedByJob = cluster.metadata.ownerReferences?.some((o) => o.kind === 'DaskJob') === true;
    if (decision.deleteCluster && !ownedByJob) {
      ctx.events.record(cluster, 'Normal', 'IdleDelete', `deleting the cluster: ${decision.deleteCluster}`);
      try { await ctx.api.delete(R.daskClusters, e.namespace, e.name); } catch (err) { if (!isNotFound(err)) throw err; }
      this.stop(e);
      return;
    }
    this.setState(e, { condition: autoscalingCondition(decision, policy, external, gen), idleToZero: decision.idleToZero, ...(last ? { last } : {}) });
  }

  // Best-effort, not awaited: the scheduler keeps the decision for its dashboard's timeline, and
  // a scheduler that is slow, gone or older than RecordDecision neither delays nor fails scaling.
  private reportDecision(e: Entry, d: ScalingDecisionReport): void {
    let sent: Promise<boolean>;
    try {
      sent = this.ctx.control.recordDecision(e.address, d, e.tls);
    } catch (err) {
      sent = Promise.reject(err);
    }
    sent.then(
      () => this.m.reports.inc({ outcome: 'recorded' }),
      (err: Error) => {
        this.m.reports.inc({ outcome: 'failed' });
        this.ctx.log.debug('the scheduler did not take the scaling decision', { cluster: key(e.namespace, e.name), group: d.group, error: err });
      },
    );
  }

  // Against the version read, so a concurrent kubectl scale is never overwritten; false when it
  // lost. A rejection by the API server is a ScaleFailed condition naming the server's reason.
  private async scale(group: DaskWorkerGroup, to: number): Promise<boolean> {
    try {
      // A resourceVersion in a merge patch is a precondition: 409 when the group changed.
      await this.ctx.api.patch(R.daskWorkerGroups, group.metadata.namespace, group.metadata.name!, {
        metadata: { resourceVersion: group.metadata.resourceVersion, annotations: { [ANNOTATIONS.operatorReplicas]: String(to), [ANNOTATIONS.scaledBy]: null } },
        spec: { replicas: to },
      }, { type: 'merge' });
      return true;
    } catch (err) {
      if (isConflict(err) || isNotFound(err)) return false; // changed meanwhile
      if (isInvalid(err)) throw new Error(`scaling group ${group.spec.groupName} to ${to} was rejected: ${(err as Error).message}`);
      throw err;
    }
  }

  private async markExternal(cluster: DaskCluster, g: DaskWorkerGroup): Promise<void> {
    try {
      await this.ctx.api.patch(R.daskWorkerGroups, g.metadata.namespace, g.metadata.name!,
        { metadata: { annotations: { [ANNOTATIONS.scaledBy]: 'external' } } }, { type: 'merge' });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    this.ctx.events.record(cluster, 'Normal', 'ExternallyScaled',
      `group ${g.spec.groupName} was scaled to ${g.spec.replicas ?? 0} by someone else (kubectl scale, an HPA or KEDA): the autoscaler stands aside for it; annotate it ${ANNOTATIONS.scaledBy}=autoscaler to hand it back`);
  }

  private async namespaceLabels(namespace: string): Promise<Record<string, string> | undefined> {
    const hit = this.nsLabels.get(namespace);
    if (hit && this.ctx.now() - hit.at < NAMESPACE_LABELS_TTL_MS) return hit.labels;
    let labels: Record<string, string> | undefined;
    try {
      labels = (await this.ctx.api.get<KubeObject>(R.namespaces, undefined, namespace))?.metadata.labels ?? {};
    } catch {
      labels = undefined; // not allowed to read namespaces (namespaced install): selectors cannot match
    }
    this.nsLabels.set(namespace, { at: this.ctx.now(), labels });
    return labels;
  }

  // The cluster reconcile writes the status; it is asked to at most once a second.
  private setState(e: Entry, state: AutoscalingState): void {
    e.state = state;
    if (statusKey(state) === e.statusKey || e.statusTimer) return;
    const due = Math.max(0, e.lastStatusAt + STATUS_EVERY_MS - this.ctx.now());
    e.statusTimer = setTimeout(() => {
      e.statusTimer = undefined;
      if (e.stopped) return;
      e.statusKey = statusKey(e.state);
      e.lastStatusAt = this.ctx.now();
      this.ctx.enqueue.cluster(e.namespace, e.name);
    }, due);
    e.statusTimer.unref?.();
  }
}

/** What of the state the status shows: a change of it asks for a status write. */
const statusKey = (s: AutoscalingState): string =>
  JSON.stringify([s.condition.status, s.condition.reason, s.condition.message, s.last?.time, s.idleToZero]);

function decisionRecord(now: number, d: GroupDecision, policy: ResolvedPolicy, u: MetricsUpdate, input: { ready: number; pending: number; unschedulable: number }): AutoscalingDecision {
  const g = u.groups.find((m) => m.name === d.name);
  return {
    time: new Date(now).toISOString(), group: d.name, from: d.from, to: d.to, reason: d.reason, recommended: d.recommended,
    ...(policy.name ? { policy: policy.name } : {}),
    inputs: {
      tasksQueued: g?.tasksQueued ?? 0, tasksNoWorker: g?.tasksNoWorker ?? 0, tasksProcessing: g?.tasksProcessing ?? 0,
      workSeconds: Math.round((g?.workSeconds ?? 0) * 1000) / 1000, workers: g?.workers ?? 0, pending: input.pending, unschedulable: input.unschedulable,
    },
  };
}

const POLICY_LIMITS = new Set(['maxWorkersPerCluster', 'maxGpusPerCluster', 'maxWorkersPerNamespace', 'maxGpusPerNamespace']);

function autoscalingCondition(decision: Decision, policy: ResolvedPolicy, external: Set<string>, gen: number | undefined): ConditionInput {
  const by = policy.name ? `policy ${policy.name}` : 'built-in defaults';
  const groups = decision.groups.map((d) => (external.has(d.name) ? `${d.name}: ${d.to} (driven externally)` : `${d.name}: ${d.to} (scheduler target ${d.recommended})`));
  const message = `${by}; ${groups.join(', ') || 'no worker groups'}${decision.deleteWaiting ? `; ${decision.deleteWaiting}` : ''}`;
  if (decision.groups.length > 0 && decision.groups.every((d) => external.has(d.name))) {
    return condition('Autoscaling', false, 'AllGroupsExternal', message, gen);
  }
  const limited = decision.groups.filter((d) => d.limitedBy.some((l) => POLICY_LIMITS.has(l)));
  if (limited.length) return condition('Autoscaling', true, 'LimitedByPolicy', `${message}; ${limited.map((d) => d.reason).join('; ')}`, gen);
  const stuck = decision.groups.filter((d) => d.limitedBy.includes('unschedulable'));
  if (stuck.length) return condition('Autoscaling', true, 'CapacityUnavailable', `${message}; ${stuck.map((d) => d.reason).join('; ')}`, gen);
  if (decision.idleToZero) return condition('Autoscaling', true, 'IdleScaledToZero', message, gen);
  return condition('Autoscaling', true, 'Active', message, gen);
}
