// Control.RetireWorkers' waiting and timing. The pure state drains each worker (see
// state/retirement.ts) and ends every retirement with `worker-retired` or `retire-refused`;
// here a call waits for those, cancels what is still going at its deadline, and waits (briefly)
// for retired workers' streams to end, so the caller no longer sees them connected.
import type { SchedulerCore } from './core.js';

export type RetireOutcome = { retired: true } | { retired: false; reason: string };

export const DEFAULT_RETIRE_TIMEOUT_S = 60;
/** How long an answer waits for a retired worker to hang up after being told to close. */
const HANG_UP_MS = 5_000;

/** Who waits on which worker's retirement, and on which workers leaving. */
export class Retirements {
  private readonly outcomes = new Map<string, Array<(o: RetireOutcome) => void>>();
  private readonly departures = new Map<string, Array<() => void>>();

  /** Register before the event that may settle it at once. */
  outcome(workerId: string): Promise<RetireOutcome> {
    return new Promise((resolve) => push(this.outcomes, workerId, resolve));
  }

  pending(workerId: string): boolean { return this.outcomes.has(workerId); }

  settle(workerId: string, outcome: RetireOutcome): void {
    const waiters = this.outcomes.get(workerId) ?? [];
    this.outcomes.delete(workerId);
    for (const resolve of waiters) resolve(outcome);
  }

  /** Resolves when the worker's stream ends, or after `ms`. */
  departure(workerId: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      timer.unref();
      push(this.departures, workerId, () => { clearTimeout(timer); resolve(); });
    });
  }

  left(workerId: string): void {
    const waiters = this.departures.get(workerId) ?? [];
    this.departures.delete(workerId);
    for (const resolve of waiters) resolve();
  }
}

function push<T>(map: Map<string, T[]>, key: string, item: T): void {
  const list = map.get(key);
  if (list) list.push(item);
  else map.set(key, [item]);
}

export interface RetireResult {
  retired: string[];
  refused: Record<string, string>;
}

export async function retireWorkers(core: SchedulerCore, names: readonly string[], timeoutSeconds: number): Promise<RetireResult> {
  const seconds = timeoutSeconds > 0 ? timeoutSeconds : DEFAULT_RETIRE_TIMEOUT_S;
  const refused: Record<string, string> = {};
  const ids = new Map<string, string>();
  const closing: string[] = [];
  for (const name of new Set(names)) {
    const link = core.workerByName(name);
    if (!link) refused[name] = 'no such worker';
    else if (link.retiring) closing.push(name); // already told to close: only its hang-up is left
    else ids.set(name, link.def.workerId);
  }
  const outcomes = [...ids].map(async ([name, id]) => [name, id, await core.retirements.outcome(id)] as const);
  if (ids.size > 0) core.handle({ type: 'retire-workers', workerIds: [...ids.values()] });
  const deadline = setTimeout(() => {
    for (const id of ids.values()) {
      if (!core.retirements.pending(id)) continue;
      const p = core.state.retirementProgress(id);
      const left = p ? `: ${p.processing} tasks still processing there, ${p.unsafeKeys} keys not yet copied elsewhere` : '';
      core.handle({ type: 'cancel-retirement', workerIds: [id], reason: `retirement did not finish within ${seconds} s${left}` });
      // The state had no retirement to cancel (it left meanwhile and was already answered).
      core.retirements.settle(id, { retired: false, reason: `retirement did not finish within ${seconds} s` });
    }
  }, seconds * 1000);
  deadline.unref();
  const results = await Promise.all(outcomes);
  clearTimeout(deadline);
  const retired: string[] = [];
  const departures: Promise<void>[] = [];
  for (const [name, id, outcome] of results) {
    if (outcome.retired) {
      retired.push(name);
      if (core.workers.has(id)) departures.push(core.retirements.departure(id, HANG_UP_MS));
    } else {
      refused[name] = outcome.reason;
    }
  }
  for (const name of closing) {
    const link = core.workerByName(name);
    if (link) departures.push(core.retirements.departure(link.def.workerId, HANG_UP_MS));
    retired.push(name);
  }
  await Promise.all(departures);
  return { retired, refused };
}
