// `kubedask bench dashboard`: what the session history (dashboard, reports, traces) costs the
// scheduler with many tasks and workers. The scheduler's core runs in this process on a
// synthetic session (no sockets, so only the scheduler's own work is timed): W workers join, a
// graph of leaves and combines is submitted, and every round each worker finishes what it was
// given, reports heartbeats, and a combine reports the transfer of one dependency. Three
// variants, each run in turn: the history's recording switched off, on, and on with a
// dashboard page connected (a delta read and encoded as JSON every 500 ms, as the server-sent
// events do). No peer: Dask's dashboard cannot be separated from its scheduler to compare.
import { SchedulerCore } from '../scheduler/server/core.js';
import type { SessionHistory } from '../scheduler/history/session-history.js';
import type { DeltaRequest } from '../scheduler/history/types.js';
import type { TaskDef } from '../scheduler/state/types.js';
import { median, percentile } from './stats.js';

export interface DashboardBenchOptions {
  tasks: number;
  workers: number;
  repeat: number;
}

type Variant = 'off' | 'on' | 'page';
const VARIANTS: readonly Variant[] = ['off', 'on', 'page'];
/** Leaves per combine: a tenth of the tasks combine nine leaves each. */
const FAN_IN = 9;
const THREADS = 2;
const DELTA_EVERY_MS = 500;

interface RunResult {
  seconds: number;
  deltas: number[];
  deltaBytes: number[];
  entries: number;
  /** The snapshot a page loads first, at the end of the session (history on). */
  snapshotMs?: number;
  snapshotBytes?: number;
}

function graph(n: number): { tasks: TaskDef[]; wanted: string[] } {
  const combines = Math.max(1, Math.floor(n / (FAN_IN + 1)));
  const tasks: TaskDef[] = [];
  const wanted: string[] = [];
  const task = (key: string, group: string, dependencies: string[]): TaskDef =>
    ({ key, functionId: group, dependencies, resources: {}, retries: 0, priority: 0, group, spec: {} });
  for (let c = 0; c < combines; c++) {
    const leaves = Array.from({ length: FAN_IN }, (_, i) => `load-${c}-${i}`);
    for (const leaf of leaves) tasks.push(task(leaf, `load-${c % 10}`, []));
    tasks.push(task(`combine-${c}`, 'combine', leaves));
    wanted.push(`combine-${c}`);
  }
  return { tasks, wanted };
}

/** History writes become no-ops: what the scheduler costs without a history. */
function switchOff(h: SessionHistory): void {
  const none = () => undefined;
  Object.assign(h, { taskFinished: none, taskErred: none, heartbeat: none, workerAdded: none, workerRemoved: none, sample: () => false, wantsSample: () => false });
}

function run(variant: Variant, opts: DashboardBenchOptions): RunResult {
  const core = new SchedulerCore({});
  if (variant === 'off') switchOff(core.history);
  const ids = Array.from({ length: opts.workers }, (_, i) => `w${i}`);
  const t0 = performance.now();
  ids.forEach((workerId, i) => core.handle({
    type: 'worker-added', worker: { workerId, name: `worker-${i}`, address: `10.0.${i >> 8}.${i & 255}:8788`, nthreads: THREADS, memoryLimit: 4 * 2 ** 30, resources: {}, group: '' },
  }));
  core.handle({ type: 'client-connected', clientId: 'bench' });
  const { tasks, wanted } = graph(opts.tasks);
  core.handle({ type: 'update-graph', clientId: 'bench', tasks, wanted });

  const deltas: number[] = [];
  const deltaBytes: number[] = [];
  const seen: DeltaRequest = { cursor: 0, lanes: 0, groups: 0, since: 0 };
  if (variant === 'page') {
    const s = core.history.snapshot();
    Object.assign(seen, { cursor: s.cursor, lanes: s.lanes.length, groups: s.groups.length, since: s.now });
  }
  let nextDelta = performance.now() + DELTA_EVERY_MS;
  const readDelta = () => {
    const d0 = performance.now();
    const d = core.history.delta(seen);
    const bytes = JSON.stringify(d).length;
    deltas.push(performance.now() - d0);
    deltaBytes.push(bytes);
    Object.assign(seen, { cursor: d.cursor, lanes: seen.lanes + d.lanes.length, groups: seen.groups + d.groups.length, since: d.now });
  };

  const memory = new Map<string, number>();
  for (;;) {
    let finished = 0;
    for (const [i, workerId] of ids.entries()) {
      const name = `worker-${i}`;
      for (const [slot, key] of core.state.processingOn(workerId).entries()) {
        const now = Date.now();
        const group = core.state.taskGroup(key) ?? '';
        const transfers = key.startsWith('combine-') ? [{ key: `load-${key.slice(8)}-0`, group: 'load-0', startMs: now - 2, durationMs: 1, nbytes: 1000 }] : [];
        core.history.taskFinished({ worker: name, key, group, thread: slot % THREADS, startMs: now - 5, durationMs: 5, nbytes: 1000, transfers });
        core.handle({ type: 'task-finished', workerId, key, nbytes: 1000, durationMs: 5 });
        memory.set(name, (memory.get(name) ?? 0) + 1000);
        finished++;
      }
      core.history.heartbeat(Date.now(), name, { managed: memory.get(name) ?? 0, rss: 80 * 2 ** 20, spilled: 0, executing: THREADS });
      core.handle({ type: 'heartbeat', workerId, memoryUsed: memory.get(name) ?? 0 });
    }
    core.sampleHistory();
    if (variant === 'page' && performance.now() >= nextDelta) {
      readDelta();
      nextDelta = performance.now() + DELTA_EVERY_MS;
    }
    if (finished === 0) break;
  }
  const seconds = (performance.now() - t0) / 1000;
  const counts = core.state.counts();
  if (counts.memory !== wanted.length || counts.processing + counts.queued + counts.waiting !== 0) {
    throw new Error(`the synthetic session did not finish: ${JSON.stringify(counts)}`);
  }
  if (variant === 'page') readDelta();
  if (variant !== 'on') return { seconds, deltas, deltaBytes, entries: 0 };
  const s0 = performance.now();
  const snapshot = core.history.snapshot();
  const snapshotBytes = JSON.stringify(snapshot).length;
  return { seconds, deltas, deltaBytes, entries: snapshot.cursor, snapshotMs: performance.now() - s0, snapshotBytes };
}

const ms = (x: number) => Math.round(x * 100) / 100;

export function dashboardBench(opts: DashboardBenchOptions) {
  const runs: Record<Variant, RunResult[]> = { off: [], on: [], page: [] };
  // A first round warms the JIT and is not counted; then interleaved rounds, so drift in the
  // machine's load touches every variant alike.
  for (const v of VARIANTS) run(v, opts);
  for (let r = 0; r < opts.repeat; r++) for (const v of VARIANTS) runs[v].push(run(v, opts));
  const seconds = (v: Variant) => median(runs[v].map((x) => x.seconds));
  const events = opts.tasks;
  const allDeltas = runs.page.flatMap((x) => x.deltas).sort((a, b) => a - b);
  const allBytes = runs.page.flatMap((x) => x.deltaBytes).sort((a, b) => a - b);

  return {
    bench: 'dashboard',
    node: process.version,
    session: { tasks: opts.tasks, workers: opts.workers, threads_per_worker: THREADS, fan_in: FAN_IN, repeat: opts.repeat },
    scheduler_s: { history_off: ms(seconds('off')), history_on: ms(seconds('on')), history_on_page_connected: ms(seconds('page')) },
    tasks_per_s: { history_off: Math.round(events / seconds('off')), history_on: Math.round(events / seconds('on')), history_on_page_connected: Math.round(events / seconds('page')) },
    overhead_pct: { history_on: ms(100 * (seconds('on') / seconds('off') - 1)), history_on_page_connected: ms(100 * (seconds('page') / seconds('off') - 1)) },
    delta_ms: { count: allDeltas.length, p50: ms(percentile(allDeltas, 0.5)), p99: ms(percentile(allDeltas, 0.99)), max: ms(allDeltas.at(-1) ?? Number.NaN) },
    delta_kib: { p50: ms(percentile(allBytes, 0.5) / 1024), max: ms((allBytes.at(-1) ?? Number.NaN) / 1024) },
    snapshot: { entries: runs.on[0]!.entries, ms_median: ms(median(runs.on.map((x) => x.snapshotMs!))), mib: ms(runs.on[0]!.snapshotBytes! / 2 ** 20) },
    notes: [
      'the scheduler core in this process on a synthetic session (no sockets): workers finish what they are given each round, heartbeat, and combines report one transfer',
      'history_off: the history\'s recording replaced by no-ops (the per-group progress counts kept by the scheduler state stay on: they are part of its transitions)',
      'history_on_page_connected: a dashboard page\'s delta read and JSON-encoded every 500 ms, as /api/events does',
      'no peer: Dask\'s dashboard cost cannot be separated from its scheduler in the same way',
    ],
  };
}
