// Histogram gradient boosting's shard kernels (ml/ensemble): a sample of the training rows for
// the bin edges (as runs of values), with the target sums the baseline needs; a round of a fit
// on its state; and a fitted ensemble's scores on held-out shards.
import { floatsOf, type Shard } from '../core/matrix.js';
import { valueRuns, type ValueRuns } from '../ensemble/binning.js';
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
  /** Per feature, the sampled rows' values as runs (NaN left out). */
  runs: ValueRuns[];
  /** Training rows (not held out for validation), their y sum and class counts. */
  n: number;
  sumY: number;
  classCounts: number[];
}

function sample(p: SampleParams, shard: Shard): Uint8Array {
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
  const values = new Float64Array(picked.length);
  const runs = Array.from({ length: cols }, (_, f) => {
    picked.forEach((r, i) => { values[i] = data[r * cols + f]!; });
    return valueRuns(values);
  });
  return encodeSample({ runs, n, sumY, classCounts });
}

/**
 * A sample as the bytes of Float64 values: n, sumY, the class count k, k class counts, the
 * feature count p, p run counts, then each feature's run values and their counts. Raw bytes
 * travel as they are; a few KB where the values are few (flights-3m's 200,000 sampled rows made
 * 4 MB of base64 JSON as plain values, 0.1-0.3 s to the client).
 */
export function encodeSample(s: SampleResult): Uint8Array {
  const k = s.classCounts.length;
  const p = s.runs.length;
  const out = new Float64Array(4 + k + p + 2 * s.runs.reduce((a, r) => a + r.values.length, 0));
  out.set([s.n, s.sumY, k, ...s.classCounts, p, ...s.runs.map((r) => r.values.length)]);
  let at = 4 + k + p;
  for (const r of s.runs) {
    out.set(r.values, at);
    out.set(r.counts, at + r.values.length);
    at += 2 * r.values.length;
  }
  return new Uint8Array(out.buffer);
}

export function decodeSample(bytes: Uint8Array): SampleResult {
  const f = floatsOf(bytes);
  const k = f[2]!;
  const p = f[3 + k]!;
  const lengths = f.subarray(4 + k, 4 + k + p);
  let at = 4 + k + p;
  const runs = Array.from(lengths, (len) => {
    const r = { values: f.subarray(at, at + len), counts: f.subarray(at + len, at + 2 * len) };
    at += 2 * len;
    return r;
  });
  if (at !== f.length) throw new Error(`internal: a boosting sample of ${f.length} values, its layout says ${at}`);
  return { n: f[0]!, sumY: f[1]!, classCounts: Array.from(f.subarray(3, 3 + k)), runs };
}

export const gbdtKernels: Readonly<Record<string, ShardKernel>> = {
  'gbdt/sample': sample,
  'gbdt/round': runRound,
  'gbdt/score': (params: ScoreParams, shard: Shard) => scoreSums(params, shard),
};
