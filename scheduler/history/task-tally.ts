// Running totals behind the scheduler's Prometheus metrics (task durations by group, finished
// and erred counts, transfers by worker), kept as tasks are reported so a scrape reads them
// without walking the task stream. Pure.

/** Upper bounds (seconds) of the task duration histogram's buckets; +Inf is implied. */
export const DURATION_BUCKETS_S: readonly number[] = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300];

export interface GroupTally {
  group: string;
  finished: number;
  erred: number;
  /** Seconds of finished tasks. */
  durationSumS: number;
  /** Finished tasks per bucket of DURATION_BUCKETS_S (not cumulative), then those above all. */
  buckets: number[];
}

export interface TransferTally {
  worker: string;
  transfers: number;
  bytes: number;
  seconds: number;
}

export class TaskTally {
  private readonly groups = new Map<string, GroupTally>();
  private readonly transfersByWorker = new Map<string, TransferTally>();

  private group(name: string): GroupTally {
    let g = this.groups.get(name);
    if (!g) {
      g = { group: name, finished: 0, erred: 0, durationSumS: 0, buckets: new Array<number>(DURATION_BUCKETS_S.length + 1).fill(0) };
      this.groups.set(name, g);
    }
    return g;
  }

  finished(group: string, durationMs: number): void {
    const g = this.group(group);
    const s = Math.max(0, durationMs) / 1000;
    g.finished++;
    g.durationSumS += s;
    let i = 0;
    while (i < DURATION_BUCKETS_S.length && s > DURATION_BUCKETS_S[i]!) i++;
    g.buckets[i]!++;
  }

  erred(group: string): void { this.group(group).erred++; }

  transfer(worker: string, nbytes: number, durationMs: number): void {
    let t = this.transfersByWorker.get(worker);
    if (!t) {
      t = { worker, transfers: 0, bytes: 0, seconds: 0 };
      this.transfersByWorker.set(worker, t);
    }
    t.transfers++;
    t.bytes += nbytes;
    t.seconds += Math.max(0, durationMs) / 1000;
  }

  byGroup(): GroupTally[] { return [...this.groups.values()].map((g) => ({ ...g, buckets: [...g.buckets] })); }

  transfers(): TransferTally[] { return [...this.transfersByWorker.values()].map((t) => ({ ...t })); }
}
