// The metrics' shard kernels on in-process shards and the arithmetic that combines their
// summaries, against scikit-learn (test/fixtures/ml/metrics_reference.py).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LocalShards } from '../../ml/core/shards.js';
import { allocShard } from '../../ml/core/shared-shard.js';
import type { Shard } from '../../ml/core/matrix.js';
import { accuracyFromPairs, aucFromScoreCounts, confusionFromPairs, prfFromPairs, probabilityEps, r2From } from '../../ml/metrics/from-counts.js';
import { MlDataError } from '../../ml/errors.js';
import { mergeCounts, type ScoreCounts } from '../../ml/metrics/kernels.js';
import { assertClose, readFixture } from '../helpers/ml-fixtures.js';

interface Data { y_bin: number[]; score: number[]; pred_bin: number[]; y_multi: number[]; pred_multi: number[]; proba_multi: number[][]; y_reg: number[]; pred_reg: number[] }
const data = readFixture<Data>('metrics_data.json');
const ref = readFixture<{
  binary: Record<string, number> & { confusion: number[][] };
  multi: Record<string, number> & { confusion: number[][] };
  regression: Record<string, number>;
  all_tied_auc: number;
}>('metrics_reference.json');

/** (pred, true) in shards of 120, 100 and 80 rows; pred rows may have several columns. */
function shards(pred: Array<number | number[]>, y: number[]): LocalShards {
  const out: Shard[] = [];
  for (const [from, to] of [[0, 120], [120, 220], [220, 300]] as const) {
    const rows = pred.slice(from, to).map((p) => (Array.isArray(p) ? p : [p]));
    const shard = allocShard(rows.length, rows[0]!.length, true);
    shard.x.data.set(rows.flat());
    shard.y!.set(y.slice(from, to));
    out.push(shard);
  }
  return new LocalShards(out);
}

describe('metrics from shard summaries, against scikit-learn', () => {
  it('binary: accuracy, precision, recall, F1 (posLabel 1 and 0) and the confusion matrix from pair counts', async () => {
    const pairs = await shards(data.pred_bin, data.y_bin).sum<Record<string, number>>('metrics/pairs', {});
    assert.equal(accuracyFromPairs(pairs), ref.binary.accuracy);
    assertClose([prfFromPairs(pairs, 'precision', {}, 't'), prfFromPairs(pairs, 'recall', {}, 't'), prfFromPairs(pairs, 'f1', {}, 't')],
      [ref.binary.precision!, ref.binary.recall!, ref.binary.f1!], 'precision, recall, f1', 1e-15);
    assertClose([prfFromPairs(pairs, 'precision', { posLabel: 0 }, 't')], [ref.binary.precision_pos0!], 'precision of 0', 1e-15);
    assert.deepEqual(confusionFromPairs(pairs).matrix, ref.binary.confusion);
  });

  it('multi-class: micro, macro and weighted averages; binary refused by name', async () => {
    const pairs = await shards(data.pred_multi, data.y_multi).sum<Record<string, number>>('metrics/pairs', {});
    assert.deepEqual(confusionFromPairs(pairs).matrix, ref.multi.confusion);
    for (const average of ['micro', 'macro', 'weighted'] as const) {
      for (const metric of ['precision', 'recall', 'f1'] as const) {
        assertClose([prfFromPairs(pairs, metric, { average }, 't')], [ref.multi[`${metric}_${average}`]!], `${metric} ${average}`, 1e-14);
      }
    }
    assert.throws(() => prfFromPairs(pairs, 'f1', {}, 'f1Score'), (e: Error) => e instanceof MlDataError && /f1Score: the labels are 1, 2, 5 \(more than two\), but average is 'binary'/.test(e.message));
    assert.throws(() => prfFromPairs(pairs, 'f1', { average: 'samples' as never }, 'f1Score'), /average must be binary, micro, macro or weighted/);
  });

  it('ROC AUC exact with tied scores, from per-shard sorted counts merged; one class refused', async () => {
    const parts = await shards(data.score, data.y_bin).map<ScoreCounts>('metrics/scores', { column: 0, posLabel: 1 });
    assert.ok(parts.every((p) => p.scores instanceof Float64Array && p.scores.every((s, i) => i === 0 || s > p.scores[i - 1]!)), 'each shard sorted and distinct');
    assertClose([aucFromScoreCounts(parts, 't')], [ref.binary.roc_auc!], 'auc', 1e-12);
    const tied = await shards(data.score.map(() => 0.4), data.y_bin).map<ScoreCounts>('metrics/scores', { column: 0, posLabel: 1 });
    assert.equal(aucFromScoreCounts(tied, 't'), ref.all_tied_auc);
    const onlyPositive = await shards(data.score, data.y_bin.map(() => 1)).map<ScoreCounts>('metrics/scores', { column: 0, posLabel: 1 });
    assert.throws(() => aucFromScoreCounts(onlyPositive, 'rocAucScore'), /only one class is present/);
    await assert.rejects(shards(data.score.map((s, i) => (i === 3 ? Number.NaN : s)), data.y_bin).map('metrics/scores', { column: 0, posLabel: 1 }), /yPred holds NaN/);
  });

  it('score counts merge linearly: ties across parts add up, empty parts are nothing', () => {
    const f = (xs: number[]) => Float64Array.from(xs);
    const merged = mergeCounts([
      { scores: f([0.1, 0.5, 0.9]), pos: f([1, 0, 2]), neg: f([0, 1, 0]) },
      { scores: f([]), pos: f([]), neg: f([]) },
      { scores: f([0.1, 0.1, 0.7, 0.9]), pos: f([0, 1, 1, 0]), neg: f([1, 0, 0, 3]) },
    ]);
    assert.deepEqual([...merged.scores], [0.1, 0.5, 0.7, 0.9]);
    assert.deepEqual([...merged.pos], [2, 0, 1, 2]);
    assert.deepEqual([...merged.neg], [1, 1, 0, 3]);
    // Five parts (merged in rounds, one left over each time) against counting all the rows at once.
    const parts = Array.from({ length: 5 }, (_, p) => {
      const scores = Array.from({ length: 7 + p }, (_, i) => Math.round(Math.sin(p * 31 + i) * 4) / 4).sort((a, b) => a - b);
      return { scores: f(scores), pos: f(scores.map((_, i) => i % 2)), neg: f(scores.map((_, i) => 1 - (i % 2))) };
    });
    const all = new Map<number, [number, number]>();
    for (const part of parts) part.scores.forEach((s, i) => { const e = all.get(s) ?? [0, 0]; e[0] += part.pos[i]!; e[1] += part.neg[i]!; all.set(s, e); });
    const expected = [...all].sort((a, b) => a[0] - b[0]);
    const got = mergeCounts(parts);
    assert.deepEqual([...got.scores], expected.map(([s]) => s));
    assert.deepEqual([...got.pos], expected.map(([, [p]]) => p));
    assert.deepEqual([...got.neg], expected.map(([, [, n]]) => n));
  });

  it('log loss: binary from one probability column (clipped at 0 and 1), multi-class from one column per label', async () => {
    const bin = await shards(data.score, data.y_bin).sum<Record<string, number>>('metrics/log-loss', { classes: [0, 1], eps: Number.EPSILON });
    assertClose([bin.loss! / bin.n!], [ref.binary.log_loss!], 'binary log loss', 1e-12);
    const multi = await shards(data.proba_multi, data.y_multi).sum<Record<string, number>>('metrics/log-loss', { classes: [1, 2, 5], eps: Number.EPSILON });
    assertClose([multi.loss! / multi.n!], [ref.multi.log_loss!], 'multi-class log loss', 1e-12);
  });

  it('MSE, MAE and R2 from error sums (R2 in two passes)', async () => {
    const s = shards(data.pred_reg, data.y_reg);
    const { n, se, ae, sy } = await s.sum<Record<string, number>>('metrics/regression', {});
    const { ss } = await s.sum<Record<string, number>>('metrics/regression', { mean: sy! / n! });
    assertClose([se! / n!, ae! / n!, r2From(se!, ss!)], [ref.regression.mse!, ref.regression.mae!, ref.regression.r2!], 'mse, mae, r2', 1e-12);
    assert.deepEqual([r2From(0, 0), r2From(1, 0)], [1, 0]);
  });
});

describe('logLoss clipping', () => {
  it('eps is the predictions\' dtype\'s machine epsilon (numpy finfo: float32 1.1920929e-07), Float64\'s otherwise', () => {
    assert.equal(probabilityEps(['Float32']), 1.1920928955078125e-7);
    assert.equal(probabilityEps(['Float32', 'Float32']), 1.1920928955078125e-7);
    assert.equal(probabilityEps(['Float32', 'Float64']), Number.EPSILON);
    assert.equal(probabilityEps(['Float64']), Number.EPSILON);
    assert.equal(probabilityEps(['Int64']), Number.EPSILON);
  });
});
