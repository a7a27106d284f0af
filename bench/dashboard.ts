// `kubedask bench dashboard`: what the dashboard costs the scheduler with many tasks and
// workers. The scheduler's core and its dashboard server run in this process on a synthetic
// session (no worker sockets, so only the scheduler's own work is timed): W workers join, a
// graph of leaves and combines is submitted, and every round each worker finishes what it was
// given and heartbeats, a combine reporting the transfer of one dependency. Variants, in
// interleaved rounds: no dashboard connected, and N pages connected over HTTP from another
// thread (each loads /api/history, then follows /api/events, the server-sent deltas); and, for
// reference, the history's recording switched off. No peer: Dask's dashboard cannot be
// separated from its scheduler in the same way.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setImmediate as turn } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { SchedulerCore } from '../scheduler/server/core.js';
import { startDashboard } from '../scheduler/server/dashboard.js';
import type { SessionHistory } from '../scheduler/history/session-history.js';
import type { TaskDef } from '../scheduler/state/types.js';
import { median } from './stats.js';

export interface DashboardBenchOptions {
  tasks: number;
  workers: number;
  /** Pages connected in the measured variant. */
  pages: number;
  repeat: number;
}

type Variant = 'history_off' | 'no_page' | 'pages';
const VARIANTS: readonly Variant[] = ['history_off', 'no_page', 'pages'];
/** Leaves per combine: a tenth of the tasks combine nine leaves each. */
const FAN_IN = 9;
const THREADS = 2;
/** The goal: throughput with the pages connected within this fraction of none. */
const GOAL_FRACTION = 0.1;

interface RunResult {
  seconds: number;
  /** Server-sent event bytes the pages received, in all. */
  eventBytes: number;
  entries: number;
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

/**
 * The pages, in a thread of their own (as browsers are processes of their own): each loads the
 * snapshot, then reads the event stream, counting its bytes, until told to stop; then it posts
 * the bytes read. 'connected' is posted once every page follows its stream.
 */
const PAGES_THREAD = `
const { parentPort, workerData: { base, pages } } = require('node:worker_threads');
const abort = new AbortController();
let bytes = 0;
async function page() {
  const s = await (await fetch(base + '/api/history?maxEntries=100000', { signal: abort.signal })).json();
  const res = await fetch(base + '/api/events?cursor=' + s.cursor + '&lanes=' + s.lanes.length + '&groups=' + s.groups.length + '&since=' + s.now + '&maxEntries=100000&scheduler=' + s.scheduler, { signal: abort.signal });
  if (res.status !== 200) throw new Error('/api/events answered ' + res.status);
  // Wrapped: an async function's returned promise would be awaited, and this one ends at stop.
  return { reading: (async () => { try { for await (const chunk of res.body) bytes += chunk.byteLength; } catch {} })() };
}
Promise.all(Array.from({ length: pages }, page)).then((connected) => {
  parentPort.postMessage({ connected: true });
  parentPort.once('message', async () => { abort.abort(); await Promise.all(connected.map((c) => c.reading)); parentPort.postMessage({ bytes }); });
}, (err) => parentPort.postMessage({ error: String(err) }));
`;

interface Pages { stop(): Promise<number> }

async function connectPages(base: string, pages: number): Promise<Pages> {
  const thread = new Worker(PAGES_THREAD, { eval: true, workerData: { base, pages } });
  const next = () => new Promise<{ connected?: boolean; bytes?: number; error?: string }>((resolve, reject) => {
    thread.once('message', resolve);
    thread.once('error', reject);
  });
  const first = await next();
  if (first.error) throw new Error(`the dashboard pages failed: ${first.error}`);
  return {
    stop: async () => {
      const done = next();
      thread.postMessage('stop');
      const { bytes = 0 } = await done;
      await thread.terminate();
      return bytes;
    },
  };
}

async function run(variant: Variant, opts: DashboardBenchOptions): Promise<RunResult> {
  const core = new SchedulerCore({});
  if (variant === 'history_off') switchOff(core.history);
  const ids = Array.from({ length: opts.workers }, (_, i) => `w${i}`);
  let server: Server | undefined;
  let pages: Pages | undefined;
  if (variant === 'pages') {
    server = await startDashboard(core, core.history, async () => ({ contentType: 'text/plain', text: '' }), '127.0.0.1', 0);
    pages = await connectPages(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, opts.pages);
  }
  try {
    const t0 = performance.now();
    ids.forEach((workerId, i) => core.handle({
      type: 'worker-added', worker: { workerId, name: `worker-${i}`, address: `10.0.${i >> 8}.${i & 255}:8788`, nthreads: THREADS, memoryLimit: 4 * 2 ** 30, resources: {}, group: '' },
    }));
    core.handle({ type: 'client-connected', clientId: 'bench' });
    const { tasks, wanted } = graph(opts.tasks);
    core.handle({ type: 'update-graph', clientId: 'bench', tasks, wanted });
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
      // A turn of the event loop each round, as a scheduler serving sockets takes: the
      // dashboard's pushes (and the pages' reads) happen here, inside the timed run.
      await turn();
      if (finished === 0) break;
    }
    const seconds = (performance.now() - t0) / 1000;
    const counts = core.state.counts();
    if (counts.memory !== wanted.length || counts.processing + counts.queued + counts.waiting !== 0) {
      throw new Error(`the synthetic session did not finish: ${JSON.stringify(counts)}`);
    }
    const eventBytes = (await pages?.stop()) ?? 0;
    pages = undefined;
    return { seconds, eventBytes, entries: variant === 'history_off' ? 0 : core.history.snapshot().cursor };
  } finally {
    await pages?.stop();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }
}

const round2 = (x: number) => Math.round(x * 100) / 100;

export async function dashboardBench(opts: DashboardBenchOptions) {
  const runs: Record<Variant, RunResult[]> = { history_off: [], no_page: [], pages: [] };
  // A first round warms the JIT and is not counted; then interleaved rounds, so drift in the
  // machine's load touches every variant alike.
  for (const v of VARIANTS) await run(v, opts);
  for (let r = 0; r < opts.repeat; r++) for (const v of VARIANTS) runs[v].push(await run(v, opts));
  const seconds = (v: Variant) => median(runs[v].map((x) => x.seconds));
  const perS = (v: Variant) => Math.round(opts.tasks / seconds(v));
  const slowdown = seconds('pages') / seconds('no_page') - 1;
  return {
    bench: 'dashboard',
    node: process.version,
    session: { tasks: opts.tasks, workers: opts.workers, threads_per_worker: THREADS, fan_in: FAN_IN, pages: opts.pages, repeat: opts.repeat },
    scheduler_s: { no_page: round2(seconds('no_page')), pages: round2(seconds('pages')), history_off: round2(seconds('history_off')) },
    tasks_per_s: { no_page: perS('no_page'), pages: perS('pages'), history_off: perS('history_off') },
    /** Time added by the connected pages, and by the history's recording, in % of the scheduler's time without them. */
    slowdown_pct: { pages: round2(100 * slowdown), history: round2(100 * (seconds('no_page') / seconds('history_off') - 1)) },
    event_mib_per_page: round2(median(runs.pages.map((x) => x.eventBytes)) / opts.pages / 2 ** 20),
    entries: runs.no_page[0]!.entries,
    goal: { pages_within_pct: 100 * GOAL_FRACTION, met: slowdown <= GOAL_FRACTION },
    notes: [
      'the scheduler core and its dashboard server in this process on a synthetic session (no worker sockets): workers finish what they are given each round, heartbeat, and combines report one transfer; the event loop turns once a round',
      'pages: each loads /api/history then follows /api/events over HTTP, from a thread of their own (as browsers are processes of their own); bytes read, not parsed',
      'history_off: the history\'s recording replaced by no-ops, for reference (the per-group progress counts kept by the scheduler state stay on: they are part of its transitions)',
      'no peer: Dask\'s dashboard cost cannot be separated from its scheduler in the same way',
    ],
  };
}
