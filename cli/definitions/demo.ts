import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import type { DemoFlags } from '../commands/demo.js';
import { parseCount, parseHostPort } from '../options.js';
import { tlsOptions, valued } from './option.js';

const flightsData = fileURLToPath(new URL('../../../node_modules/vega-datasets/data/flights-3m.parquet', import.meta.url));

export function defineDemo(program: Command): void {
  const command = program.command('demo')
    .description('the main job on 3M flights: read, clean and derive on the workers, per-airport delay statistics, fit a scaler and a logistic regression, search C with a cross-validated grid and an SGD classifier with Hyperband, export the best to ONNX, score every flight with it and write the predictions as Parquet; on a LocalCluster or a running cluster')
    .addOption(valued('--rows <N>', 'only the first N rows of the data set are used', parseCount, Infinity, 'all'))
    .addOption(valued('--workers <N>', 'workers of the LocalCluster', parseCount, 2))
    .addOption(valued('--partitions <P>', 'partitions the data set is read in (rows per partition: its rows / P)', parseCount, 8))
    .addOption(valued('--top <N>', 'airports listed', parseCount, 10))
    .addOption(valued('--data <PATH>', 'the flights Parquet file', String, flightsData, 'flights-3m.parquet of vega-datasets'))
    .addOption(valued('--output <DIR>', 'where the model (model.onnx) and the predictions (predictions/, Parquet) go; the workers write the predictions, so on a cluster it is their file system', String, join(tmpdir(), 'kubedask-demo')))
    .addOption(valued('--scheduler <HOST:PORT>', 'run on this cluster\'s scheduler instead of a LocalCluster', parseHostPort));
  for (const option of tlsOptions()) command.addOption(option);
  command.action(async (flags: DemoFlags) => (await import('../commands/demo.js')).demoCommand(flags));
}
