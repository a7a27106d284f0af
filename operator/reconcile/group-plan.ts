// The pure decision of a worker group's reconcile: which pods to create, which to drain through
// the scheduler and delete, and which to delete outright. Rolling replacement keeps every ready
// worker until a replacement is ready (surge of max(1, 25%) new pods, none unavailable), and a
// scale-down removes pods that do nothing first: not-started ones, then outdated ones, then the
// idle workers holding the least data.

export interface PlanPod {
  name: string;
  /** Built from the group's current template (same hash). */
  current: boolean;
  /** Pod Ready (its gRPC health probe passes). */
  ready: boolean;
  /** Its worker is registered with the scheduler. */
  connected: boolean;
  keysHeld: number;
  idleSeconds: number;
  /** Being retired through the scheduler right now. */
  draining: boolean;
  /** Succeeded or Failed: the container is gone for good. */
  finished: boolean;
  /** The scheduler refused to retire it recently: it stays, and counts, but is not picked. */
  blocked?: boolean;
  /** Its place in the scheduler's retirement order (0 = retire first), when it gave one. */
  retireRank?: number;
}

export interface PlanInput {
  desired: number;
  pods: PlanPod[];
  /** Every pod name in use, terminating ones included (names are reused only once free). */
  namesInUse: Set<string>;
  namePrefix: string;
  /** The scheduler answered: ready workers can be drained through it. */
  schedulerReachable: boolean;
  /** Suspend or deletion: remove without draining. */
  force: boolean;
}

export interface Removal { name: string; drain: boolean }

export interface GroupPlan {
  create: string[];
  remove: Removal[];
  /** Finished pods to delete (a replacement is created in the same plan when needed). */
  deleteFinished: string[];
  /** Why some of what the spec asks waits, for the status and logs. */
  waiting?: string;
}

export function planGroup(input: PlanInput): GroupPlan {
  const { desired, pods } = input;
  const deleteFinished = pods.filter((p) => p.finished && !p.draining).map((p) => p.name);
  const live = pods.filter((p) => !p.finished && !p.draining);
  const current = live.filter((p) => p.current);
  const outdated = live.filter((p) => !p.current);
  const surge = Math.max(1, Math.ceil(desired * 0.25));
  const ceiling = desired + (outdated.length > 0 ? surge : 0);
  const createCount = input.force ? 0 : Math.max(0, Math.min(desired - current.length, ceiling - live.length));
  const create = freeNames(input.namePrefix, input.namesInUse, createCount);

  const available = (p: PlanPod) => p.ready && (p.connected || !input.schedulerReachable);
  let readyLeft = live.filter(available).length;
  let excess = input.force ? live.length : live.length + createCount - desired;
  const pickable = (p: PlanPod) => !p.blocked || !available(p) || input.force;
  // Among pods that serve nothing, those whose worker never registered go first.
  const idleFirst = (a: PlanPod, b: PlanPod) => Number(a.connected) - Number(b.connected) || byLeastUseful(a, b);
  const order = [
    ...outdated.filter((p) => !available(p)).sort(idleFirst),
    ...outdated.filter(available).sort(byLeastUseful),
    ...current.filter((p) => !available(p)).sort(idleFirst),
    // Never a ready up-to-date worker while outdated ones remain (one may be kept by a refusal).
    ...(outdated.length && !input.force ? [] : current.filter(available).sort(byLeastUseful)),
  ].filter(pickable);
  const remove: Removal[] = [];
  let waiting: string | undefined;
  for (const p of order) {
    if (excess <= 0) break;
    if (!input.force && available(p)) {
      if (readyLeft - 1 < desired) { waiting = `waiting for replacement workers to be ready before removing ${p.name}`; break; }
      if (!input.schedulerReachable) { waiting = `scheduler unreachable: cannot drain ${p.name}`; break; }
    }
    // A registered worker may hold results even when its probe fails: it is always drained.
    remove.push({ name: p.name, drain: !input.force && p.connected });
    if (available(p)) readyLeft--;
    excess--;
  }
  if (!waiting && pods.some((p) => p.draining)) waiting = 'draining workers through the scheduler';
  return { create, remove, deleteFinished, ...(waiting ? { waiting } : {}) };
}

// The scheduler's own order first (it sees bytes held and running tasks); otherwise idle workers
// holding little data cost the least to retire.
function byLeastUseful(a: PlanPod, b: PlanPod): number {
  const rank = (p: PlanPod) => p.retireRank ?? Number.MAX_SAFE_INTEGER;
  return rank(a) - rank(b) || a.keysHeld - b.keysHeld || b.idleSeconds - a.idleSeconds || b.name.localeCompare(a.name);
}

function freeNames(prefix: string, inUse: Set<string>, count: number): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < count; i++) {
    const name = `${prefix}-${i}`;
    if (!inUse.has(name)) out.push(name);
  }
  return out;
}
