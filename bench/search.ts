// `kubedask bench search`: a 6 x 3 cross-validated grid over LogisticRegression's C on
// flights-3m, kubedask's GridSearchCV on a LocalCluster of 2 workers beside scikit-learn's
// GridSearchCV (n_jobs 2) and Ray Tune (2 trials at once) in the same run (bench/search_peer.py);
// then HyperbandSearchCV over an SGD classifier beside Ray Tune's ASHA on the same space and
// budget, timed to a target validation log loss. Rounds alternate, kubedask then the peer;
// figures are medians.
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
const HYPERBAND = { maxIter: 27, aggressiveness: 3, scoring: 'neg_log_loss', testSize: 0.15, seed: 0 } as const;
const SPACE = { alpha: ml.logUniform(1e-6, 1e-1), eta0: ml.logUniform(1e-4, 1), learningRate: ['optimal', 'invscaling', 'constant'] };
const SPACE_TEXT = { alpha: 'logUniform(1e-6, 1e-1)', eta0: 'logUniform(1e-4, 1)', learningRate: SPACE.learningRate };
/** The target log loss is the worst of the runs' best, plus this: a score every run of both sides reached. */
const TARGET_SLACK = 0.002;
const NOTES = [
  `data: the first --rows rows of flights-3m (default all); features hour, ISO weekday and month of date, and distance, as Float64; label delay > 15; rows with a null delay dropped; kubedask reads the file in ${PARTITIONS} partitions and persists them before the clock`,
  `grid: Pipeline(StandardScaler, LogisticRegression lbfgs, maxIter 100, tol 1e-4), C in ${GRID.join(', ')}, ${FOLDS} folds, the estimator's own score (accuracy), no refit. kubedask: ml.GridSearchCV on a LocalCluster of 2 workers x 1 thread, folds by ml.KFold (a hash of each row's place); scikit-learn: GridSearchCV(n_jobs=2, cv=KFold(3, shuffle, random_state 0)); the folds differ, so the scores may differ in the last digits`,
  'ray: the same 18 fits as Ray Tune trials (tune.grid_search over C, each trial fitting its 3 folds with scikit-learn), 2 at once, one CPU each; ray.init before the clock',
  'ratios: peer / kubedask median seconds (above 1: kubedask is faster)',
  `hyperband: ml.HyperbandSearchCV(SGDClassifier log_loss, maxIter ${HYPERBAND.maxIter}, aggressiveness ${HYPERBAND.aggressiveness}, neg_log_loss, testSize ${HYPERBAND.testSize}, seed ${HYPERBAND.seed}) on the same LocalCluster, over alpha logUniform(1e-6, 1e-1), eta0 logUniform(1e-4, 1), learningRate optimal/invscaling/constant; the features scaled by a StandardScaler fitted on all rows and persisted before the clock; the seconds are fit's, splitting the rows into training and validation shards included. A partialFit call is one SGD pass over one training shard (a partition: call i of a model reads shard i mod the shard count); a model is scored once a rung`,
  'ray asha: ASHAScheduler(max_t = maxIter, grace_period 1, reduction_factor = aggressiveness, 1 bracket), as many trials as Hyperband has models (seeded draws from the same space), 2 at once, one CPU each, reuse_actors (without it every trial starts a process: 102 s against 7 s on 20,000 rows); a training iteration is one scikit-learn SGDClassifier(log_loss, shuffle=False).partial_fit on the next of as many contiguous blocks of the training rows as kubedask has training shards, then a report of the held-out log loss: Ray scores after every call where kubedask scores once a rung. The features scaled by scikit-learn\'s StandardScaler fitted on all rows, 15 % held out by a seeded draw (not the rows kubedask holds out), ray.init and the split before the clock; seconds from the start of tuner.fit',
  `time to target: the first scoring whose validation log loss is at most the target, from the start of the search (kubedask: fit's start, the search's clock shifted by what fit spent before its first model started and after its last scoring, an upper bound; Ray: tuner.fit's start, as the driver receives the result). The target is the worst best log loss of any run of either side plus ${TARGET_SLACK}, so every run reaches it`,
  'ratios: for hyperband, Ray ASHA / kubedask median seconds, in total and to the target (above 1: kubedask is faster)',
];

interface PeerGrid { seconds: number; best_C: number; best_score: number; error?: string }
interface PeerAsha { seconds: number; trials: number; partial_fit_calls: number; best_log_loss: number; best_config: Record<string, unknown>; curve: Array<[number, number]>; error?: string }
interface PeerOutput { python?: string; packages?: Record<string, string | null>; errors?: Record<string, string>; rows?: number; sklearn?: PeerGrid; ray?: PeerGrid; asha?: PeerAsha; error?: string }
type Status = { status: string; reason?: string };
/** One run of an incremental search: its seconds, and each scoring as [seconds since the start, log loss], in time order. */
interface Race { seconds: number; curve: Array<[number, number]>; bestLogLoss: number }

const round3 = (x: number) => Math.round(x * 1000) / 1000;
const round6 = (x: number) => Math.round(x * 1e6) / 1e6;
const med = (xs: number[]) => (xs.length ? round3(median(xs)) : null);
const ratio = (peer: number | null, ours: number | null) => (peer !== null && ours !== null && ours > 0 ? Math.round((peer / ours) * 100) / 100 : null);

export async function searchBench(opts: SearchBenchOptions) {
  const python = opts.python || process.env.KUBEDASK_BENCH_PYTHON || 'python3';
  const loadStart = loadavg()[0]!;
  const rows = opts.rows ?? 3_000_000;
  let peerStatus: Status = opts.peer ? { status: 'ok' } : { status: 'skipped', reason: '--no-peer' };
  let rayStatus: Status = { ...peerStatus };
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
  // ASHA has its own status: a failed grid round of Ray's does not skip it.
  const ashaPeer = { python, file, rows, status: { ...rayStatus } };

  const ours: number[] = [];
  const theirs = { sklearn: [] as number[], ray: [] as number[] };
  const last: { best?: Record<string, unknown>; bestScore?: number; means?: number[] } = {};
  let hyperband: HyperbandRounds;
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
    hyperband = await hyperbandRounds(labelled, client, ashaPeer, opts.runs);
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
  const hb = hyperbandReport(hyperband, peer.packages?.ray);
  const machine = { cpus: cpus().length, cpu_model: cpus()[0]?.model, memory_gib: Math.round(totalmem() / 2 ** 30), load_avg_1m_at_start: round3(loadStart), load_avg_1m_at_end: round3(loadavg()[0]!) };
  return {
    bench: 'search', node: process.version, machine, runs: opts.runs,
    data: { source: 'vega-datasets flights-3m.parquet', rows, partitions: PARTITIONS, features: FEATURES, label: 'delay > 15', grid: { C: GRID }, folds: FOLDS, hyperband: hb.data },
    python: { command: python },
    kubedask: { ...kubedask, hyperband: hb.kubedask },
    peers: {
      sklearn: sklearnOk ? { ...peerStatus, version: peer.packages?.sklearn, median_s: s, runs_s: theirs.sklearn.map(round3), best_C: peer.sklearn!.best_C, best_score: peer.sklearn!.best_score } : { ...peerStatus },
      ray: rayOk ? { ...rayStatus, version: peer.packages?.ray, median_s: ray, runs_s: theirs.ray.map(round3), best_C: peer.ray!.best_C, best_score: peer.ray!.best_score } : { ...rayStatus },
      ray_asha: hb.rayAsha,
    },
    ratios: { ...ratios, ...hb.ratios },
    goals: { ...GOALS, met: { grid_at_least_2x_sklearn: ratios.grid_vs_sklearn === null ? null : ratios.grid_vs_sklearn >= GOALS.grid_over_sklearn_x } },
    notes: NOTES,
  };
}

/** The hyperband part's rounds: kubedask's runs, Ray ASHA's (each with the peer's answer) and ASHA's status. */
interface HyperbandRounds {
  ours: Array<Race & { search: ml.HyperbandSearchCV<ml.SGDClassifier>; bestParams: Record<string, unknown> }>;
  ray: Array<Race & { asha: PeerAsha }>;
  status: Status;
  shards: number;
  models: number;
}

const hyperbandSearch = () => new ml.HyperbandSearchCV(new ml.SGDClassifier({ loss: 'log_loss' }), SPACE, HYPERBAND);

/** --runs rounds of kubedask's HyperbandSearchCV, each followed by Ray Tune's ASHA, on features scaled once before any clock. */
async function hyperbandRounds(labelled: DataFrame, client: Client, peer: { python: string; file: string; rows: number; status: Status }, runs: number): Promise<HyperbandRounds> {
  const scaled = await scaledFrame(labelled, client);
  // A training shard per partition: ASHA's trials get as many blocks of rows.
  const out: HyperbandRounds = { ours: [], ray: [], status: peer.status, shards: scaled.npartitions, models: hyperbandSearch().plannedMetadata.nModels };
  try {
    for (let r = 0; r < runs; r++) {
      out.ours.push(await runHyperband(scaled, client));
      if (out.status.status !== 'ok') continue;
      const args = ['asha', '--file', peer.file, '--rows', String(peer.rows), '--threads', '2', '--shards', String(out.shards), '--trials', String(out.models), '--max-t', String(HYPERBAND.maxIter)];
      const round = await runPythonPeer<PeerOutput>(peer.python, peerScript, args, PEER_TIMEOUT_MS);
      const asha = round.asha;
      if (round.error || !asha || asha.error) out.status = { status: 'failed', reason: round.error ?? asha?.error ?? 'no result' };
      else out.ray.push({ seconds: asha.seconds, curve: asha.curve, bestLogLoss: asha.best_log_loss, asha });
    }
  } finally {
    for (const b of scaled.bindings.values()) b.future?.release();
  }
  return out;
}

/** The features scaled by a StandardScaler fitted on all rows (SGD needs them scaled), the label beside them, persisted and spread over the workers. */
async function scaledFrame(labelled: DataFrame, client: Client): Promise<DataFrame> {
  const scaler = await new ml.StandardScaler().fit(labelled.select(...FEATURES), undefined, { client });
  const scaled = labelled.select(...scaler.outputExprs(), pl.col('late')).persist({ client });
  await scaled.count({ client });
  await scaled.rebalance({ client });
  return scaled;
}

async function runHyperband(scaled: DataFrame, client: Client): Promise<HyperbandRounds['ours'][number]> {
  const search = hyperbandSearch();
  const t0 = performance.now();
  await search.fit(scaled, 'late', { client });
  const seconds = (performance.now() - t0) / 1000;
  const history = search.history!.filter((h) => Number.isFinite(h.score));
  // The history's clock starts once the rows are in shards. Counting all of fit's time outside
  // it (building the shards; after the last scoring, letting them go) as before the first
  // scoring puts each point on fit's clock, late if anything.
  const setup = seconds - search.history!.at(-1)!.elapsedSeconds;
  const best = history.reduce((a, h) => (h.score > a.score ? h : a));
  const bestParams = JSON.parse(search.cvResults!.getColumn('params').get(best.modelId) as string) as Record<string, unknown>;
  return { seconds, curve: history.map((h) => [setup + h.elapsedSeconds, -h.score]), bestLogLoss: -best.score, search, bestParams };
}

/** When a run first scored the target or better: seconds from the start of its search. */
const timeToTarget = (race: Race, target: number) => race.curve.find(([, loss]) => loss <= target)?.[0] ?? null;

/** The hyperband part of the JSON: the target every run reached, each side's times to it, the ratios. */
function hyperbandReport(h: HyperbandRounds, rayVersion: string | null | undefined) {
  const target = Math.max(...[...h.ours, ...h.ray].map((r) => r.bestLogLoss)) + TARGET_SLACK;
  const times = (races: Race[]) => races.map((r) => timeToTarget(r, target)).filter((t): t is number => t !== null);
  const [ourTimes, rayTimes] = [times(h.ours), times(h.ray)];
  const last = h.ours.at(-1)!;
  const kubedask = {
    median_s: med(h.ours.map((r) => r.seconds)), runs_s: h.ours.map((r) => round3(r.seconds)),
    time_to_target_median_s: med(ourTimes), time_to_target_runs_s: ourTimes.map(round3),
    best_log_loss: round6(last.bestLogLoss), best_params: last.bestParams,
    partial_fit_calls: last.search.metadata!.partialFitCalls, models: last.search.metadata!.nModels, brackets: last.search.metadata!.brackets,
  };
  const rayOk = h.status.status === 'ok' && h.ray.length > 0;
  const asha = h.ray.at(-1)?.asha;
  const rayMedian = med(h.ray.map((r) => r.seconds));
  const rayAsha = rayOk ? {
    ...h.status, version: rayVersion, median_s: rayMedian, runs_s: h.ray.map((r) => round3(r.seconds)),
    time_to_target_median_s: med(rayTimes), time_to_target_runs_s: rayTimes.map(round3),
    best_log_loss: round6(asha!.best_log_loss), best_log_loss_runs: h.ray.map((r) => round6(r.bestLogLoss)), best_config: asha!.best_config,
    partial_fit_calls_runs: h.ray.map((r) => r.asha.partial_fit_calls), trials: asha!.trials,
  } : { ...h.status };
  const data = {
    estimator: 'SGDClassifier(log_loss)', space: SPACE_TEXT, max_iter: HYPERBAND.maxIter, aggressiveness: HYPERBAND.aggressiveness, scoring: HYPERBAND.scoring,
    test_size: HYPERBAND.testSize, seed: HYPERBAND.seed, training_shards: h.shards, models: h.models,
    target_log_loss: round6(target), target_rule: `the worst best validation log loss of any run of either side + ${TARGET_SLACK}`,
  };
  const ratios = {
    hyperband_vs_ray_asha: rayOk ? ratio(rayMedian, kubedask.median_s) : null,
    hyperband_to_target_vs_ray_asha: rayOk ? ratio(med(rayTimes), kubedask.time_to_target_median_s) : null,
  };
  return { data, kubedask, rayAsha, ratios };
}

export type SearchBenchResult = Awaited<ReturnType<typeof searchBench>>;

/** The short summary `kubedask bench search` prints without --json. */
export function searchTable(r: SearchBenchResult): string {
  const sec = (x: number | null | undefined) => (x == null ? '-' : `${x.toFixed(2)} s`);
  const peer = (p: { status: string; reason?: string; median_s?: number | null }) => (p.status === 'ok' ? sec(p.median_s) : `${p.status} (${p.reason ?? ''})`);
  const [h, hk, asha] = [r.data.hyperband, r.kubedask.hyperband, r.peers.ray_asha];
  return [
    `grid ${r.data.grid.C.length} x ${r.data.folds} on ${r.data.rows.toLocaleString('en-US')} rows: kubedask ${sec(r.kubedask.grid.median_s)} (best ${JSON.stringify(r.kubedask.grid.best_params)}) | scikit-learn ${peer(r.peers.sklearn)} | Ray Tune ${peer(r.peers.ray)}`,
    `ratios: scikit-learn / kubedask ${r.ratios.grid_vs_sklearn ?? '-'}, Ray / kubedask ${r.ratios.grid_vs_ray ?? '-'}; goal (2x scikit-learn) met: ${r.goals.met.grid_at_least_2x_sklearn ?? '-'}`,
    `hyperband (maxIter ${h.max_iter}, ${hk.models} models, ${hk.partial_fit_calls} partialFit calls) to log loss ${h.target_log_loss}: kubedask ${sec(hk.time_to_target_median_s)} of ${sec(hk.median_s)} (best ${hk.best_log_loss}) | Ray ASHA ${'median_s' in asha ? `${sec(asha.time_to_target_median_s)} of ${sec(asha.median_s)} (best ${asha.best_log_loss}, ${asha.partial_fit_calls_runs.at(-1)} calls)` : peer(asha)}; Ray / kubedask ${r.ratios.hyperband_to_target_vs_ray_asha ?? '-'} to the target, ${r.ratios.hyperband_vs_ray_asha ?? '-'} in total`,
    `median of ${r.runs} run(s); ${r.machine.cpus} CPUs, load ${r.machine.load_avg_1m_at_start} at start, ${r.machine.load_avg_1m_at_end} at end`,
    '',
  ].join('\n');
}
