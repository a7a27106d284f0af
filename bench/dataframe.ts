// `kubedask bench dataframe`: four DataFrame queries (dataframe-queries.ts) over flights-3m
// copied N times, on a LocalCluster of 2 workers x 1 thread, and side by side in the same run on
// Dask DataFrame (in-process threaded scheduler, 2 threads), DuckDB (2 threads) and Polars (one
// process, 2 threads) through bench/dataframe_peer.py and a Python that has them. Rounds
// alternate, kubedask then the peers, so all see the same machine load; each figure is a median.
import { copyFileSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '../client/client.js';
import { LocalCluster } from '../client/local-cluster.js';
import { checkDifference, kubedaskQueries, QUERIES, QUERY_TEXT, type Check, type Query } from './dataframe-queries.js';
import { shuffleScaling, type ShuffleScale } from './dataframe-shuffle.js';
import { runPythonPeer } from './python-peer.js';
import { median } from './stats.js';

export interface DataframeBenchOptions {
  /** Copies of flights-3m (3 M rows each), each its own Parquet file. */
  copies: number;
  runs: number;
  /** The Python that has the peers; else $KUBEDASK_BENCH_PYTHON, else python3. */
  python?: string;
  /** Run the peers (false: kubedask only). */
  peer: boolean;
  /** Bars per task group while kubedask's queries run, on a terminal (the human output). */
  progress?: boolean;
}

const dataDir = fileURLToPath(new URL('../../node_modules/vega-datasets/data/', import.meta.url));
const peerScript = fileURLToPath(new URL('../../bench/dataframe_peer.py', import.meta.url));
const ROWS_PER_COPY = 3_000_000;
const PEERS = ['dask', 'duckdb', 'polars'] as const;
type Peer = (typeof PEERS)[number];
const PEER_TIMEOUT_MS = 30 * 60_000;
const GOALS = { faster_than_dask_x: 2, groupby_within_duckdb_x: 3 };
const NOTES = [
  'median_s: wall seconds from building the query (kubedask reads the files\' metadata then) to its result in the caller',
  'kubedask cpu_median_s: this process (client and in-process scheduler); workers_cpu_median_s: its two worker processes; a peer\'s cpu_median_s: its process, all threads',
  'ratios: peer / kubedask median wall seconds (above 1: kubedask is faster); cpu_ratios: the same over CPU seconds',
  'checks: kubedask\'s result against each peer\'s (groups, total count and a digest of (key, count); top-N keys; rows written)',
  'shuffle_scaling: one flights-3m file read in P partitions, hashed by origin into P and counted (kubedask only): tasks, dependency edges and wall seconds as P grows',
];

/** cpu_seconds: of the peer's process; for kubedask, of the two workers (workers_cpu_seconds) and of this process (the client and the in-process scheduler). */
type Outcome = { seconds: number; cpu_seconds?: number; workers_cpu_seconds?: number; check: Check } | { error: string };
interface Samples { runs: number[]; cpu: number[]; workersCpu: number[]; check?: Check; error?: string }
interface PeerRun { version?: string; threads?: string; ran?: Record<Query, string>; queries?: Partial<Record<Query, Outcome>>; error?: string }
interface PeerOutput { python?: string; engines?: Partial<Record<Peer, PeerRun>>; error?: string }

/** Runs the peer script; its one JSON line, or why there is none. */
function runPeer(python: string, args: string[]): Promise<PeerOutput> {
  return runPythonPeer<PeerOutput>(python, peerScript, args, PEER_TIMEOUT_MS);
}

/** flights-3m as `copies` files in a fresh directory: hard links where the file system allows, else copies. */
function prepareData(copies: number): { dir: string; files: string; linked: boolean } {
  const dir = mkdtempSync(join(tmpdir(), 'kubedask-bench-df-'));
  mkdirSync(join(dir, 'in'));
  const source = join(dataDir, 'flights-3m.parquet');
  let linked = true;
  for (let i = 0; i < copies; i++) {
    const target = join(dir, 'in', `flights-${String(i).padStart(3, '0')}.parquet`);
    try {
      if (linked) linkSync(source, target);
      else copyFileSync(source, target);
    } catch {
      linked = false;
      copyFileSync(source, target);
    }
  }
  return { dir, files: join(dir, 'in', '*.parquet'), linked };
}

/** CPU seconds (user + system, all threads) a process has used, from /proc; undefined where there is none. */
function processCpu(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS; // utime, stime
  } catch {
    return undefined;
  }
}

/** Linux's USER_HZ, fixed at 100 on the platforms Node runs on. */
const CLOCK_TICKS = 100;

function workersCpu(cluster: LocalCluster): number | undefined {
  const each = Object.values(cluster.workerPids).map(processCpu);
  return each.every((x) => x !== undefined) ? each.reduce((a, b) => a + b!, 0) : undefined;
}

async function timed(cluster: LocalCluster, run: () => Promise<Check>): Promise<Outcome> {
  const w0 = workersCpu(cluster);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  try {
    const check = await run();
    const seconds = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    const w1 = workersCpu(cluster);
    const workers = w0 !== undefined && w1 !== undefined ? { workers_cpu_seconds: w1 - w0 } : {};
    return { seconds, cpu_seconds: (c.user + c.system) / 1e6, ...workers, check };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/** Adds one run's outcome; the first check (or error) is kept. */
function record(into: Samples, outcome: Outcome | undefined): void {
  if (!outcome) return;
  if ('error' in outcome) into.error ??= outcome.error;
  else {
    into.runs.push(outcome.seconds);
    if (outcome.cpu_seconds !== undefined) into.cpu.push(outcome.cpu_seconds);
    if (outcome.workers_cpu_seconds !== undefined) into.workersCpu.push(outcome.workers_cpu_seconds);
    into.check ??= outcome.check;
  }
}

function summary(samples: Samples) {
  if (samples.runs.length === 0) return { error: samples.error ?? 'not run' };
  const cpu = samples.cpu.length ? { cpu_median_s: round(median(samples.cpu)) } : {};
  const workers = samples.workersCpu.length ? { workers_cpu_median_s: round(median(samples.workersCpu)) } : {};
  return { median_s: round(median(samples.runs)), runs_s: samples.runs.map(round), ...cpu, ...workers, check: samples.check, ...(samples.error ? { error_in_some_run: samples.error } : {}) };
}

const round = (x: number) => Math.round(x * 1000) / 1000;
const emptySamples = (): Record<Query, Samples> => Object.fromEntries(QUERIES.map((q) => [q, { runs: [], cpu: [], workersCpu: [] }])) as unknown as Record<Query, Samples>;

export async function dataframeBench(opts: DataframeBenchOptions) {
  const python = opts.python || process.env.KUBEDASK_BENCH_PYTHON || 'python3';
  const loadStart = loadavg()[0]!;
  const data = prepareData(opts.copies);
  const airports = join(dataDir, 'airports.csv');
  const ours = emptySamples();
  const theirs = Object.fromEntries(PEERS.map((p) => [p, emptySamples()])) as Record<Peer, Record<Query, Samples>>;
  const peerInfo: Partial<Record<Peer, { status: string; reason?: string; version?: string; threads?: string; ran?: Record<Query, string> }>> = {};
  let pythonVersion: string | undefined;

  let engines: Peer[] = [];
  if (!opts.peer) for (const p of PEERS) peerInfo[p] = { status: 'skipped', reason: '--no-peer' };
  else {
    const probe = await runPeer(python, ['probe']);
    pythonVersion = probe.python;
    for (const p of PEERS) {
      const found = probe.engines?.[p];
      if (found?.version) engines.push(p);
      else peerInfo[p] = { status: 'not installed', reason: found?.error ?? probe.error ?? 'no answer from the probe' };
    }
  }

  const cluster = await new LocalCluster({ workers: 2, threads: 1, dashboardPort: -1 }).started();
  const client = await Client.connect(cluster);
  let shuffle: ShuffleScale[] | { error: string };
  try {
    // Warm-up, as the peers do: both workers load Polars and the kernels.
    await kubedaskQueries.groupby({ client, files: join(data.dir, 'in', 'flights-000.parquet'), airports, outDir: '' }).catch(() => undefined);
    for (let r = 0; r < opts.runs; r++) {
      for (const q of QUERIES) {
        if (ours[q].error && ours[q].runs.length === 0) continue; // failed before: not supported here
        const outDir = join(data.dir, 'kubedask-out');
        record(ours[q], await timed(cluster, () => kubedaskQueries[q]({ client, files: data.files, airports, outDir, progress: opts.progress === true })));
        rmSync(outDir, { recursive: true, force: true });
      }
      if (engines.length === 0) continue;
      const outDir = join(data.dir, `peer-out-${r}`);
      const round = await runPeer(python, ['run', '--files', data.files, '--airports', airports, '--out', outDir, '--engines', engines.join(','), '--threads', '2']);
      rmSync(outDir, { recursive: true, force: true });
      pythonVersion ??= round.python;
      for (const p of engines) {
        const run = round.engines?.[p];
        if (!run || run.error) {
          peerInfo[p] = { status: 'failed', reason: run?.error ?? round.error ?? 'no answer' };
          continue;
        }
        peerInfo[p] = { status: 'ok', version: run.version, threads: run.threads, ran: run.ran };
        for (const q of QUERIES) record(theirs[p][q], run.queries?.[q]);
      }
      engines = engines.filter((p) => peerInfo[p]?.status === 'ok');
    }
    shuffle = await shuffleScaling(client, join(data.dir, 'in', 'flights-000.parquet'), opts.runs).catch((err: Error) => ({ error: err.message }));
  } finally {
    await client.close();
    await cluster.close();
    rmSync(data.dir, { recursive: true, force: true });
  }

  const kubedask = { cluster: 'LocalCluster: 2 worker processes x 1 thread', queries: mapQueries((q) => summary(ours[q])) };
  const peers = Object.fromEntries(PEERS.map((p) => [p, peerInfo[p]?.status === 'ok'
    ? { ...peerInfo[p], queries: mapQueries((q) => summary(theirs[p][q])) }
    : peerInfo[p] ?? { status: 'failed', reason: 'no round ran' }]));

  const med = (s: Samples) => (s.runs.length ? median(s.runs) : undefined);
  /** peer / kubedask: above 1, kubedask is faster. */
  const ratios = Object.fromEntries(PEERS.filter((p) => peerInfo[p]?.status === 'ok').map((p) => [p, mapQueries((q) => {
    const a = med(ours[q]);
    const b = med(theirs[p][q]);
    return a !== undefined && b !== undefined ? Math.round((b / a) * 100) / 100 : null;
  })]));
  /** The same over CPU seconds (kubedask: its workers and this process), less disturbed by a loaded machine. */
  const kubedaskCpu = (q: Query) => (ours[q].cpu.length && ours[q].workersCpu.length ? median(ours[q].cpu) + median(ours[q].workersCpu) : undefined);
  const cpuRatios = Object.fromEntries(PEERS.filter((p) => peerInfo[p]?.status === 'ok').map((p) => [p, mapQueries((q) => {
    const a = kubedaskCpu(q);
    const b = theirs[p][q].cpu.length ? median(theirs[p][q].cpu) : undefined;
    return a !== undefined && b !== undefined && a > 0 ? Math.round((b / a) * 100) / 100 : null;
  })]));
  const checks = mapQueries((q) => Object.fromEntries(PEERS.filter((p) => ours[q].check && theirs[p][q].check).map((p) => {
    const diff = checkDifference(ours[q].check!, theirs[p][q].check!);
    return [p, diff ? `mismatch: ${diff}` : 'match'];
  })));

  const daskRatio = ratios.dask;
  const duckdbGroupby = ratios.duckdb?.groupby;
  const goals = {
    ...GOALS,
    met: {
      faster_than_dask: mapQueries((q) => (daskRatio?.[q] == null ? null : daskRatio[q]! >= GOALS.faster_than_dask_x)),
      groupby_within_duckdb: duckdbGroupby == null ? null : duckdbGroupby >= 1 / GOALS.groupby_within_duckdb_x,
    },
  };
  const machine = { cpus: cpus().length, cpu_model: cpus()[0]?.model, memory_gib: Math.round(totalmem() / 2 ** 30), load_avg_1m_at_start: round(loadStart), load_avg_1m_at_end: round(loadavg()[0]!) };
  return {
    bench: 'dataframe', node: process.version, machine, runs: opts.runs,
    data: { source: 'vega-datasets flights-3m.parquet', copies: opts.copies, rows: opts.copies * ROWS_PER_COPY, files: data.linked ? 'hard links' : 'copies', airports: 'vega-datasets airports.csv' },
    queries: QUERY_TEXT, python: { command: python, version: pythonVersion }, kubedask, peers, ratios, cpu_ratios: cpuRatios, checks, goals,
    shuffle_scaling: shuffle,
    notes: NOTES,
  };
}

function mapQueries<T>(f: (q: Query) => T): Record<Query, T> {
  return Object.fromEntries(QUERIES.map((q) => [q, f(q)])) as Record<Query, T>;
}

export type DataframeBenchResult = Awaited<ReturnType<typeof dataframeBench>>;

/** The short table `kubedask bench dataframe` prints without --json. */
export function dataframeTable(result: DataframeBenchResult): string {
  const cell = (s: { median_s?: number; error?: string } | undefined) => (s?.median_s !== undefined ? `${s.median_s.toFixed(2)} s` : s?.error ? 'error' : '-');
  const okPeers = PEERS.filter((p) => result.peers[p]?.status === 'ok');
  const peerQueries = (p: Peer) => (result.peers[p] as { queries?: Record<Query, { median_s?: number; error?: string }> }).queries;
  const header = ['', 'kubedask', ...okPeers, ...okPeers.map((p) => `${p}/kubedask`)];
  const rows = [header, ...QUERIES.map((q) => [
    q, cell(result.kubedask.queries[q]),
    ...okPeers.map((p) => cell(peerQueries(p)?.[q])),
    ...okPeers.map((p) => { const x = result.ratios[p]?.[q]; return x == null ? '-' : `${x.toFixed(2)}x`; }),
  ])];
  const widths = header.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
  for (const q of QUERIES) {
    const k = result.kubedask.queries[q];
    if ('error' in k && k.error) lines.push(`kubedask ${q}: ${k.error}`);
    for (const [p, verdict] of Object.entries(result.checks[q])) if (verdict !== 'match') lines.push(`${q} vs ${p}: ${verdict}`);
  }
  for (const p of PEERS) {
    const info = result.peers[p] as { status: string; reason?: string };
    if (info.status !== 'ok') lines.push(`${p}: ${info.status} (${info.reason})`);
  }
  const shuffle = result.shuffle_scaling;
  lines.push('error' in shuffle
    ? `shuffle scaling: ${shuffle.error}`
    : `shuffle of one file, P -> P partitions: ${shuffle.map((s) => `P=${s.partitions} ${s.median_s.toFixed(2)} s (${s.tasks} tasks, ${s.edges} edges)`).join('; ')}`);
  const met = result.goals.met;
  lines.push(`goals: >= ${GOALS.faster_than_dask_x}x Dask on every query: ${QUERIES.map((q) => `${q} ${met.faster_than_dask[q] ?? '-'}`).join(', ')}; group-by within ${GOALS.groupby_within_duckdb_x}x of DuckDB: ${met.groupby_within_duckdb ?? '-'}`);
  lines.push(`median of ${result.runs} run(s), ${result.data.rows.toLocaleString('en-US')} rows; ${result.machine.cpus} CPUs, load ${result.machine.load_avg_1m_at_start} at start`);
  return `${lines.join('\n')}\n`;
}
