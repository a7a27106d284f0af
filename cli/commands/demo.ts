// `kubedask demo`: the main job on the flights (DESIGN.md): read and clean on the workers
// (client/demo/flights.ts), per-airport statistics, then will a flight be late
// (client/demo/model.ts): a scaler and a logistic regression fitted on the cluster, a
// cross-validated grid over C, Hyperband over an SGD classifier, the best exported to ONNX,
// every flight scored with predictOnnx and written as Parquet. On a LocalCluster, or on a
// running cluster with --scheduler (how a DaskJob's runner uses it).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Client } from '../../client/client.js';
import { bandLine, bandStats, cleanFlights, FLIGHT_COLUMNS, originStats, originTable, readFlights } from '../../client/demo/flights.js';
import { liveStatus } from '../../client/demo/live-status.js';
import {
  C_GRID, evaluate, fitBaseline, FOLDS, HYPERBAND_MAX_ITER, LABEL, MODEL_FEATURES, modelTable, scaledTable, scoreFlights, searchGrid, searchHyperband, type Evaluation,
} from '../../client/demo/model.js';
import { LocalCluster } from '../../client/local-cluster.js';
import type { DataFrame } from '../../dataframe/frame.js';
import * as ml from '../../ml/index.js';
import type { TlsFlags } from '../definitions/option.js';
import { tlsFromFlags } from '../tls-files.js';

/** `kubedask demo` options, as ../definitions/demo.ts defines them. */
export interface DemoFlags extends TlsFlags {
  rows: number;
  workers: number;
  partitions: number;
  top: number;
  data: string;
  output: string;
  scheduler?: string;
}

/** Origins with fewer flights are not ranked: a handful of flights makes a noisy mean. */
const MIN_FLIGHTS = 1000;
const TEST_SIZE = 0.2;

export async function demoCommand(flags: DemoFlags): Promise<void> {
  const { workers, partitions, top, data } = flags;
  const tls = tlsFromFlags(flags);
  const log = (msg: string) => process.stdout.write(`${msg}\n`);
  const t0 = performance.now();
  const lap = () => `${((performance.now() - t0) / 1000).toFixed(2)}s`;
  const secs = (s: number) => `${s.toFixed(2)}s`;

  const cluster = flags.scheduler ? undefined : await new LocalCluster({ workers, threads: 1 }).started();
  const client = cluster ? await Client.connect(cluster) : await Client.connect(flags.scheduler!, { tls });
  /** Runs a step with the live status line on a terminal; its value and seconds. */
  const timed = async <T>(work: () => Promise<T>, live = false): Promise<[T, string]> => {
    const status = live ? liveStatus(client) : undefined;
    const start = performance.now();
    try {
      const value = await work();
      return [value, secs((performance.now() - start) / 1000)];
    } finally {
      await status?.stop();
    }
  };
  const kept: DataFrame[] = [];
  const persisted = (df: DataFrame) => {
    const p = df.persist({ client });
    kept.push(p);
    return p;
  };
  try {
    const dashboard = cluster?.dashboardUrl ?? client.dashboardLink;
    if (cluster) log(`[${lap()}] LocalCluster up: ${workers} workers, scheduler ${cluster.address}, dashboard ${cluster.dashboardUrl}`);
    else log(`[${lap()}] connected to the scheduler at ${flags.scheduler} (${(await client.clusterInfo()).workers.length} workers)${dashboard ? `, dashboard ${dashboard}` : ''}`);

    // 1. Load and clean: read, clean and derive once, per partition, and keep the result on the
    // workers. On a terminal each step draws a bar per task group while it runs.
    const flights = readFlights(data, { partitions, rows: flags.rows });
    log(`[${lap()}] ${flights.readPartitions} partitions of ${data} (${flights.rows} rows), columns ${FLIGHT_COLUMNS.join(', ')}`);
    const clean = persisted(cleanFlights(flights.frame));
    const [counts, cleanTime] = await timed(() => clean.count({ client, progress: true }));
    log(`[${lap()}] read and cleaned on the workers in ${cleanTime}: ${Number(counts.getColumn('delay').get(0))} flights with a delay,`
      + ` hour/weekday/month/distance band/late derived, kept in ${clean.npartitions} partition(s)`);
    const [byOrigin, originTime] = await timed(() => originStats(clean, { top, minFlights: MIN_FLIGHTS }).compute({ client, progress: true }));
    log(`[${lap()}] grouped by origin in ${originTime}; top ${byOrigin.height} origins by mean delay (>= ${MIN_FLIGHTS} flights):`);
    for (const line of originTable(byOrigin)) log(line);
    const [byBand, bandTime] = await timed(() => bandStats(clean).compute({ client, progress: true }));
    log(`[${lap()}] late flights by distance band (${bandTime}): ${bandLine(byBand)}`);

    // 2. Train: a scaler and a logistic regression, on 80 % of the flights, judged on the rest.
    const [trainAll, testAll] = ml.trainTestSplit(modelTable(clean), { testSize: TEST_SIZE, seed: 0 });
    const [train, test] = [persisted(trainAll), persisted(testAll)];
    const [trainRows, testRows] = await Promise.all([train, test].map(async (df) => Number((await df.count({ client })).getColumn(LABEL).get(0))));
    log(`[${lap()}] model: will a flight be ${LABEL} (delay > 15 min)? features ${MODEL_FEATURES.join(', ')}; ${trainRows} training rows, ${testRows} test rows`);
    const [baseline, fitTime] = await timed(() => fitBaseline(train, client), true);
    const clf = baseline.namedSteps.clf as ml.LogisticRegression;
    log(`[${lap()}] fitted StandardScaler + LogisticRegression on the workers in ${fitTime} (${clf.nIter} lbfgs iterations): test ${scores(await evaluate(baseline, test, client))}`);

    // 3. Search: a cross-validated grid over C, and Hyperband over an SGD classifier.
    const [grid, gridTime] = await timed(() => searchGrid(train, client), true);
    log(`[${lap()}] GridSearchCV over C in ${C_GRID.join(', ')} x ${FOLDS} folds (${C_GRID.length * FOLDS} fits + refit) in ${gridTime}:`
      + ` best C ${String(grid.bestParams!.clf__C)}, cross-validated AUC ${grid.bestScore!.toFixed(4)}; test ${scores(await evaluate(grid.bestEstimator!, test, client))}`);
    const scaler = grid.bestEstimator!.namedSteps.scale as ml.StandardScaler;
    const [hyperband, hyperbandTime] = await timed(() => searchHyperband(train, scaler, client), true);
    const meta = hyperband.metadata!;
    const best = hyperband.bestParams!;
    const sgdTest = await evaluate(hyperband.bestEstimator!, persisted(scaledTable(test, scaler)), client);
    log(`[${lap()}] HyperbandSearchCV over SGDClassifier (maxIter ${HYPERBAND_MAX_ITER}) in ${hyperbandTime}: ${meta.nModels} models in ${meta.brackets.length} brackets,`
      + ` ${meta.partialFitCalls} partialFit calls (training all to ${HYPERBAND_MAX_ITER}: ${meta.nModels * HYPERBAND_MAX_ITER});`
      + ` best alpha ${Number(best.alpha).toExponential(2)}, eta0 ${Number(best.eta0).toExponential(2)}, ${String(best.learningRate)}, validation log loss ${(-hyperband.bestScore!).toFixed(4)}; test ${scores(sgdTest)}`);

    // 4. Score: the grid's best exported to ONNX, every flight scored on the workers, written as Parquet.
    const output = resolve(flags.output);
    mkdirSync(output, { recursive: true });
    const model = ml.toOnnx(grid.bestEstimator!, { features: MODEL_FEATURES });
    writeFileSync(join(output, 'model.onnx'), model);
    log(`[${lap()}] the grid's best pipeline exported to ONNX: ${join(output, 'model.onnx')} (${model.byteLength} bytes)`);
    const scored = scoreFlights(clean, model);
    const start = performance.now();
    const written = await scored.toParquet(join(output, 'predictions'), { client, overwrite: true, progress: true });
    const scoreSeconds = (performance.now() - start) / 1000;
    log(`[${lap()}] scored ${written.rows} flights with predictOnnx and wrote them in ${secs(scoreSeconds)} (${Math.round(written.rows / scoreSeconds).toLocaleString('en-US')} rows/s):`
      + ` ${join(output, 'predictions')} (${written.files.length} Parquet files; columns date, origin, distance, delay, ${LABEL}, p_late)`);
    // From the cluster, not the files: on Kubernetes the workers wrote them on their own disks.
    const first = (await scored.head(3).compute({ client })).toRecords() as Array<Record<string, unknown>>;
    log(`[${lap()}] first predictions: ${first.map((r) => `${String(r.origin)} delay ${String(r.delay)} p_late ${Number(r.p_late).toFixed(3)}`).join('; ')}`);
    log(`[${lap()}] done${dashboard ? `; dashboard ${dashboard}` : ''}`);
  } finally {
    for (const df of kept) for (const b of df.bindings.values()) b.future?.release();
    await client.close();
    await cluster?.close();
  }
}

function scores(e: Evaluation): string {
  return `accuracy ${e.accuracy.toFixed(4)}, AUC ${e.auc.toFixed(4)}`;
}
