// `kubedask bench startup`: how fast a cluster comes up and how much an idle one holds.
//   - `kubedask worker` spawned to registered, as the scheduler sees it (its "worker joined" log);
//   - LocalCluster(2 workers, 1 thread each) from `new` to the first result, a cold process per run;
//   - idle RSS of a `kubedask scheduler` and of a `kubedask worker` (1 thread).
// In the same run, alternating with kubedask: Dask (`dask scheduler`, `dask worker --no-nanny`,
// LocalCluster(n_workers=2)) with Debian's python3-distributed, and Ray (ray.init(num_cpus=2)
// to the first ray.get) where installed. A peer that is not installed is reported as such.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { median } from './stats.js';

export interface StartupBenchOptions {
  repeat: number;
  /** Run Dask and Ray too, where installed. */
  peer: boolean;
}

const kubedaskBin = fileURLToPath(new URL('../../bin/kubedask.js', import.meta.url));
const localClusterRun = fileURLToPath(new URL('./startup-local-cluster.js', import.meta.url));
const peerScript = fileURLToPath(new URL('../../bench/startup_peer.py', import.meta.url));
/** Dask is Debian's python3-distributed; the env var points elsewhere (a test: at nothing). */
const daskPython = process.env.KUBEDASK_DASK_PYTHON || '/usr/bin/python3';
/** Ray is not packaged by Debian: a venv with `pip install ray`. */
const rayPython = process.env.KUBEDASK_RAY_PYTHON || '/work/venv-peers/bin/python';
/** An idle process is measured this long after it came up (threads started, caches settled). */
const SETTLE_MS = 1_500;
const START_TIMEOUT_MS = 60_000;

interface Figure { median: number; runs: number[] }
type Peer = { status: 'ok'; version: string } & Record<string, unknown>;
type Absent = { status: 'not installed' | 'skipped' | 'failed'; reason: string };

/** How to start a scheduler and a worker of one system, and how to read their logs. */
interface ProcessSpec {
  scheduler: string[];
  /** The scheduler's address, from a line of its output. */
  address(line: string): string | undefined;
  worker(address: string, name: string): string[];
  /** The scheduler's output line saying `name` registered. */
  registered(line: string, name: string): boolean;
}

const kubedaskProcesses: ProcessSpec = {
  scheduler: [process.execPath, kubedaskBin, 'scheduler', '--host', '127.0.0.1', '--port', '0', '--no-dashboard', '--log-level', 'info'],
  address: (line) => /scheduler at grpc:\/\/(\S+)/.exec(line)?.[1],
  worker: (address, name) => [process.execPath, kubedaskBin, 'worker', '--scheduler', address, '--name', name, '--nthreads', '1'],
  registered: (line, name) => line.includes('worker joined') && line.includes(`"${name}"`),
};

const daskProcesses: ProcessSpec = {
  scheduler: [daskPython, '-m', 'distributed.cli.dask_scheduler', '--host', '127.0.0.1', '--port', '0', '--no-dashboard'],
  address: (line) => /Scheduler at:\s+(tcp:\/\/\S+)/.exec(line)?.[1],
  // No nanny: one process, like a kubedask worker (a nanny would add a second Python).
  worker: (address, name) => [daskPython, '-m', 'distributed.cli.dask_worker', address, '--name', name, '--nthreads', '1', '--no-nanny', '--no-dashboard'],
  registered: (line, name) => line.includes('Register worker') && line.includes(`name: ${name},`),
};

interface ProcessRun { worker_registered_ms: number; scheduler_rss_mib: number; worker_rss_mib: number }

/** Output lines of a child (stdout and stderr), handed to whoever waits for one. */
class Lines {
  private readonly seen: string[] = [];
  private waiters: Array<(line: string) => boolean> = [];

  constructor(readonly child: ChildProcess) {
    for (const stream of [child.stdout, child.stderr]) {
      let rest = '';
      stream?.on('data', (b: Buffer) => {
        const parts = (rest + b.toString()).split('\n');
        rest = parts.pop() ?? '';
        for (const line of parts) this.push(line);
      });
    }
  }

  private push(line: string): void {
    this.seen.push(line);
    this.waiters = this.waiters.filter((w) => !w(line));
  }

  /** The first line (seen already or to come) for which `pick` gives a value; fails if this
   * process or one of `also` exits first. */
  wait<T>(pick: (line: string) => T | undefined | false, what: string, also: Lines[] = []): Promise<T> {
    const watched = [this, ...also];
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        for (const w of watched) w.child.off('exit', onExit);
      };
      const timer = setTimeout(() => fail(`no ${what} within ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
      const onExit = (code: number | null): void => fail(`a process exited (${code}) before ${what}`);
      const fail = (why: string): void => {
        done();
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`${why}: ${watched.flatMap((w) => w.seen.slice(-3)).join(' | ')}`));
      };
      const waiter = (line: string): boolean => {
        const v = pick(line);
        if (v === undefined || v === false) return false;
        done();
        resolve(v);
        return true;
      };
      if (this.seen.some(waiter)) return;
      for (const w of watched) w.child.once('exit', onExit);
      this.waiters.push(waiter);
    });
  }
}

function start(argv: string[]): { child: ChildProcess; lines: Lines } {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PYTHONWARNINGS: 'ignore' } });
  return { child, lines: new Lines(child) };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await gone;
  clearTimeout(timer);
}

function rssMib(pid: number): number {
  const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  if (!kb) throw new Error(`no VmRSS for process ${pid}`);
  return Number(kb) / 1024;
}

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, SETTLE_MS));

/** A scheduler process, idle RSS; a worker process spawned to registered, idle RSS. */
async function processRun(spec: ProcessSpec, run: number): Promise<ProcessRun> {
  const scheduler = start(spec.scheduler);
  let worker: ReturnType<typeof start> | undefined;
  try {
    const address = await scheduler.lines.wait(spec.address, 'scheduler address');
    await settle();
    const schedulerRss = rssMib(scheduler.child.pid!);
    const name = `bench-worker-${run}`;
    const t0 = performance.now();
    worker = start(spec.worker(address, name));
    await scheduler.lines.wait((line) => spec.registered(line, name), `registration of ${name}`, [worker.lines]);
    const registeredMs = performance.now() - t0;
    await settle();
    return { worker_registered_ms: registeredMs, scheduler_rss_mib: schedulerRss, worker_rss_mib: rssMib(worker.child.pid!) };
  } finally {
    if (worker) await stop(worker.child);
    await stop(scheduler.child);
  }
}

/** Runs a one-shot timing script and returns its last stdout line as JSON. */
function oneShot(argv: string[]): Record<string, unknown> {
  const out = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 5 * 60_000, env: { ...process.env, PYTHONWARNINGS: 'ignore' } });
  const last = out.stdout?.trim().split('\n').pop() ?? '';
  let parsed: Record<string, unknown> | undefined;
  try {
    parsed = JSON.parse(last) as Record<string, unknown>;
  } catch {
    // reported below
  }
  if (out.status !== 0 || !parsed || parsed.error) {
    const why = (parsed?.error as string | undefined) ?? (out.error?.message || out.stderr || last).trim().split('\n').slice(-3).join(' ');
    throw new Error(`${argv.slice(0, 2).join(' ')} failed (exit ${out.status}): ${why}`);
  }
  return parsed;
}

/** The version a Python prints for `module`, or why it cannot. */
function pythonModule(python: string, module: string): { version: string } | Absent {
  if (!existsSync(python)) return { status: 'not installed', reason: `${python} not found` };
  const out = spawnSync(python, ['-c', `import ${module}; print(${module}.__version__)`], { encoding: 'utf8', timeout: 120_000 });
  if (out.status !== 0) return { status: 'not installed', reason: `${python} cannot import ${module}` };
  return { version: out.stdout.trim() };
}

function figure(runs: number[]): Figure {
  return { median: round(median(runs)), runs: runs.map(round) };
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

const GOALS = { local_cluster_first_result_ms: 1000, worker_registered_ms: 400, worker_rss_mib: 80 };

/**
 * kubedask, Dask and Ray runs alternate, so all see the same machine load over the run; each
 * figure is the median of its runs. Ratios are kubedask / peer: below 1, kubedask is faster or
 * smaller.
 */
export async function startupBench(opts: StartupBenchOptions) {
  const load1 = loadavg()[0]!;
  const ours = { registered: [] as number[], firstResult: [] as number[], clusterUp: [] as number[], schedulerRss: [] as number[], workerRss: [] as number[] };
  const dask = { registered: [] as number[], firstResult: [] as number[], clusterUp: [] as number[], schedulerRss: [] as number[], workerRss: [] as number[] };
  const rayRuns: number[] = [];
  const skipped: Absent = { status: 'skipped', reason: '--no-peer' };
  const daskFound = opts.peer ? pythonModule(daskPython, 'distributed') : skipped;
  const rayFound = opts.peer ? pythonModule(rayPython, 'ray') : skipped;
  let daskError: string | undefined;
  let rayError: string | undefined;

  for (let r = 0; r < opts.repeat; r++) {
    const p = await processRun(kubedaskProcesses, r);
    ours.registered.push(p.worker_registered_ms);
    ours.schedulerRss.push(p.scheduler_rss_mib);
    ours.workerRss.push(p.worker_rss_mib);
    const lc = oneShot([process.execPath, localClusterRun]);
    ours.clusterUp.push(Number(lc.workers_registered_ms));
    ours.firstResult.push(Number(lc.first_result_ms));

    if ('version' in daskFound && !daskError) {
      try {
        const d = await processRun(daskProcesses, r);
        dask.registered.push(d.worker_registered_ms);
        dask.schedulerRss.push(d.scheduler_rss_mib);
        dask.workerRss.push(d.worker_rss_mib);
        const dl = oneShot([daskPython, peerScript, 'local-cluster']);
        dask.clusterUp.push(Number(dl.workers_registered_ms));
        dask.firstResult.push(Number(dl.first_result_ms));
      } catch (err) {
        daskError = (err as Error).message;
      }
    }
    if ('version' in rayFound && !rayError) {
      try {
        rayRuns.push(Number(oneShot([rayPython, peerScript, 'ray']).first_result_ms));
      } catch (err) {
        rayError = (err as Error).message;
      }
    }
  }

  const summary = (s: typeof ours) => ({
    worker_registered_ms: figure(s.registered),
    local_cluster_first_result_ms: figure(s.firstResult),
    local_cluster_workers_registered_ms: figure(s.clusterUp),
    scheduler_rss_mib: figure(s.schedulerRss),
    worker_rss_mib: figure(s.workerRss),
  });
  const kubedask = { workers: 2, threads: 1, ...summary(ours) };
  const daskOut: Peer | Absent = daskError ? { status: 'failed', reason: daskError }
    : 'version' in daskFound ? { status: 'ok', version: daskFound.version, worker: 'dask worker --no-nanny --nthreads 1', ...summary(dask) } : daskFound;
  const rayOut: Peer | Absent = rayError ? { status: 'failed', reason: rayError }
    : 'version' in rayFound ? { status: 'ok', version: rayFound.version, init_to_first_result_ms: figure(rayRuns) } : rayFound;

  const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
  const ratios: Record<string, Record<string, number>> = {};
  if (daskOut.status === 'ok') {
    ratios.dask = {
      worker_registered_x: ratio(median(ours.registered), median(dask.registered)),
      local_cluster_first_result_x: ratio(median(ours.firstResult), median(dask.firstResult)),
      scheduler_rss_x: ratio(median(ours.schedulerRss), median(dask.schedulerRss)),
      worker_rss_x: ratio(median(ours.workerRss), median(dask.workerRss)),
    };
  }
  if (rayOut.status === 'ok') ratios.ray = { local_cluster_first_result_x: ratio(median(ours.firstResult), median(rayRuns)) };

  const goals = {
    ...GOALS,
    met: {
      local_cluster_first_result: kubedask.local_cluster_first_result_ms.median < GOALS.local_cluster_first_result_ms,
      worker_registered: kubedask.worker_registered_ms.median < GOALS.worker_registered_ms,
      worker_rss: kubedask.worker_rss_mib.median < GOALS.worker_rss_mib,
    },
  };
  const machine = { cpus: cpus().length, memory_gib: Math.round(totalmem() / 2 ** 30), load_avg_1m_at_start: round(load1) };
  return { bench: 'startup', node: process.version, machine, repeat: opts.repeat, kubedask, dask: daskOut, ray: rayOut, ratios, goals };
}

export type StartupBenchResult = Awaited<ReturnType<typeof startupBench>>;

/** The short table `kubedask bench startup` prints without --json. */
export function startupTable(result: StartupBenchResult): string {
  const k = result.kubedask;
  const d = result.dask.status === 'ok' ? (result.dask as unknown as typeof k) : undefined;
  const ray = result.ray.status === 'ok' ? (result.ray as unknown as { init_to_first_result_ms: Figure }) : undefined;
  const cell = (f: Figure | undefined, unit: string) => (f ? `${f.median.toFixed(0)} ${unit}` : '-');
  const rows: Array<[string, string, string, string]> = [
    ['', 'kubedask', 'dask', 'ray'],
    ['LocalCluster(2) to first result', cell(k.local_cluster_first_result_ms, 'ms'), cell(d?.local_cluster_first_result_ms, 'ms'), cell(ray?.init_to_first_result_ms, 'ms')],
    ['worker spawn to registered', cell(k.worker_registered_ms, 'ms'), cell(d?.worker_registered_ms, 'ms'), '-'],
    ['idle scheduler RSS', cell(k.scheduler_rss_mib, 'MiB'), cell(d?.scheduler_rss_mib, 'MiB'), '-'],
    ['idle worker RSS', cell(k.worker_rss_mib, 'MiB'), cell(d?.worker_rss_mib, 'MiB'), '-'],
  ];
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
  for (const [name, peer] of [['dask', result.dask], ['ray', result.ray]] as const) {
    if (peer.status !== 'ok') lines.push(`${name}: ${peer.status} (${(peer as Absent).reason})`);
  }
  lines.push(`median of ${result.repeat} run(s); ${result.machine.cpus} CPUs, load ${result.machine.load_avg_1m_at_start} at start`);
  return `${lines.join('\n')}\n`;
}
