// `kubedask bench search`: a 6 x 3 cross-validated grid over LogisticRegression's C on
// flights-3m, kubedask's GridSearchCV on a LocalCluster of 2 workers beside scikit-learn's
// GridSearchCV (n_jobs 2) and Ray Tune (2 trials at once) in the same run (bench/search_peer.py).
// Rounds alternate, kubedask then the peer; figures are medians.
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pl from 'nodejs-polars';
import { Client } from '../client/client.js';
import { LocalCluster } from '../client/local-cluster.js';
import { readParquet } from '../dataframe/sources.js';
import * as ml from '../ml/index.js';
import { runPythonPeer } from './python-peer.js';
import { median } from './stats.js';

export interface SearchBenchOptions {
  runs: number;
  /** Only the first N rows of flights-3m (a quick run); default all 3 M. */
  rows?: number;
  /** The Python with scikit-learn, polars and ray; else $KUBEDASK_BENCH_PYTHON, else python3. */
  python?: string;
  /** Run the peers (false: kubedask only). */
  peer: boolean;
}

const source = fileURLToPath(new URL('../../node_modules/vega-datasets/data/flights-3m.parquet', import.meta.url));
const peerScript = fileURLToPath(new URL('../../bench/search_peer.py', import.meta.url));
const FEATURES = ['hour', 'weekday', 'month', 'distance'];
const GRID = [0.001, 0.01, 0.1, 1, 10, 100];
const FOLDS = 3;
const PARTITIONS = 6;
const PEER_TIMEOUT_MS = 20 * 60_000;
const GOALS = { grid_over_sklearn_x: 2 };
const NOTES = [
  `data: the first --rows rows of flights-3m (default all); features hour, ISO weekday and month of date, and distance, as Float64; label delay > 15; rows with a null delay dropped; kubedask reads the file in ${PARTITIONS} partitions and persists them before the clock`,
  `grid: Pipeline(StandardScaler, LogisticRegression lbfgs, maxIter 100, tol 1e-4), C in ${GRID.join(', ')}, ${FOLDS} folds, the estimator's own score (accuracy), no refit. kubedask: ml.GridSearchCV on a LocalCluster of 2 workers x 1 thread, folds by ml.KFold (a hash of each row's place); scikit-learn: GridSearchCV(n_jobs=2, cv=KFold(3, shuffle, random_state 0)); the folds differ, so the scores may differ in the last digits`,
  'ray: the same 18 fits as Ray Tune trials (tune.grid_search over C, each trial fitting its 3 folds with scikit-learn), 2 at once, one CPU each; ray.init before the clock',
  'ratios: peer / kubedask median seconds (above 1: kubedask is faster)',
  'hyperband against Ray Tune\'s ASHA: not measured yet (HyperbandSearchCV is not built)',
];

interface PeerGrid { seconds: number; best_C: number; best_score: number; error?: string }
interface PeerOutput { python?: string; packages?: Record<string, string | null>; errors?: Record<string, string>; rows?: number; sklearn?: PeerGrid; ray?: PeerGrid; error?: string }

const round3 = (x: number) => Math.round(x * 1000) / 1000;
const med = (xs: number[]) => (xs.length ? round3(median(xs)) : null);
const ratio = (peer: number | null, ours: number | null) => (peer !== null && ours !== null && ours > 0 ? Math.round((peer / ours) * 100) / 100 : null);

export async function searchBench(opts: SearchBenchOptions) {
  const python = opts.python || process.env.KUBEDASK_BENCH_PYTHON || 'python3';
  const loadStart = loadavg()[0]!;
  const rows = opts.rows ?? 3_000_000;
  let peerStatus: { status: string; reason?: string } = opts.peer ? { status: 'ok' } : { status: 'skipped', reason: '--no-peer' };
  let rayStatus: { status: string; reason?: string } = { ...peerStatus };
  let peer: PeerOutput = {};
  if (opts.peer) {
    peer = await runPythonPeer<PeerOutput>(python, peerScript, ['probe'], PEER_TIMEOUT_MS);
    const p = peer.packages ?? {};
    if (peer.error || !p.sklearn || !p.polars) peerStatus = { status: 'not installed', reason: peer.error ?? `scikit-learn or polars missing: ${Object.values(peer.errors ?? {}).join('; ')}` };
    rayStatus = peerStatus.status !== 'ok' ? peerStatus : p.ray ? { status: 'ok' } : { status: 'not installed', reason: peer.errors?.ray ?? 'ray missing' };
  }
  const dir = mkdtempSync(join(tmpdir(), 'kubedask-bench-search-'));
  const file = join(dir, 'flights.parquet');
  pl.readParquet(source).head(rows).writeParquet(file);

  const ours: number[] = [];
  const theirs = { sklearn: [] as number[], ray: [] as number[] };
  const last: { best?: Record<string, unknown>; bestScore?: number; means?: number[] } = {};
  const cluster = await new LocalCluster({ workers: 2, threads: 1, dashboardPort: -1 }).started();
  const client = await Client.connect(cluster);
  try {
    const date = pl.col('date');
    const labelled = readParquet(file, { columns: ['date', 'delay', 'distance'], partitionRows: Math.ceil(rows / PARTITIONS) })
      .filter(pl.col('delay').isNotNull())
      .select(date.date.hour().cast(pl.Float64).alias('hour'), date.date.weekday().cast(pl.Float64).alias('weekday'),
        date.date.month().cast(pl.Float64).alias('month'), pl.col('distance').cast(pl.Float64), pl.col('delay').gt(15).alias('late'))
      .persist({ client });
    await labelled.count({ client });
    await labelled.rebalance({ client });
    for (let r = 0; r < opts.runs; r++) {
      const pipeline = new ml.Pipeline([['scale', new ml.StandardScaler()], ['clf', new ml.LogisticRegression({ solver: 'lbfgs' })]]);
      const t0 = performance.now();
      const search = await new ml.GridSearchCV(pipeline, { clf__C: GRID }, { cv: FOLDS, refit: false }).fit(labelled, 'late', { client });
      ours.push((performance.now() - t0) / 1000);
      [last.best, last.bestScore] = [search.bestParams, search.bestScore];
      last.means = search.cvResults!.getColumn('mean_test_score').toArray() as number[];

      if (peerStatus.status !== 'ok') continue;
      const args = ['run', '--file', file, '--rows', String(rows), '--threads', '2', ...(rayStatus.status === 'ok' ? [] : ['--no-ray'])];
      const round = await runPythonPeer<PeerOutput>(python, peerScript, args, PEER_TIMEOUT_MS);
      if (round.error || !round.sklearn) {
        peerStatus = rayStatus = { status: 'failed', reason: round.error ?? 'no result' };
        continue;
      }
      peer = { ...peer, ...round };
      theirs.sklearn.push(round.sklearn.seconds);
      if (rayStatus.status === 'ok') {
        if (round.ray && !round.ray.error) theirs.ray.push(round.ray.seconds);
        else rayStatus = { status: 'failed', reason: round.ray?.error ?? 'no result' };
      }
    }
  } finally {
    await client.close();
    await cluster.close();
    rmSync(dir, { recursive: true, force: true });
  }

  const k = med(ours);
  const s = med(theirs.sklearn);
  const ray = med(theirs.ray);
  const kubedask = {
    cluster: 'LocalCluster: 2 worker processes x 1 thread',
    grid: { median_s: k, runs_s: ours.map(round3), best_params: last.best, best_score: last.bestScore, mean_test_score: last.means },
  };
  const sklearnOk = peerStatus.status === 'ok' && theirs.sklearn.length > 0;
  const rayOk = rayStatus.status === 'ok' && theirs.ray.length > 0;
  const ratios = { grid_vs_sklearn: sklearnOk ? ratio(s, k) : null, grid_vs_ray: rayOk ? ratio(ray, k) : null };
  const machine = { cpus: cpus().length, cpu_model: cpus()[0]?.model, memory_gib: Math.round(totalmem() / 2 ** 30), load_avg_1m_at_start: round3(loadStart), load_avg_1m_at_end: round3(loadavg()[0]!) };
  return {
    bench: 'search', node: process.version, machine, runs: opts.runs,
    data: { source: 'vega-datasets flights-3m.parquet', rows, partitions: PARTITIONS, features: FEATURES, label: 'delay > 15', grid: { C: GRID }, folds: FOLDS },
    python: { command: python },
    kubedask,
    peers: {
      sklearn: sklearnOk ? { ...peerStatus, version: peer.packages?.sklearn, median_s: s, runs_s: theirs.sklearn.map(round3), best_C: peer.sklearn!.best_C, best_score: peer.sklearn!.best_score } : { ...peerStatus },
      ray: rayOk ? { ...rayStatus, version: peer.packages?.ray, median_s: ray, runs_s: theirs.ray.map(round3), best_C: peer.ray!.best_C, best_score: peer.ray!.best_score } : { ...rayStatus },
    },
    ratios,
    goals: { ...GOALS, met: { grid_at_least_2x_sklearn: ratios.grid_vs_sklearn === null ? null : ratios.grid_vs_sklearn >= GOALS.grid_over_sklearn_x } },
    notes: NOTES,
  };
}

export type SearchBenchResult = Awaited<ReturnType<typeof searchBench>>;

/** The short summary `kubedask bench search` prints without --json. */
export function searchTable(r: SearchBenchResult): string {
  const sec = (x: number | null | undefined) => (x == null ? '-' : `${x.toFixed(2)} s`);
  const peer = (p: { status: string; reason?: string; median_s?: number | null }) => (p.status === 'ok' ? sec(p.median_s) : `${p.status} (${p.reason ?? ''})`);
  return [
    `grid ${r.data.grid.C.length} x ${r.data.folds} on ${r.data.rows.toLocaleString('en-US')} rows: kubedask ${sec(r.kubedask.grid.median_s)} (best ${JSON.stringify(r.kubedask.grid.best_params)}) | scikit-learn ${peer(r.peers.sklearn)} | Ray Tune ${peer(r.peers.ray)}`,
    `ratios: scikit-learn / kubedask ${r.ratios.grid_vs_sklearn ?? '-'}, Ray / kubedask ${r.ratios.grid_vs_ray ?? '-'}; goal (2x scikit-learn) met: ${r.goals.met.grid_at_least_2x_sklearn ?? '-'}`,
    `median of ${r.runs} run(s); ${r.machine.cpus} CPUs, load ${r.machine.load_avg_1m_at_start} at start, ${r.machine.load_avg_1m_at_end} at end`,
    '',
  ].join('\n');
}
