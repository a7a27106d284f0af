// Histogram gradient boosting's shard kernels (ml/ensemble): a sample of the training rows for
// the bin edges, with the target sums the baseline needs; a round of a fit on its state; and a
// fitted ensemble's scores on held-out shards.
import type { Shard } from '../core/matrix.js';
import { runRound } from '../ensemble/rounds.js';
import { heldOut, rowUniform, SAMPLE_STREAM } from '../ensemble/state.js';
import { scoreSums, type ScoreParams } from '../ensemble/score.js';
import type { ShardKernel } from './registry.js';

export interface SampleParams {
  partition: number;
  seed: number;
  /** Each training row is in the sample with this probability. */
  rate: number;
  validationFraction: number;
  /** Count y's values 0 .. classes - 1 (class indices); 0 for a regressor. */
  classes: number;
}

export interface SampleResult {
  /** Sampled rows' features, feature by feature (p x m). */
  values: Float64Array;
  m: number;
  /** Training rows (not held out for validation), their y sum and class counts. */
  n: number;
  sumY: number;
  classCounts: number[];
}

function sample(p: SampleParams, shard: Shard): SampleResult {
  const { rows, cols, data } = shard.x;
  const y = shard.y!;
  const picked: number[] = [];
  const classCounts = new Array<number>(p.classes).fill(0);
  let n = 0;
  let sumY = 0;
  for (let r = 0; r < rows; r++) {
    if (heldOut(p.seed, p.partition, r, p.validationFraction)) continue;
    n++;
    sumY += y[r]!;
    if (p.classes > 0) classCounts[y[r]!]!++;
    if (rowUniform(p.seed, p.partition, r, SAMPLE_STREAM) < p.rate) picked.push(r);
  }
  const m = picked.length;
  const values = new Float64Array(cols * m);
  for (let f = 0; f < cols; f++) for (let i = 0; i < m; i++) values[f * m + i] = data[picked[i]! * cols + f]!;
  return { values, m, n, sumY, classCounts };
}

export const gbdtKernels: Readonly<Record<string, ShardKernel>> = {
  'gbdt/sample': sample,
  'gbdt/round': runRound,
  'gbdt/score': (params: ScoreParams, shard: Shard) => scoreSums(params, shard),
};
