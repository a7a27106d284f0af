// `kubedask bench gbdt`: gradient-boosted trees on flights-3m (features hour, weekday, month,
// distance; label delay > 15; every fifth row held out), kubedask's HistGradientBoostingClassifier
// on a LocalCluster of 2 workers and of 1, side by side in the same run with LightGBM and
// scikit-learn's HistGradientBoostingClassifier (2 threads each) in one Python process
// (bench/gbdt_peer.py). Rounds alternate, kubedask then the peer; figures are medians.
import { mkdtempSync, rmSync } from 'node:fs';
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

export interface GbdtBenchOptions {
  /** Rounds; each time and the median are reported. */
  repeats: number;
  /** Only the first N rows of flights-3m (a quick run); default all 3 M. */
  rows?: number;
  /** The Python with lightgbm, scikit-learn and polars; else $KUBEDASK_BENCH_PYTHON, else python3. */
  python?: string;
  /** Run the peers (false: kubedask only). */
  peer: boolean;
}

const source = fileURLToPath(new URL('../../node_modules/vega-datasets/data/flights-3m.parquet', import.meta.url));
const peerScript = fileURLToPath(new URL('../../bench/gbdt_peer.py', import.meta.url));
const FEATURES = ['hour', 'weekday', 'month', 'distance'];
/** The training rows in two partitions: one per worker of the 2-worker cluster. */
const PARTITIONS = 2;
const THREADS = 2;
const PEER_TIMEOUT_MS = 30 * 60_000;
const PARAMS = { maxIter: 100, maxLeafNodes: 31, learningRate: 0.1, minSamplesLeaf: 20, l2Regularization: 0, maxBins: 255, earlyStopping: false } as const;
const PEER_PARAMS = {
  lightgbm: 'LGBMClassifier(n_estimators=100, num_leaves=31, learning_rate=0.1, min_child_samples=20, reg_lambda=0, max_bin=255, min_child_weight=1e-3, num_threads=2, deterministic=True, verbose=-1)',
  sklearn: 'HistGradientBoostingClassifier(max_iter=100, max_leaf_nodes=31, learning_rate=0.1, min_samples_leaf=20, l2_regularization=0, max_bins=255, early_stopping=False, random_state=0) under threadpool_limits(2)',
};
export const GBDT_GOALS = { lightgbm_over_kubedask_x: 1, auc_within: 0.003, two_workers_over_one_x: 1.7 };
const NOTES = [
  'data: flights-3m (or its first --rows rows); features hour, ISO weekday and month of date, and distance, as Float64; label delay > 15; rows with a null delay dropped (flights-3m has none)',
  'split: test rows are those whose 0-based row index in the file is a multiple of 5, the others train (2.4 M training rows on the whole file); both sides build the same rows with Polars before any clock (checks.same_rows compares the counts and positives)',
  `kubedask: ml.HistGradientBoostingClassifier(${JSON.stringify(PARAMS)}).fit(train, 'late') on a LocalCluster of 2 worker processes x 1 thread, the training rows in ${PARTITIONS} partitions persisted and rebalanced (one a worker) before the clock, timed from fit() to its return (binning and shards included); the test AUC by ml.metrics.rocAucScore of predictProba, not timed. Then the same fit on a LocalCluster of 1 worker x 1 thread over the same partitions (both clusters run throughout; the idle one does nothing)`,
  `peers: one Python process a round (bench/gbdt_peer.py), LightGBM then scikit-learn, each timed over fit() (binning included); LightGBM ${PEER_PARAMS.lightgbm}; scikit-learn ${PEER_PARAMS.sklearn}; test AUC by sklearn.metrics.roc_auc_score of predict_proba`,
  'ratios: peer / kubedask median seconds on 2 workers (above 1: kubedask is faster); two_workers_over_one: 1-worker / 2-worker median seconds',
  'peers.lightgbm.one_thread: the same LightGBM fit on 1 thread (a third Python process a round); ratios.lightgbm_two_threads_over_one is what a second core gives LightGBM on this machine, the yardstick for two_workers_over_one',
  `goals: kubedask on 2 workers no slower than LightGBM (ratio >= ${GBDT_GOALS.lightgbm_over_kubedask_x}) with the test AUCs within ${GBDT_GOALS.auc_within}; 2 workers at least ${GBDT_GOALS.two_workers_over_one_x}x faster than 1`,
  'checks.same_model_1_and_2_workers: the trees fitted on 1 worker and on 2 are the same to the bit (JSON of the ensembles, every round)',
];

type Status = { status: string; reason?: string };
interface PeerFit { seconds: number; test_auc: number; n_trees?: number; n_iter?: number; error?: string }
interface Rows { train_rows: number; test_rows: number; train_positives: number; test_positives: number }
interface PeerOutput extends Partial<Rows> { python?: string; packages?: Record<string, string | null>; errors?: Record<string, string>; lightgbm?: PeerFit; sklearn?: PeerFit; error?: string }

/** What a run measured, before it is summed up (gbdtReport). */
export interface GbdtMeasured {
  repeats: number;
  python: string;
  rows: number;
  split: Rows;
  machine: { cpus: number; cpu_model: string | undefined; memory_gib: number; load_avg_1m_at_start: number; load_avg_1m_at_end: number };
  kubedask: { two_s: number[]; one_s: number[]; testAuc?: number; nIter?: number; trees?: number; sameModel: boolean[]; partitionsPerWorker?: { two: number[]; one: number[] } };
  peer: {
    python?: string; packages?: Record<string, string | null>; split?: Partial<Rows>;
    /** one_thread_s: the same fit on 1 thread, the machine's yardstick for 2 workers over 1. */
    lightgbm: Status & { runs_s: number[]; test_auc?: number; n_trees?: number; one_thread_s?: number[] };
    sklearn: Status & { runs_s: number[]; test_auc?: number; n_iter?: number };
  };
}

/** The flights file both sides read: flights-3m itself, or its first `rows` rows in a temp file. */
function dataFile(dir: string, rows: number | undefined): string {
  if (rows === undefined) return source;
  const file = join(dir, 'flights.parquet');
  pl.readParquet(source).head(rows).writeParquet(file);
  return file;
}

/** The features and label of every row with a delay, split by row index into train.parquet and test.parquet (as the peer does). */
function splitFiles(file: string, dir: string): Rows & { rows: number; trainFile: string; testFile: string } {
  const date = pl.col('date');
  const all = pl.readParquet(file).select('date', 'delay', 'distance').withRowIndex('row');
  const df = all.filter(pl.col('delay').isNotNull()).select(
    date.date.hour().cast(pl.Float64).alias('hour'), date.date.weekday().cast(pl.Float64).alias('weekday'),
    date.date.month().cast(pl.Float64).alias('month'), pl.col('distance').cast(pl.Float64),
    pl.col('delay').gt(15).alias('late'), pl.col('row').modulo(5).eq(0).alias('test'));
  const train = df.filter(pl.col('test').not()).drop('test');
  const test = df.filter(pl.col('test')).drop('test');
  const [trainFile, testFile] = [join(dir, 'train.parquet'), join(dir, 'test.parquet')];
  train.writeParquet(trainFile);
  test.writeParquet(testFile);
  const positives = (f: pl.DataFrame) => Number(f.getColumn('late').cast(pl.Int64).sum());
  return { rows: all.height, trainFile, testFile, train_rows: train.height, test_rows: test.height, train_positives: positives(train), test_positives: positives(test) };
}

/** A file's rows in `PARTITIONS` partitions, persisted on the client's cluster and spread over its workers. */
async function persisted(file: string, rows: number, client: Client): Promise<DataFrame> {
  const kept = readParquet(file, { partitionRows: Math.ceil(rows / PARTITIONS) }).persist({ client });
  await kept.count({ client });
  await kept.rebalance({ client });
  return kept;
}

/** How many of the persisted frame's partitions each worker holds, most first (the scheduler runs in this process). */
function partitionsPerWorker(df: DataFrame, cluster: LocalCluster): number[] {
  const state = cluster.scheduler.core.state;
  const keys = [...df.bindings.values()].map((b) => b.future?.key).filter((k): k is string => k !== undefined);
  return state.workerIds().map((w) => keys.filter((k) => state.whoHas(k).includes(w)).length).sort((a, b) => b - a);
}

async function startCluster(workers: number): Promise<{ cluster: LocalCluster; client: Client }> {
  const cluster = await new LocalCluster({ workers, threads: 1, dashboardPort: -1 }).started();
  return { cluster, client: await Client.connect(cluster) };
}

async function timedFit(train: DataFrame, client: Client): Promise<[number, ml.HistGradientBoostingClassifier]> {
  const model = new ml.HistGradientBoostingClassifier({ ...PARAMS });
  const t0 = performance.now();
  await model.fit(train, 'late', { client });
  return [(performance.now() - t0) / 1000, model];
}

/** Each peer's status from the probe: LGBMClassifier is LightGBM's scikit-learn API, so both need scikit-learn (and polars for the data). */
function peerStatuses(probe: PeerOutput): { lightgbm: Status; sklearn: Status } {
  if (probe.error) return { lightgbm: { status: 'not installed', reason: probe.error }, sklearn: { status: 'not installed', reason: probe.error } };
  const p = probe.packages ?? {};
  const why = (names: string[]): Status => {
    const missing = names.filter((n) => !p[n]);
    return missing.length ? { status: 'not installed', reason: `${missing.join(', ')} missing: ${missing.map((n) => probe.errors?.[n] ?? 'no version').join('; ')}` } : { status: 'ok' };
  };
  return { lightgbm: why(['polars', 'sklearn', 'lightgbm']), sklearn: why(['polars', 'sklearn', 'threadpoolctl']) };
}

export async function gbdtBench(opts: GbdtBenchOptions) {
  const python = opts.python || process.env.KUBEDASK_BENCH_PYTHON || 'python3';
  const loadStart = loadavg()[0]!;
  const dir = mkdtempSync(join(tmpdir(), 'kubedask-bench-gbdt-'));
  const skipped: Status = { status: 'skipped', reason: '--no-peer' };
  const peer: GbdtMeasured['peer'] = { lightgbm: { ...skipped, runs_s: [] }, sklearn: { ...skipped, runs_s: [] } };
  const ours: GbdtMeasured['kubedask'] = { two_s: [], one_s: [], sameModel: [] };
  let data: ReturnType<typeof splitFiles>;
  try {
    if (opts.peer) {
      const probe = await runPythonPeer<PeerOutput>(python, peerScript, ['probe'], PEER_TIMEOUT_MS);
      const s = peerStatuses(probe);
      Object.assign(peer.lightgbm, { status: s.lightgbm.status, reason: s.lightgbm.reason });
      Object.assign(peer.sklearn, { status: s.sklearn.status, reason: s.sklearn.reason });
      [peer.python, peer.packages] = [probe.python, probe.packages];
    }
    const file = dataFile(dir, opts.rows);
    data = splitFiles(file, dir);

    const two = await startCluster(2);
    const one = await startCluster(1);
    try {
      const train2 = await persisted(data.trainFile, data.train_rows, two.client);
      const test2 = await persisted(data.testFile, data.test_rows, two.client);
      const train1 = await persisted(data.trainFile, data.train_rows, one.client);
      ours.partitionsPerWorker = { two: partitionsPerWorker(train2, two.cluster), one: partitionsPerWorker(train1, one.cluster) };
      for (let r = 0; r < opts.repeats; r++) {
        const [s2, model2] = await timedFit(train2, two.client);
        ours.two_s.push(s2);
        ours.testAuc = await ml.metrics.rocAucScore(test2.select('late'), model2.predictProba(test2.drop('late')), { client: two.client });
        [ours.nIter, ours.trees] = [model2.nIter, model2.ensemble?.trees.length];
        const [s1, model1] = await timedFit(train1, one.client);
        ours.one_s.push(s1);
        ours.sameModel.push(JSON.stringify(model1.ensemble) === JSON.stringify(model2.ensemble));

        const wanted = (['lightgbm', 'sklearn'] as const).filter((name) => peer[name].status === 'ok');
        if (!wanted.length) continue;
        const args = ['run', '--file', file, '--threads', String(THREADS), ...(wanted.includes('lightgbm') ? [] : ['--no-lightgbm']), ...(wanted.includes('sklearn') ? [] : ['--no-sklearn'])];
        const round = await runPythonPeer<PeerOutput>(python, peerScript, args, PEER_TIMEOUT_MS);
        if (!round.error) peer.split = { train_rows: round.train_rows, test_rows: round.test_rows, train_positives: round.train_positives, test_positives: round.test_positives };
        for (const name of wanted) {
          const fit = round[name];
          if (round.error || !fit || fit.error) {
            Object.assign(peer[name], { status: 'failed', reason: round.error ?? fit?.error ?? 'no result' });
            continue;
          }
          peer[name].runs_s.push(fit.seconds);
          peer[name].test_auc = fit.test_auc;
          if (name === 'lightgbm') peer.lightgbm.n_trees = fit.n_trees;
          else peer.sklearn.n_iter = fit.n_iter;
        }
        if (peer.lightgbm.status !== 'ok') continue;
        const single = await runPythonPeer<PeerOutput>(python, peerScript, ['run', '--file', file, '--threads', '1', '--no-sklearn'], PEER_TIMEOUT_MS);
        if (single.lightgbm?.seconds !== undefined && !single.lightgbm.error) (peer.lightgbm.one_thread_s ??= []).push(single.lightgbm.seconds);
      }
    } finally {
      for (const c of [two, one]) {
        await c.client.close();
        await c.cluster.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const machine = { cpus: cpus().length, cpu_model: cpus()[0]?.model, memory_gib: Math.round(totalmem() / 2 ** 30), load_avg_1m_at_start: round3(loadStart), load_avg_1m_at_end: round3(loadavg()[0]!) };
  const { rows, train_rows, test_rows, train_positives, test_positives } = data;
  return gbdtReport({ repeats: opts.repeats, python, rows, split: { train_rows, test_rows, train_positives, test_positives }, machine, kubedask: ours, peer });
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;
const round6 = (x: number) => Math.round(x * 1e6) / 1e6;
const med = (xs: number[]) => (xs.length ? round3(median(xs)) : null);
const ratio = (num: number | null, den: number | null) => (num !== null && den !== null && den > 0 ? Math.round((num / den) * 100) / 100 : null);

/** The JSON `kubedask bench gbdt` prints: medians, ratios, checks and goals of what a run measured. */
export function gbdtReport(m: GbdtMeasured) {
  const k = m.kubedask;
  const [two, one] = [med(k.two_s), med(k.one_s)];
  const peerResult = <T extends Status & { runs_s: number[]; test_auc?: number }>(p: T, version: string | null | undefined) => {
    if (p.status !== 'ok' || !p.runs_s.length) return { status: p.status === 'ok' ? 'failed' : p.status, reason: p.reason ?? 'no result' };
    const { runs_s: runs, one_thread_s: single, ...rest } = p as T & { one_thread_s?: number[] };
    return { ...rest, version, median_s: med(runs), runs_s: runs.map(round3), ...(single?.length ? { one_thread: { median_s: med(single), runs_s: single.map(round3) } } : {}) };
  };
  const lightgbm = peerResult(m.peer.lightgbm, m.peer.packages?.lightgbm);
  const sklearn = peerResult(m.peer.sklearn, m.peer.packages?.sklearn);
  const medianOf = (p: typeof lightgbm) => ('median_s' in p ? p.median_s : null);
  const aucOf = (p: typeof lightgbm) => ('median_s' in p ? p.test_auc ?? null : null);
  const aucDiff = (p: typeof lightgbm) => (k.testAuc !== undefined && aucOf(p) !== null ? round6(k.testAuc - aucOf(p)!) : null);
  const ratios = {
    lightgbm_over_kubedask: ratio(medianOf(lightgbm), two), sklearn_over_kubedask: ratio(medianOf(sklearn), two), two_workers_over_one: ratio(one, two),
    lightgbm_two_threads_over_one: 'one_thread' in lightgbm ? ratio(lightgbm.one_thread!.median_s, medianOf(lightgbm)) : null,
  };
  const auc = { kubedask_minus_lightgbm: aucDiff(lightgbm), kubedask_minus_sklearn: aucDiff(sklearn) };
  const peerSplit = m.peer.split;
  const sameRows = peerSplit === undefined ? null
    : (['train_rows', 'test_rows', 'train_positives', 'test_positives'] as const).every((key) => peerSplit[key] === m.split[key]) ? 'match'
      : `mismatch: kubedask ${JSON.stringify(m.split)}, peer ${JSON.stringify(peerSplit)}`;
  const goals = {
    ...GBDT_GOALS,
    met: {
      no_slower_than_lightgbm_at_equal_auc: ratios.lightgbm_over_kubedask === null || auc.kubedask_minus_lightgbm === null ? null
        : ratios.lightgbm_over_kubedask >= GBDT_GOALS.lightgbm_over_kubedask_x && Math.abs(auc.kubedask_minus_lightgbm) <= GBDT_GOALS.auc_within,
      two_workers_at_least_1_7x_one: ratios.two_workers_over_one === null ? null : ratios.two_workers_over_one >= GBDT_GOALS.two_workers_over_one_x,
    },
    auc_difference: auc,
  };
  return {
    bench: 'gbdt', node: process.version, machine: m.machine, repeats: m.repeats,
    data: {
      source: 'vega-datasets flights-3m.parquet', rows: m.rows, features: FEATURES, label: 'delay > 15', split: 'test: 0-based row index % 5 == 0; train: the rest',
      ...m.split, partitions: PARTITIONS,
    },
    params: { kubedask: PARAMS, ...PEER_PARAMS },
    python: { command: m.python, version: m.peer.python },
    kubedask: {
      cluster: 'LocalCluster: 2 worker processes x 1 thread, and 1 worker x 1 thread',
      partitions_per_worker: k.partitionsPerWorker,
      two_workers: { median_s: two, runs_s: k.two_s.map(round3), test_auc: k.testAuc === undefined ? null : round6(k.testAuc), n_iter: k.nIter, trees: k.trees },
      one_worker: { median_s: one, runs_s: k.one_s.map(round3) },
    },
    peers: {
      lightgbm: 'test_auc' in lightgbm ? { ...lightgbm, test_auc: round6(lightgbm.test_auc!) } : lightgbm,
      sklearn: 'test_auc' in sklearn ? { ...sklearn, test_auc: round6(sklearn.test_auc!) } : sklearn,
    },
    ratios,
    checks: { same_rows: sameRows, same_model_1_and_2_workers: k.sameModel.length ? k.sameModel.every(Boolean) : null },
    goals,
    notes: NOTES,
  };
}

export type GbdtBenchResult = ReturnType<typeof gbdtReport>;

/** The short summary `kubedask bench gbdt` prints without --json. */
export function gbdtTable(r: GbdtBenchResult): string {
  const s = (x: number | null | undefined) => (x == null ? '-' : `${x.toFixed(2)} s`);
  const auc = (x: number | null | undefined) => (x == null ? '-' : x.toFixed(4));
  const peer = (p: { status: string; reason?: string; median_s?: number | null; test_auc?: number }) => (p.status === 'ok' ? `${s(p.median_s)} AUC ${auc(p.test_auc)}` : `${p.status} (${p.reason ?? ''})`);
  const k = r.kubedask;
  const lines = [
    `100 trees, ${r.data.train_rows.toLocaleString('en-US')} training rows: kubedask 2 workers ${s(k.two_workers.median_s)} AUC ${auc(k.two_workers.test_auc)}, 1 worker ${s(k.one_worker.median_s)} (${r.ratios.two_workers_over_one ?? '-'}x) | LightGBM ${peer(r.peers.lightgbm)} | scikit-learn ${peer(r.peers.sklearn)}`,
    `ratios: LightGBM / kubedask ${r.ratios.lightgbm_over_kubedask ?? '-'} (AUC difference ${r.goals.auc_difference.kubedask_minus_lightgbm ?? '-'}), scikit-learn / kubedask ${r.ratios.sklearn_over_kubedask ?? '-'}; LightGBM 2 threads over 1 ${r.ratios.lightgbm_two_threads_over_one ?? '-'}x`,
  ];
  if (r.checks.same_rows && r.checks.same_rows !== 'match') lines.push(`rows against the peer: ${r.checks.same_rows}`);
  if (r.checks.same_model_1_and_2_workers === false) lines.push('the models fitted on 1 worker and on 2 differ');
  lines.push(`goals met: ${Object.entries(r.goals.met).map(([g, v]) => `${g} ${v ?? '-'}`).join(', ')}`);
  lines.push(`median of ${r.repeats} run(s); ${r.machine.cpus} CPUs, load ${r.machine.load_avg_1m_at_start} at start, ${r.machine.load_avg_1m_at_end} at end`);
  return `${lines.join('\n')}\n`;
}
