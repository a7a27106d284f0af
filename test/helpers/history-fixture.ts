// A deterministic, realistic session history for the dashboard's and the report's tests (and
// the screenshots): workers with several threads, task groups, transfers, spills, failures,
// scaling decisions and series. FixtureHistory serves it as a HistorySource, revealing the
// session up to a clock the test moves, as a live scheduler's history grows.
import type {
  ClusterSeries, Decision, DeltaRequest, EntryKind, FailedTask, GroupProgress, HistoryDelta, HistorySnapshot,
  HistorySource, Lane, MemorySeries, SnapshotOptions, WorkerEvent, WorkerRow,
} from '../../scheduler/history/types.js';
import { ENTRY_KIND } from '../../scheduler/history/types.js';
import { appendEntry, emptyColumns, sliceColumns } from '../../scheduler/history/stream.js';
import { seededRandom } from './random.js';

export interface FixtureOptions {
  seed?: number;
  workers?: number;
  threads?: number;
  /** Compute tasks in all (transfers, spills and errors come on top). */
  tasks?: number;
  /** Tasks of the 'score' group that fail. */
  failures?: number;
}

export const FIXTURE_START = Date.UTC(2026, 0, 15, 9, 30, 0);
const GiB = 2 ** 30;

/** Task groups in the order a pipeline runs them, with their mean duration (ms) and share of tasks. */
const GROUPS = [
  { name: 'read-parquet', meanMs: 120, share: 0.3 },
  { name: 'filter', meanMs: 25, share: 0.25 },
  { name: 'groupby-partial', meanMs: 60, share: 0.2 },
  { name: 'groupby-combine', meanMs: 180, share: 0.05 },
  { name: 'train', meanMs: 400, share: 0.1 },
  { name: 'score', meanMs: 80, share: 0.1 },
];

interface Entry { start: number; duration: number; lane: number; group: number; kind: EntryKind; key: string; bytes: number }

export interface Fixture {
  /** The whole session, as a snapshot taken after it ended. */
  full: HistorySnapshot;
  /** Tasks each group was given (the progress totals). */
  totals: Record<string, number>;
  end: number;
}

export function generateFixture(options: FixtureOptions = {}): Fixture {
  const random = seededRandom(options.seed ?? 17);
  const nWorkers = options.workers ?? 4;
  const threads = options.threads ?? 4;
  const tasks = options.tasks ?? 2000;
  const failures = options.failures ?? 3;
  const workers = Array.from({ length: nWorkers }, (_, i) => `worker-${i}`);
  const lanes: Lane[] = workers.flatMap((worker) => [...Array.from({ length: threads }, (_, thread) => ({ worker, thread })), { worker, thread: -1 }]);
  const laneOf = (w: number, thread: number) => w * (threads + 1) + (thread < 0 ? threads : thread);
  // Workers join over the first seconds, as an adaptive cluster scales up.
  const joined = workers.map((_, w) => FIXTURE_START + w * 1500);
  const free = lanes.map((lane, l) => (lane.thread < 0 ? 0 : joined[Math.floor(l / (threads + 1))]));
  const entries: Entry[] = [];
  const failed: FailedTask[] = [];
  const totals: Record<string, number> = {};
  let failuresLeft = failures;
  // Groups overlap as a graph's do: each starts while the one before is still running.
  const order: { g: number; i: number; at: number }[] = [];
  GROUPS.forEach((group, g) => {
    const count = Math.max(1, Math.round(tasks * group.share));
    totals[group.name] = count;
    for (let i = 0; i < count; i++) order.push({ g, i, at: g * 0.12 + (i / count) * 0.4 });
  });
  order.sort((a, b) => a.at - b.at);
  for (const { g, i } of order) {
    const group = GROUPS[g];
    // The thread that frees first takes the next task.
    let best = -1;
    for (let l = 0; l < lanes.length; l++) if (lanes[l].thread >= 0 && (best < 0 || free[l] < free[best])) best = l;
    const w = Math.floor(best / (threads + 1));
    const key = `${group.name}-${i.toString(16).padStart(5, '0')}`;
    let start = free[best] + random() * 3;
    if (g > 0 && random() < 0.15) {
      // A dependency fetched from a peer before the task can start.
      const bytes = Math.round((1 + random() * 40) * 2 ** 20);
      const duration = 5 + random() * 40;
      const tl = laneOf(w, -1);
      const tStart = Math.max(start, free[tl]);
      entries.push({ start: tStart, duration, lane: tl, group: g - 1, kind: ENTRY_KIND.transfer, key: `${GROUPS[g - 1].name}-${Math.floor(random() * 999).toString(16).padStart(5, '0')}`, bytes });
      free[tl] = tStart + duration;
      start = tStart + duration;
    }
    const duration = group.meanMs * (0.4 + random() * 1.2);
    const fails = group.name === 'score' && failuresLeft > 0 && i % 37 === 5;
    entries.push({ start, duration, lane: best, group: g, kind: fails ? ENTRY_KIND.error : ENTRY_KIND.compute, key, bytes: fails ? 0 : Math.round(random() * 8 * 2 ** 20) });
    free[best] = start + duration;
    if (fails) {
      failuresLeft--;
      failed.push({
        t: start + duration, key, group: group.name, worker: workers[w], name: 'ValueError',
        message: i === 5 ? 'bad row <img src=x onerror="window.injected=1"> in partition 5' : `score below zero in partition ${i}`,
        stack: `ValueError: score below zero\n    at score (user.js:12:11)\n    at runTask (worker/runtime/task-pool.js:88:20)\n    at process (node:internal/process:1:1)`,
      });
    }
    if (group.name === 'groupby-partial' && random() < 0.04) {
      const tl = laneOf(w, -1);
      const sStart = Math.max(start + duration, free[tl]);
      const sDuration = 20 + random() * 60;
      entries.push({ start: sStart, duration: sDuration, lane: tl, group: g, kind: ENTRY_KIND.spill, key: '', bytes: Math.round((50 + random() * 200) * 2 ** 20) });
      free[tl] = sStart + sDuration;
    }
  }
  // The history appends an entry when it finishes.
  entries.sort((a, b) => a.start + a.duration - (b.start + b.duration));
  const end = Math.ceil(entries.reduce((last, e) => Math.max(last, e.start + e.duration), 0)) + 500;
  const { cluster, memory, decisions, workerEvents } = series(workers, joined, end, random);
  const full = assemble({ workers, threads, lanes, entries, failed, totals, cluster, memory, decisions, workerEvents }, end);
  return { full, totals, end };
}

interface Parts {
  workers: string[]; threads: number; lanes: Lane[]; entries: Entry[]; failed: FailedTask[]; totals: Record<string, number>;
  cluster: ClusterSeries; memory: MemorySeries; decisions: Decision[]; workerEvents: WorkerEvent[];
}

function series(workers: string[], joined: number[], end: number, random: () => number) {
  const cluster: ClusterSeries = { t: [], workers: [], processing: [], queued: [], memory: [], targets: { default: [] } };
  const memory: MemorySeries = { t: [], workers: Object.fromEntries(workers.map((w) => [w, { managed: [], unmanaged: [], spilled: [] }])) };
  const decisions: Decision[] = [
    { t: FIXTURE_START + 200, source: 'operator', group: 'default', from: 1, to: Math.max(1, workers.length - 1), reason: 'queue of 1200 tasks wants 3 workers' },
    { t: FIXTURE_START + 4000, source: 'operator', group: 'default', from: Math.max(1, workers.length - 1), to: workers.length, reason: 'occupancy 2.4 s per thread over the target' },
    { t: end - 800, source: 'scheduler', group: 'default', from: workers.length, to: 1, reason: 'idle for 30 s' },
  ];
  const workerEvents: WorkerEvent[] = workers.map((worker, w) => ({ t: joined[w], worker, event: 'added' as const, reason: 'registered' }));
  for (let t = FIXTURE_START; t <= end; t += 250) {
    const up = joined.filter((j) => j <= t).length;
    const progress = (t - FIXTURE_START) / (end - FIXTURE_START);
    cluster.t.push(t);
    cluster.workers.push(up);
    cluster.processing.push(Math.round(up * 4 * (progress < 0.95 ? 1 : 0)));
    cluster.queued.push(Math.max(0, Math.round(1200 * (1 - progress * 1.1))));
    const target = [...decisions].reverse().find((d) => d.t <= t);
    cluster.targets.default.push(target ? target.to : null);
    memory.t.push(t);
    let total = 0;
    workers.forEach((w, i) => {
      const m = memory.workers[w];
      if (joined[i] > t) { m.managed.push(null); m.unmanaged.push(null); m.spilled.push(null); return; }
      const managed = Math.round(GiB * (0.3 + 1.2 * Math.sin(Math.PI * progress) ** 2) * (0.8 + 0.1 * i) + random() * 2 ** 26);
      const spilled = progress > 0.45 && i % 2 === 0 ? Math.round(GiB * 0.4 * (progress - 0.45)) : 0;
      m.managed.push(managed);
      m.unmanaged.push(Math.round(GiB * 0.25 + random() * 2 ** 25));
      m.spilled.push(spilled);
      total += managed;
    });
    cluster.memory.push(total);
  }
  return { cluster, memory, decisions, workerEvents };
}

function assemble(parts: Parts, end: number): HistorySnapshot {
  const stream = emptyColumns();
  for (const e of parts.entries) appendEntry(stream, e);
  return {
    scheduler: 'scheduler-fixture', startedAt: FIXTURE_START, now: end, cursor: parts.entries.length, dropped: 0,
    lanes: parts.lanes, groups: GROUPS.map((g) => g.name), stream,
    progress: [], workers: [], cluster: parts.cluster, memory: parts.memory, decisions: parts.decisions,
    failed: parts.failed, workerEvents: parts.workerEvents,
  };
}

/** The fixture as a scheduler's history: what had finished by `clock`, which the test moves. */
export class FixtureHistory implements HistorySource {
  clock: number;
  readonly recorded: Decision[] = [];
  private readonly ends: number[];

  constructor(readonly fixture: Fixture, clock = fixture.end) {
    this.clock = clock;
    const s = fixture.full.stream;
    this.ends = s.start.map((start, i) => start + s.duration[i]);
  }

  /** Entries finished by the clock (the stream is in finishing order). */
  private revealed(): number {
    let lo = 0;
    let hi = this.ends.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ends[mid] <= this.clock) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  snapshot(options: SnapshotOptions = {}): HistorySnapshot {
    const full = this.fixture.full;
    const delta = this.delta({ cursor: 0, lanes: 0, groups: 0, since: -1, maxEntries: options.maxEntries });
    const { from: _from, ...records } = delta;
    return { ...records, scheduler: full.scheduler, startedAt: full.startedAt };
  }

  delta(request: DeltaRequest): HistoryDelta {
    const full = this.fixture.full;
    const revealed = this.revealed();
    // A page of at most maxEntries entries; progress is the session's, whatever the page holds.
    const n = Math.min(revealed, request.cursor + (request.maxEntries ?? Infinity));
    const s = full.stream;
    const after = (t: number) => t > request.since && t <= this.clock;
    const samples = full.cluster.t.map((t, i) => (after(t) ? i : -1)).filter((i) => i >= 0);
    const pick = <T>(column: T[]) => samples.map((i) => column[i]);
    return {
      now: this.clock, from: request.cursor, cursor: n, dropped: 0,
      lanes: full.lanes.slice(request.lanes), groups: full.groups.slice(request.groups),
      stream: sliceColumns(s, request.cursor, n),
      progress: this.progress(revealed),
      workers: this.workerRows(),
      cluster: { t: pick(full.cluster.t), workers: pick(full.cluster.workers), processing: pick(full.cluster.processing), queued: pick(full.cluster.queued),
        memory: pick(full.cluster.memory), targets: Object.fromEntries(Object.entries(full.cluster.targets).map(([g, v]) => [g, pick(v)])) },
      memory: { t: pick(full.memory.t), workers: Object.fromEntries(Object.entries(full.memory.workers).map(([w, m]) => [w, { managed: pick(m.managed), unmanaged: pick(m.unmanaged), spilled: pick(m.spilled) }])) },
      decisions: [...full.decisions, ...this.recorded].filter((d) => after(d.t)),
      failed: full.failed.filter((f) => after(f.t)),
      workerEvents: full.workerEvents.filter((e) => after(e.t)),
    };
  }

  recordDecision(decision: Decision): void {
    this.recorded.push(decision);
  }

  /** Progress by group at the clock: finished entries done or erred, running ones processing. */
  private progress(n: number): GroupProgress[] {
    const full = this.fixture.full;
    const s = full.stream;
    const rows = full.groups.map((group) => ({ group, total: this.fixture.totals[group] ?? 0, waiting: 0, queued: 0, processing: 0, done: 0, erred: 0, durationMs: 0 }));
    for (let i = 0; i < s.start.length; i++) {
      const row = rows[s.group[i]];
      if (s.kind[i] !== ENTRY_KIND.compute && s.kind[i] !== ENTRY_KIND.error) continue;
      if (i < n) {
        if (s.kind[i] === ENTRY_KIND.error) row.erred++;
        else { row.done++; row.durationMs += s.duration[i]; }
      } else if (s.start[i] <= this.clock) {
        row.processing++;
      }
    }
    for (const row of rows) row.queued = row.total - row.done - row.erred - row.processing;
    return rows;
  }

  private workerRows(): WorkerRow[] {
    const full = this.fixture.full;
    const at = Math.max(0, full.memory.t.filter((t) => t <= this.clock).length - 1);
    const threads = full.lanes.filter((l) => l.worker === 'worker-0' && l.thread >= 0).length;
    return Object.entries(full.memory.workers).filter(([, m]) => m.managed[at] !== null).map(([name, m], i) => {
      const processing = Math.round(threads * 1.5) - (i % 3);
      return {
        name, address: `127.0.0.1:${40100 + i}`, group: 'default', nthreads: threads, memoryLimit: 4 * GiB,
        managed: m.managed[at] ?? 0, unmanaged: m.unmanaged[at] ?? 0, spilled: m.spilled[at] ?? 0,
        processing, executing: Math.min(threads, processing), holds: 40 + 7 * i, occupancyMs: processing * 95, retiring: false,
      };
    });
  }
}
