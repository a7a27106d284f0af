// `kubedask bench ml`: on flights-3m (features hour, weekday, month, distance; label delay > 15)
// kubedask's StandardScaler + LogisticRegression fit, KMeans and predictOnnx, side by side in
// the same run with scikit-learn and onnxruntime in one Python process (bench/ml_peer.py).
// Rounds alternate, kubedask then the peer, so both see the same machine load; figures are medians.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pl from 'nodejs-polars';
import { Client } from '../client/client.js';
import { LocalCluster } from '../client/local-cluster.js';
import type { DataFrame } from '../dataframe/frame.js';
import { readParquet } from '../dataframe/sources.js';
import * as ml from '../ml/index.js';
import { runPythonPeer } from './python-peer.js';
import { median } from './stats.js';

export interface MlBenchOptions {
  runs: number;
  /** Only the first N rows of flights-3m (a quick run); default all 3 M. */
  rows?: number;
  /** The Python with scikit-learn, onnxruntime and polars; else $KUBEDASK_BENCH_PYTHON, else python3. */
  python?: string;
  /** Run the peer (false: kubedask only). */
  peer: boolean;
}

const source = fileURLToPath(new URL('../../node_modules/vega-datasets/data/flights-3m.parquet', import.meta.url));
const peerScript = fileURLToPath(new URL('../../bench/ml_peer.py', import.meta.url));
const FEATURES = ['hour', 'weekday', 'month', 'distance'];
/** Six partitions: three per worker of the 2-worker cluster. */
const PARTITIONS = 6;
const SUM_TOLERANCE = 1e-5;
const PEER_TIMEOUT_MS = 20 * 60_000;
const GOALS = { auc_within: 0.001, inference_rows_per_s_2_workers: 20e6, two_workers_over_one_x: 1.8 };
const NOTES = [
  `data: flights-3m (or its first --rows rows); features hour, ISO weekday and month of date, and distance, as Float64; label delay > 15; rows with a null delay dropped (flights-3m has none); kubedask reads the file in ${PARTITIONS} partitions`,
  'split: kubedask ml.trainTestSplit(testSize 0.2, seed 0), by a hash of each row\'s position in its partition; scikit-learn train_test_split(test_size=0.2, random_state=0), a shuffle of the global order. The rules differ, so each side\'s AUC is on its own test set',
  'fit: kubedask Pipeline(StandardScaler, LogisticRegression lbfgs C=1 maxIter 100 tol 1e-4) on a LocalCluster of 2 workers x 1 thread, from training rows persisted on the workers (the fit builds its shards from them: timed); scikit-learn the same pipeline in one process (BLAS/OpenMP threads 2)',
  'kmeans: 8 clusters on the training rows scaled by the fitted scaler (persisted before the clock on kubedask; scaled before the clock in Python); kubedask init k-means|| (2 rounds), scikit-learn k-means++; both one init, maxIter 300, tol 1e-4, seed 0; inertias may differ by the local optimum each init reaches',
  'predict: every row of the file scored by the fitted pipeline as ml.toOnnx bytes. kubedask: ml.predictOnnx (output proba) over the features persisted on the workers as Float32 columns (the model\'s input type), timed from submitting to the sum of proba_1 (packing the columns into row-major tensors included), after one warm-up that creates the sessions, on 1 worker and on 2 (1 thread each); Python: onnxruntime InferenceSession (intra-op threads 2) over the same bytes from a temp file, one run() of all rows as float32 (converted before the clock) plus the sum of proba[:, 1]',
  `checks.proba_1_sum: kubedask's sum of proba_1 over every row against onnxruntime's in Python (the same model, the same rows), within ${SUM_TOLERANCE} relative`,
  'ratios: peer / kubedask median seconds (above 1: kubedask is faster); predict ratios against kubedask on 2 workers',
  'predict.partitions_per_worker_2: how many of the scoring table\'s partitions each of the 2 workers holds, most first (a copy on both counts twice; 4 and 2 cap 2 workers at 1.5x one): as they landed when persisted, and after df.rebalance(), which the bench calls before scoring (partitions go to whichever worker frees a slot first)',
];

interface PeerFit { seconds: number; test_auc: number; n_iter: number }
interface PeerKmeans { seconds: number; inertia: number; n_iter: number }
interface PeerPredict { seconds: number; rows: number; proba_1_sum: number }
interface PeerOutput { python?: string; packages?: Record<string, string | null>; errors?: Record<string, string>; train_rows?: number; test_rows?: number; fit?: PeerFit; kmeans?: PeerKmeans; predict?: PeerPredict; error?: string }

/** Runs the peer script; its one JSON line, or why there is none. */
function runPeer(python: string, args: string[]): Promise<PeerOutput> {
  return runPythonPeer<PeerOutput>(python, peerScript, args, PEER_TIMEOUT_MS);
}

/** The flights file both sides read: flights-3m itself, or its first `rows` rows in a temp file. */
function dataFile(dir: string, rows: number | undefined): { file: string; rows: number } {
  if (rows === undefined) return { file: source, rows: pl.scanParquet(source).select(pl.len()).collectSync().getColumn('len').get(0) as number };
  const file = join(dir, 'flights.parquet');
  const head = pl.readParquet(source).head(rows);
  head.writeParquet(file);
  return { file, rows: head.height };
}

/**
 * The four features of every row as Float32, the scoring table (the model's input type, as the
 * peer converts its rows before its clock), and as Float64 with the label (rows that have a delay).
 */
function frames(file: string, rows: number): { every: DataFrame; labelled: DataFrame } {
  const date = pl.col('date');
  const base = readParquet(file, { columns: ['date', 'delay', 'distance'], partitionRows: Math.ceil(rows / PARTITIONS) }).withColumns(
    date.date.hour().cast(pl.Float64).alias('hour'), date.date.weekday().cast(pl.Float64).alias('weekday'),
    date.date.month().cast(pl.Float64).alias('month'), pl.col('distance').cast(pl.Float64));
  return {
    every: base.select(...FEATURES.map((f) => pl.col(f).cast(pl.Float32))),
    labelled: base.filter(pl.col('delay').isNotNull()).select(...FEATURES, pl.col('delay').gt(15).alias('late')),
  };
}

/** Persists df on the client's cluster and waits until its partitions are computed. */
async function persisted(df: DataFrame, client: Client): Promise<DataFrame> {
  const kept = df.persist({ client });
  await kept.count({ client });
  return kept;
}

/** How many of the persisted frame's partitions each worker holds, most first (one copied to both counts on both; the scheduler runs in this process). */
function partitionsPerWorker(df: DataFrame, cluster: LocalCluster): number[] {
  const state = cluster.scheduler.core.state;
  const keys = [...df.bindings.values()].map((b) => b.future?.key).filter((k): k is string => k !== undefined);
  return state.workerIds().map((w) => keys.filter((k) => state.whoHas(k).includes(w)).length).sort((a, b) => b - a);
}

async function seconds<T>(run: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const result = await run();
  return [(performance.now() - t0) / 1000, result];
}

/** Seconds to score every row of `features` and sum proba_1 (the sum forces the scoring). */
async function scoring(features: DataFrame, model: Uint8Array, client: Client): Promise<[number, number]> {
  const [s, out] = await seconds(() => ml.predictOnnx(features, model, { inputs: FEATURES, outputs: ['proba'] })
    .select(pl.col('proba_1').cast(pl.Float64).sum().alias('total')).compute({ client }));
  return [s, out.getColumn('total').get(0) as number];
}

async function startCluster(workers: number): Promise<{ cluster: LocalCluster; client: Client }> {
  const cluster = await new LocalCluster({ workers, threads: 1, dashboardPort: -1 }).started();
  return { cluster, client: await Client.connect(cluster) };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;
const med = (xs: number[]) => (xs.length ? round3(median(xs)) : null);
const ratio = (peer: number | null, ours: number | null) => (peer !== null && ours !== null && ours > 0 ? Math.round((peer / ours) * 100) / 100 : null);

export async function mlBench(opts: MlBenchOptions) {
  const python = opts.python || process.env.KUBEDASK_BENCH_PYTHON || 'python3';
  const loadStart = loadavg()[0]!;
  const dir = mkdtempSync(join(tmpdir(), 'kubedask-bench-ml-'));
  const modelFile = join(dir, 'model.onnx');
  const data = dataFile(dir, opts.rows);
  const ours = { fit: [] as number[], kmeans: [] as number[], predict1: [] as number[], predict2: [] as number[] };
  const theirs = { fit: [] as number[], kmeans: [] as number[], predict: [] as number[] };
  const last: { landed?: number[]; placement?: number[]; auc?: number; nIter?: number; converged?: boolean; inertia?: number; kmIter?: number; probaSum?: number; trainRows?: number; testRows?: number } = {};
  let peer: PeerOutput = {};
  let peerStatus: { status: string; reason?: string } = opts.peer ? { status: 'ok' } : { status: 'skipped', reason: '--no-peer' };
  if (opts.peer) {
    const probe = await runPeer(python, ['probe']);
    const missing = Object.entries(probe.packages ?? {}).filter(([, v]) => !v).map(([k]) => k);
    if (probe.error || missing.length) peerStatus = { status: 'not installed', reason: probe.error ?? `${missing.join(', ')} missing: ${Object.values(probe.errors ?? {}).join('; ')}` };
    peer = probe;
  }

  const two = await startCluster(2);
  const one = await startCluster(1);
  try {
    const { every, labelled } = frames(data.file, data.rows);
    const every2 = await persisted(every, two.client);
    last.landed = partitionsPerWorker(every2, two.cluster);
    await every2.rebalance({ client: two.client }); // as a Dask user would: partitions land where a slot freed first
    last.placement = partitionsPerWorker(every2, two.cluster);
    const every1 = await persisted(every, one.client);
    const [trainAll, testAll] = ml.trainTestSplit(await persisted(labelled, two.client), { testSize: 0.2, seed: 0 });
    const train = await persisted(trainAll, two.client);
    const test = await persisted(testAll, two.client);
    const client = two.client;
    [last.trainRows, last.testRows] = [(await train.count({ client })).getColumn('late').get(0) as number, (await test.count({ client })).getColumn('late').get(0) as number];
    let warmed = false;
    for (let r = 0; r < opts.runs; r++) {
      const pipeline = new ml.Pipeline([['scale', new ml.StandardScaler()], ['clf', new ml.LogisticRegression({ solver: 'lbfgs' })]]);
      const [fitS] = await seconds(() => pipeline.fit(train, 'late', { client }));
      ours.fit.push(fitS);
      const clf = pipeline.namedSteps.clf as ml.LogisticRegression;
      last.nIter = clf.nIter;
      last.converged = clf.converged;
      last.auc = await ml.metrics.rocAucScore(test.select('late'), pipeline.predictProba(test.select(...FEATURES)).select('proba_1'), { client });

      const scaler = pipeline.namedSteps.scale as ml.StandardScaler;
      const scaled = await persisted(scaler.transform(train.select(...FEATURES)), client);
      const [kmS, km] = await seconds(() => new ml.KMeans({ nClusters: 8, seed: 0 }).fit(scaled, undefined, { client }));
      ours.kmeans.push(kmS);
      [last.inertia, last.kmIter] = [km.inertia!, km.nIter!];

      const model = ml.toOnnx(pipeline, { features: FEATURES });
      writeFileSync(modelFile, model);
      if (!warmed) { // each worker loads onnxruntime and creates its session once
        await scoring(every2, model, two.client);
        await scoring(every1, model, one.client);
        warmed = true;
      }
      const [p2, sum] = await scoring(every2, model, two.client);
      ours.predict2.push(p2);
      last.probaSum = sum;
      ours.predict1.push((await scoring(every1, model, one.client))[0]);

      if (peerStatus.status !== 'ok') continue;
      const round = await runPeer(python, ['run', '--file', data.file, '--onnx', modelFile, '--threads', '2']);
      if (round.error || !round.fit || !round.kmeans || !round.predict) {
        peerStatus = { status: 'failed', reason: round.error ?? 'no result' };
        continue;
      }
      peer = { ...peer, ...round };
      theirs.fit.push(round.fit.seconds);
      theirs.kmeans.push(round.kmeans.seconds);
      theirs.predict.push(round.predict.seconds);
    }
  } finally {
    for (const c of [two, one]) {
      await c.client.close();
      await c.cluster.close();
    }
    rmSync(dir, { recursive: true, force: true });
  }

  const rowsPerS = (s: number | null) => (s ? Math.round(data.rows / s) : null);
  const k = { fit: med(ours.fit), kmeans: med(ours.kmeans), predict1: med(ours.predict1), predict2: med(ours.predict2) };
  const p = { fit: med(theirs.fit), kmeans: med(theirs.kmeans), predict: med(theirs.predict) };
  const kubedask = {
    cluster: 'LocalCluster: 2 worker processes x 1 thread (predict also on 1 worker x 1 thread)',
    train_rows: last.trainRows, test_rows: last.testRows,
    fit: { median_s: k.fit, runs_s: ours.fit.map(round3), test_auc: last.auc, n_iter: last.nIter, converged: last.converged },
    kmeans: { median_s: k.kmeans, runs_s: ours.kmeans.map(round3), inertia: last.inertia, n_iter: last.kmIter },
    predict: {
      rows: data.rows, proba_1_sum: last.probaSum, partitions_per_worker_2: { landed: last.landed, rebalanced: last.placement },
      one_worker: { median_s: k.predict1, runs_s: ours.predict1.map(round3), rows_per_s: rowsPerS(k.predict1) },
      two_workers: { median_s: k.predict2, runs_s: ours.predict2.map(round3), rows_per_s: rowsPerS(k.predict2) },
    },
  };
  const ok = peerStatus.status === 'ok' && theirs.fit.length > 0;
  const peerResult = ok
    ? {
      ...peerStatus, python: peer.python, packages: peer.packages, train_rows: peer.train_rows, test_rows: peer.test_rows,
      fit: { median_s: p.fit, runs_s: theirs.fit.map(round3), test_auc: peer.fit!.test_auc, n_iter: peer.fit!.n_iter },
      kmeans: { median_s: p.kmeans, runs_s: theirs.kmeans.map(round3), inertia: peer.kmeans!.inertia, n_iter: peer.kmeans!.n_iter },
      predict: { median_s: p.predict, runs_s: theirs.predict.map(round3), rows_per_s: rowsPerS(p.predict), proba_1_sum: peer.predict!.proba_1_sum },
    }
    : { ...peerStatus, python: peer.python, packages: peer.packages };
  const ratios = ok ? { fit: ratio(p.fit, k.fit), kmeans: ratio(p.kmeans, k.kmeans), predict_vs_two_workers: ratio(p.predict, k.predict2) } : {};
  const aucDiff = ok && last.auc !== undefined ? Math.abs(last.auc - peer.fit!.test_auc) : null;
  // The same bytes over the same rows: the sums of proba_1 agree but for float32 rounding.
  const sumDiff = ok && last.probaSum !== undefined ? Math.abs(last.probaSum - peer.predict!.proba_1_sum) / Math.max(1, Math.abs(last.probaSum)) : null;
  const checks = { proba_1_sum: sumDiff === null ? null : sumDiff <= SUM_TOLERANCE ? 'match' : `mismatch: relative difference ${sumDiff.toPrecision(3)}` };
  const scaling = k.predict1 !== null && k.predict2 ? Math.round((k.predict1 / k.predict2) * 100) / 100 : null;
  const goals = {
    ...GOALS,
    met: {
      fit_no_slower_with_equal_auc: ok && ratios.fit != null && aucDiff !== null ? ratios.fit >= 1 && aucDiff <= GOALS.auc_within : null,
      kmeans_no_slower: ok && ratios.kmeans != null ? ratios.kmeans >= 1 : null,
      inference_over_20m_rows_per_s_2_workers: kubedask.predict.two_workers.rows_per_s === null ? null : kubedask.predict.two_workers.rows_per_s > GOALS.inference_rows_per_s_2_workers,
      two_workers_at_least_1_8x_one: scaling === null ? null : scaling >= GOALS.two_workers_over_one_x,
    },
    auc_difference: aucDiff === null ? null : Number(aucDiff.toPrecision(3)),
    two_workers_over_one_x: scaling,
  };
  const machine = { cpus: cpus().length, cpu_model: cpus()[0]?.model, memory_gib: Math.round(totalmem() / 2 ** 30), load_avg_1m_at_start: round3(loadStart), load_avg_1m_at_end: round3(loadavg()[0]!) };
  return {
    bench: 'ml', node: process.version, machine, runs: opts.runs,
    data: { source: 'vega-datasets flights-3m.parquet', rows: data.rows, partitions: PARTITIONS, features: FEATURES, label: 'delay > 15' },
    python: { command: python }, kubedask, peer: peerResult, ratios, checks, goals, notes: NOTES,
  };
}

export type MlBenchResult = Awaited<ReturnType<typeof mlBench>>;

/** The short summary `kubedask bench ml` prints without --json. */
export function mlTable(r: MlBenchResult): string {
  const s = (x: number | null | undefined) => (x == null ? '-' : `${x.toFixed(3)} s`);
  const rate = (x: number | null | undefined) => (x == null ? '-' : `${(x / 1e6).toFixed(1)} M rows/s`);
  const k = r.kubedask;
  const peer = r.peer as Partial<{ status: string; reason: string; fit: { median_s: number; test_auc: number }; kmeans: { median_s: number; inertia: number }; predict: { median_s: number; rows_per_s: number } }>;
  const lines = [
    `fit (scaler + logistic): kubedask ${s(k.fit.median_s)} AUC ${k.fit.test_auc?.toFixed(4)} (${k.fit.n_iter} iterations) | scikit-learn ${s(peer.fit?.median_s)} AUC ${peer.fit?.test_auc?.toFixed(4) ?? '-'} | ratio ${r.ratios.fit ?? '-'}`,
    `kmeans (8): kubedask ${s(k.kmeans.median_s)} inertia ${k.kmeans.inertia?.toFixed(0)} | scikit-learn ${s(peer.kmeans?.median_s)} inertia ${peer.kmeans?.inertia?.toFixed(0) ?? '-'} | ratio ${r.ratios.kmeans ?? '-'}`,
    `predictOnnx, ${k.predict.rows.toLocaleString('en-US')} rows: 1 worker ${rate(k.predict.one_worker.rows_per_s)}, 2 workers ${rate(k.predict.two_workers.rows_per_s)} (${r.goals.two_workers_over_one_x ?? '-'}x) | onnxruntime (Python) ${rate(peer.predict?.rows_per_s)}`,
  ];
  if (r.checks.proba_1_sum && r.checks.proba_1_sum !== 'match') lines.push(`proba_1 sum against onnxruntime (Python): ${r.checks.proba_1_sum}`);
  if (peer.status !== 'ok') lines.push(`peer: ${peer.status} (${peer.reason})`);
  lines.push(`goals met: ${Object.entries(r.goals.met).map(([g, v]) => `${g} ${v ?? '-'}`).join(', ')}`);
  lines.push(`median of ${r.runs} run(s); ${r.machine.cpus} CPUs, load ${r.machine.load_avg_1m_at_start} at start, ${r.machine.load_avg_1m_at_end} at end`);
  return `${lines.join('\n')}\n`;
}
