import type { Command } from 'commander';
import type { AutoscaleBenchFlags, DashboardBenchFlags, DataframeBenchFlags, GbdtBenchFlags, MlBenchFlags, OperatorBenchFlags, SchedulerBenchFlags, SearchBenchFlags, SimBenchFlags, StartupBenchFlags } from '../commands/bench.js';
import { parseCount } from '../options.js';
import { valued } from './option.js';

/** The benchmarks and their modules are loaded only when one runs (lint: only ../commands/bench.ts imports bench/). */
const load = () => import('../commands/bench.js');

export function defineBench(program: Command): void {
  const bench = program.command('bench').description('measure kubedask (and Dask where installed) on this machine');

  bench.command('scheduler')
    .description('scheduler throughput and latency, beside Dask\'s')
    .option('--json', 'print the result as one JSON line')
    .addOption(valued('--tasks <N>', 'independent tasks and tree leaves', parseCount, 5_000))
    .addOption(valued('--chain <N>', 'length of the dependent chain', parseCount, 1000))
    .addOption(valued('--repeat <R>', 'rounds; the median is reported', parseCount, 3))
    .option('--no-peer', 'skip the Dask run')
    .action(async (flags: SchedulerBenchFlags) => (await load()).schedulerBenchCommand(flags));

  bench.command('sim')
    .description('the API emulator: creates per second and watch event latency')
    .option('--json', 'print the result as one JSON line')
    .addOption(valued('--objects <N>', 'objects created', parseCount, 10_000))
    .addOption(valued('--watches <W>', 'watches open meanwhile', parseCount, 100))
    .addOption(valued('--concurrency <C>', 'creates in flight at once', parseCount, 16))
    .action(async (flags: SimBenchFlags) => (await load()).simBenchCommand(flags));

  bench.command('operator')
    .description('the operator on the emulator: apply to Ready, and many clusters converging')
    .option('--json', 'print the result as one JSON line')
    .addOption(valued('--clusters <N>', 'DaskClusters applied at once', parseCount, 200))
    .addOption(valued('--repeat <R>', 'apply-to-Ready rounds; the median is reported', parseCount, 3))
    .action(async (flags: OperatorBenchFlags) => (await load()).operatorBenchCommand(flags));

  bench.command('autoscale')
    .description('the autoscaler end to end: backlog to new pods, drain, and a bursty trace; beside Dask\'s adaptive')
    .option('--json', 'print the result as one JSON line')
    .addOption(valued('--tasks <N>', 'tasks of the backlog', parseCount, 600))
    .addOption(valued('--task-ms <MS>', 'duration of each task', parseCount, 200))
    .addOption(valued('--repeat <R>', 'backlog rounds; the median is reported', parseCount, 3))
    .addOption(valued('--bursts <B>', 'bursts in the trace', parseCount, 5))
    .addOption(valued('--burst-tasks <K>', 'tasks per burst', parseCount, 150))
    .addOption(valued('--gap-s <S>', 'seconds between bursts', parseCount, 4))
    .addOption(valued('--max-workers <M>', 'the autoscaled group\'s maximum', parseCount, 6))
    .option('--no-peer', 'skip the Dask run')
    .action(async (flags: AutoscaleBenchFlags) => (await load()).autoscaleBenchCommand(flags));

  bench.command('startup')
    .description('spawn to worker registered, LocalCluster(2) to first result, idle RSS; beside Dask\'s and Ray\'s where installed')
    .option('--json', 'print the result as one JSON line')
    .addOption(valued('--repeat <R>', 'runs; the median is reported', parseCount, 3))
    .option('--no-peer', 'skip the Dask and Ray runs')
    .action(async (flags: StartupBenchFlags) => (await load()).startupBenchCommand(flags));

  bench.command('dataframe')
    .description('DataFrame queries (group-by, join, sort, filter + write) on flights-3m x N; beside Dask DataFrame, DuckDB and Polars where installed')
    .option('--json', 'print the result as one JSON line')
    .addOption(valued('--copies <N>', 'copies of flights-3m (3 M rows each), one Parquet file each', parseCount, 10))
    .addOption(valued('--runs <R>', 'runs; the median is reported', parseCount, 3))
    .option('--python <PATH>', 'the Python with dask[dataframe], duckdb and polars (default: $KUBEDASK_BENCH_PYTHON, else python3)')
    .option('--no-peer', 'skip the Python peers')
    .action(async (flags: DataframeBenchFlags) => (await load()).dataframeBenchCommand(flags));

  bench.command('ml')
    .description('StandardScaler + LogisticRegression fit, KMeans and predictOnnx on flights-3m; beside scikit-learn and onnxruntime (Python) where installed')
    .option('--json', 'print the result as one JSON line')
    .addOption(valued('--runs <R>', 'runs; the median is reported', parseCount, 3))
    // 1,000 rows at least: fewer leave KMeans' 8 clusters and a 20 % test set too few rows.
    .addOption(valued('--rows <N>', 'only the first N rows of flights-3m, 1,000 at least (a quick run; default all 3 M)', (v, flag) => parseCount(v, flag, 1000)))
    .option('--python <PATH>', 'the Python with scikit-learn, onnxruntime and polars (default: $KUBEDASK_BENCH_PYTHON, else python3)')
    .option('--no-peer', 'skip the Python peer')
    .action(async (flags: MlBenchFlags) => (await load()).mlBenchCommand(flags));

  bench.command('search')
    .description('a 6 x 3 cross-validated grid (LogisticRegression C) on flights-3m beside scikit-learn\'s GridSearchCV and Ray Tune, then Hyperband over an SGD classifier beside Ray Tune\'s ASHA (time to a target log loss); the Python peers where installed')
    .option('--json', 'print the result as one JSON line')
    .addOption(valued('--runs <R>', 'runs; the median is reported', parseCount, 3))
    .addOption(valued('--rows <N>', 'only the first N rows of flights-3m, 1,000 at least (a quick run; default all 3 M)', (v, flag) => parseCount(v, flag, 1000)))
    .option('--python <PATH>', 'the Python with scikit-learn, polars and ray[tune] (default: $KUBEDASK_BENCH_PYTHON, else python3)')
    .option('--no-peer', 'skip the Python peers')
    .action(async (flags: SearchBenchFlags) => (await load()).searchBenchCommand(flags));

  bench.command('gbdt')
    .description('gradient-boosted trees (100 trees of 31 leaves) on flights-3m, on 2 workers and on 1; beside LightGBM and scikit-learn\'s HistGradientBoosting (Python, 2 threads) where installed')
    .option('--json', 'print the result as one JSON line')
    .addOption(valued('--repeats <R>', 'rounds; each time and the median are reported', parseCount, 1))
    // 1,000 rows at least: a fifth are the test rows, and a leaf needs 20.
    .addOption(valued('--rows <N>', 'only the first N rows of flights-3m, 1,000 at least (a quick run; default all 3 M)', (v, flag) => parseCount(v, flag, 1000)))
    .option('--python <PATH>', 'the Python with lightgbm, scikit-learn and polars (default: $KUBEDASK_BENCH_PYTHON, else python3)')
    .option('--no-peer', 'skip the Python peers')
    .action(async (flags: GbdtBenchFlags) => (await load()).gbdtBenchCommand(flags));

  bench.command('dashboard')
    .description('what the dashboard and its history cost the scheduler with many tasks and workers: none against N pages connected')
    .option('--json', 'print the result as one JSON line')
    .addOption(valued('--tasks <N>', 'tasks of the synthetic session', parseCount, 100_000))
    .addOption(valued('--workers <W>', 'workers (2 threads each)', parseCount, 100))
    .addOption(valued('--pages <P>', 'dashboard pages connected in the measured variant', parseCount, 3))
    .addOption(valued('--repeat <R>', 'rounds of each variant; the median is reported', parseCount, 3))
    .action(async (flags: DashboardBenchFlags) => (await load()).dashboardBenchCommand(flags));
}
