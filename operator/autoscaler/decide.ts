// The autoscaler's decision for one cluster: from the scheduler's recommendation per worker
// group to new replicas, through idle scale-to-zero, min/max, capacity, the HPA's windows and
// rates, and the policy's limits, in that order. Pure apart from the history it is handed;
// the caller writes the result and reports each write back with history.applied().
import { rateLimit, stabilize } from './behavior.js';
import type { ScalingHistory } from './history.js';
import { applyLimits } from './limits.js';
import type { DecideInput, Decision, GroupDecision, GroupInput, LimitedBy } from './types.js';

const EXTERNAL_REASON = 'driven externally (kubectl scale, HPA or KEDA): autoscaler stands aside';

interface Steps { value: number; limitedBy: LimitedBy[]; notes: string[] }

export function decide(input: DecideInput, history: ScalingHistory): Decision {
  const { policy, idleSeconds } = input;
  history.retain(policy.behavior);
  history.forgetAllBut(new Set(input.groups.map((g) => g.name)));
  const idle = Math.floor(idleSeconds);
  // idleSeconds is 0 while there is work: a threshold of 0 must still wait for the scheduler to go idle.
  const idleFor = (after: number | undefined): after is number => after !== undefined && idleSeconds > 0 && idleSeconds >= after;
  const toZero = policy.idle.scaleToZeroAfterSeconds;
  const idleNote = idleFor(toZero) ? `idle for ${idle}s >= scaleToZeroAfterSeconds ${toZero}` : undefined;

  const steps = input.groups.map((g) => {
    if (!g.external) return groupSteps(g, input, history, idleNote);
    // Whoever drives it now owns its history; the autoscaler starts afresh when it gets it back.
    history.forgetGroup(g.name);
    return undefined;
  });
  const limited = applyLimits(
    input.groups.map((g, i) => ({ to: steps[i]?.value ?? g.replicas, replicas: g.replicas, gpusPerWorker: g.gpusPerWorker, external: g.external })),
    policy.limits, input.namespaceUsage,
  );

  const groups = input.groups.map((g, i): GroupDecision => {
    const s = steps[i];
    const base = { name: g.name, from: g.replicas, recommended: g.recommended };
    if (!s) return { ...base, to: g.replicas, reason: EXTERNAL_REASON, limitedBy: [] };
    const l = limited[i];
    const reason = [`scheduler: ${g.recommendedReason || `${g.recommended} workers`}`, ...s.notes, ...(l.note ? [l.note] : [])].join('; ');
    return { ...base, to: l.to, reason, limitedBy: [...s.limitedBy, ...l.limitedBy] };
  });

  const decision: Decision = { groups, idleToZero: idleNote !== undefined };
  const deleteAfter = policy.idle.deleteClusterAfterSeconds;
  if (idleFor(deleteAfter)) {
    const why = `idle for ${idle}s >= deleteClusterAfterSeconds ${deleteAfter}`;
    // Deleting would lose results a client still holds: wait until it releases them or goes.
    if (input.resultsHeld > 0) decision.deleteWaiting = `${why}, but ${input.resultsHeld} results are held for clients: deletion waits until they are released`;
    else decision.deleteCluster = why;
  }
  return decision;
}

/** A decision's cause in one word, for a metric label (bounded, unlike the reason): what last held
 *  the result away from the scheduler's target, else idle scale-to-zero, else the target itself. */
export function decisionCause(d: GroupDecision, idleToZero: boolean): string {
  return d.limitedBy.at(-1) ?? (idleToZero ? 'idleScaleToZero' : 'schedulerTarget');
}

/** Steps b to f for a group the autoscaler drives. */
function groupSteps(g: GroupInput, input: DecideInput, history: ScalingHistory, idleNote: string | undefined): Steps {
  const s: Steps = { value: idleNote ? 0 : g.recommended, limitedBy: [], notes: idleNote ? [idleNote] : [] };
  const set = (value: number, limitedBy?: LimitedBy, note?: string): void => {
    if (value === s.value) return;
    s.value = value;
    if (limitedBy) s.limitedBy.push(limitedBy);
    if (note) s.notes.push(note);
  };

  const min = idleNote ? 0 : g.minReplicas;
  if (s.value < min) set(min, 'minReplicas', `raised to minReplicas ${min}`);
  if (g.maxReplicas !== undefined && s.value > g.maxReplicas) set(g.maxReplicas, 'maxReplicas', `capped at maxReplicas ${g.maxReplicas}`);
  // More pods would only queue behind the ones already waiting for room; scale-down stays allowed.
  if (g.unschedulable > 0 && s.value > g.replicas) {
    set(g.replicas, 'unschedulable', `${g.unschedulable} worker ${g.unschedulable === 1 ? 'pod' : 'pods'} cannot be scheduled: not asking for more`);
  }

  const { now, policy } = input;
  if (!history.has(g.name)) history.begin(g.name, now, g.replicas);
  const window = history.record(g.name, now, s.value);
  const stable = stabilize(g.replicas, s.value, window, policy.behavior);
  set(stable.value, stable.limitedBy, stable.note);

  const up = s.value > g.replicas;
  const rules = up ? policy.behavior.scaleUp : policy.behavior.scaleDown;
  const rate = rateLimit(g.replicas, s.value, rules, up, (period) => history.changes(g.name, now, period));
  set(rate.value, rate.limitedBy, rate.note);
  return s;
}
