// Retirements in flight. RetireWorkers answers only when the scheduler has moved the workers'
// data, which can take a while, so it runs beside the work queue: the group's reconcile starts
// it, the answer is parked here, and the next reconcile of the group deletes exactly the pods
// the scheduler retired. Refused workers are left alone for a while, with the reason.
import type { RetireResult } from '../control/scheduler-control.js';

interface GroupDrains {
  inFlight: Set<string>;
  done: RetireResult[];
  refusedUntil: Map<string, { until: number; reason: string }>;
}

export class DrainTracker {
  private readonly groups = new Map<string, GroupDrains>();

  constructor(private readonly now: () => number, private readonly refusedCooldownMs = 30_000) {}

  /** Starts retiring `pods`; `onSettled` runs when the scheduler has answered (or failed). */
  begin(group: string, pods: string[], retire: Promise<RetireResult>, onSettled: () => void): void {
    const g = this.get(group);
    for (const p of pods) g.inFlight.add(p);
    retire.then(
      (r) => g.done.push(r),
      (err: unknown) => g.done.push({ retired: [], refused: Object.fromEntries(pods.map((p) => [p, `RetireWorkers failed: ${(err as Error).message}`])) }),
    ).finally(() => {
      for (const p of pods) g.inFlight.delete(p);
      onSettled();
    });
  }

  isDraining(group: string, pod: string): boolean { return this.groups.get(group)?.inFlight.has(pod) ?? false; }

  /** Answers received since the last call; refused pods start their cool-off. */
  collect(group: string): RetireResult {
    const g = this.groups.get(group);
    const out: RetireResult = { retired: [], refused: {} };
    if (!g) return out;
    for (const r of g.done.splice(0)) {
      out.retired.push(...r.retired);
      for (const [pod, reason] of Object.entries(r.refused)) {
        out.refused[pod] = reason;
        g.refusedUntil.set(pod, { until: this.now() + this.refusedCooldownMs, reason });
      }
    }
    return out;
  }

  /** Why this pod may not be retired again yet, if it was refused recently. */
  refusal(group: string, pod: string): string | undefined {
    const r = this.groups.get(group)?.refusedUntil.get(pod);
    if (!r) return undefined;
    if (r.until <= this.now()) { this.groups.get(group)!.refusedUntil.delete(pod); return undefined; }
    return r.reason;
  }

  forget(group: string): void {
    const g = this.groups.get(group);
    if (g && g.inFlight.size === 0) this.groups.delete(group);
  }

  private get(group: string): GroupDrains {
    let g = this.groups.get(group);
    if (!g) this.groups.set(group, (g = { inFlight: new Set(), done: [], refusedUntil: new Map() }));
    return g;
  }
}
