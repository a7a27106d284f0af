// ml.metrics and ml.trainTestSplit on a LocalCluster: metrics of lazy DataFrames (three
// partitions) equal scikit-learn's (test/fixtures/ml/metrics_reference.py); the split is lazy,
// deterministic per seed, and its halves complement each other.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pl from 'nodejs-polars';
import { fromPolars, ml } from '../../index.js';
import { useCluster } from '../helpers/cluster.js';
import { assertClose, readFixture } from '../helpers/ml-fixtures.js';

interface Data { y_bin: number[]; score: number[]; pred_bin: number[]; y_multi: number[]; pred_multi: number[]; proba_multi: number[][]; y_reg: number[]; pred_reg: number[] }
const data = readFixture<Data>('metrics_data.json');
const ref = readFixture<{
  binary: Record<string, number> & { confusion: number[][] };
  multi: Record<string, number> & { confusion: number[][] };
  regression: Record<string, number>;
}>('metrics_reference.json');

describe('ml.metrics on a cluster, against scikit-learn', () => {
  const fixture = useCluster({ workers: 2, threads: 1 });
  const table = pl.DataFrame({
    late: pl.Series('late', data.y_bin.map((v) => v === 1), pl.Bool), y_bin: data.y_bin, pred_bin: data.pred_bin, score: data.score,
    proba_0: data.score.map((s) => 1 - s), proba_1: data.score,
    y_multi: data.y_multi, pred_multi: data.pred_multi, p1: data.proba_multi.map((p) => p[0]!), p2: data.proba_multi.map((p) => p[1]!), p5: data.proba_multi.map((p) => p[2]!),
    y_reg: data.y_reg, pred_reg: data.pred_reg,
  });
  const df = fromPolars(table, { partitions: 3 });
  const col = (...names: string[]) => df.select(...names);
  const opts = () => ({ client: fixture.client });

  it('classification metrics, binary and multi-class; labels may be booleans', async () => {
    assert.equal(await ml.metrics.accuracyScore(col('y_bin'), col('pred_bin'), opts()), ref.binary.accuracy);
    assert.equal(await ml.metrics.accuracyScore(col('late'), col('pred_bin'), opts()), ref.binary.accuracy);
    assertClose([
      await ml.metrics.precisionScore(col('y_bin'), col('pred_bin'), opts()),
      await ml.metrics.recallScore(col('y_bin'), col('pred_bin'), opts()),
      await ml.metrics.f1Score(col('y_bin'), col('pred_bin'), opts()),
      await ml.metrics.precisionScore(col('y_bin'), col('pred_bin'), { ...opts(), posLabel: 0 }),
    ], [ref.binary.precision!, ref.binary.recall!, ref.binary.f1!, ref.binary.precision_pos0!], 'binary', 1e-15);
    assert.deepEqual(await ml.metrics.confusionMatrix(col('y_bin'), col('pred_bin'), opts()), ref.binary.confusion);
    assert.deepEqual(await ml.metrics.confusionMatrix(col('y_multi'), col('pred_multi'), opts()), ref.multi.confusion);
    assertClose([await ml.metrics.f1Score(col('y_multi'), col('pred_multi'), { ...opts(), average: 'macro' })], [ref.multi.f1_macro!], 'f1 macro', 1e-14);
    assertClose([await ml.metrics.precisionScore(col('y_multi'), col('pred_multi'), { ...opts(), average: 'weighted' })], [ref.multi.precision_weighted!], 'precision weighted', 1e-14);
  });

  it('ROC AUC and log loss from a score column or a two-column predictProba frame (its last column)', async () => {
    assertClose([await ml.metrics.rocAucScore(col('y_bin'), col('score'), opts())], [ref.binary.roc_auc!], 'auc', 1e-12);
    assertClose([await ml.metrics.rocAucScore(col('late'), col('proba_0', 'proba_1'), opts())], [ref.binary.roc_auc!], 'auc of proba', 1e-12);
    assertClose([await ml.metrics.logLoss(col('y_bin'), col('score'), opts())], [ref.binary.log_loss!], 'binary log loss', 1e-12);
    assertClose([await ml.metrics.logLoss(col('y_bin'), col('proba_0', 'proba_1'), opts())], [ref.binary.log_loss!], 'binary log loss, 2 columns', 1e-12);
    assertClose([await ml.metrics.logLoss(col('y_multi'), col('p1', 'p2', 'p5'), opts())], [ref.multi.log_loss!], 'multi-class log loss', 1e-12);
    // Float32 predictions of 0: clipped to [eps, 1 - eps] with float32's eps, as scikit-learn's log_loss.
    const sure = fromPolars(pl.DataFrame({ y: [1, 0], p: pl.Series('p', [0, 0], pl.Float32) }), { partitions: 2 });
    assertClose([await ml.metrics.logLoss(sure.select('y'), sure.select('p'), opts())], [(-Math.log(2 ** -23) - Math.log(1 - 2 ** -23)) / 2], 'float32 log loss', 1e-12);
    await assert.rejects(ml.metrics.rocAucScore(col('y_multi'), col('p1'), opts()), /rocAucScore: yTrue has 3 labels \(1, 2, 5\); only binary/);
    await assert.rejects(ml.metrics.logLoss(col('y_multi'), col('p1', 'p2'), opts()), /yTrue has 3 labels \(1, 2, 5\) but yPred has 2 columns/);
  });

  it('MSE, MAE and R2', async () => {
    assertClose([
      await ml.metrics.meanSquaredError(col('y_reg'), col('pred_reg'), opts()),
      await ml.metrics.meanAbsoluteError(col('y_reg'), col('pred_reg'), opts()),
      await ml.metrics.r2Score(col('y_reg'), col('pred_reg'), opts()),
    ], [ref.regression.mse!, ref.regression.mae!, ref.regression.r2!], 'regression', 1e-12);
  });

  it('refuses mismatched inputs by name before anything runs', async () => {
    await assert.rejects(ml.metrics.accuracyScore(col('y_bin', 'pred_bin'), col('pred_bin'), opts()), /accuracyScore: yTrue must have one column, it has 2/);
    await assert.rejects(ml.metrics.accuracyScore(col('y_bin'), col('pred_bin', 'score'), opts()), /accuracyScore: yPred must have one column, it has 2/);
    await assert.rejects(ml.metrics.meanSquaredError(col('y_reg'), fromPolars(table.select('pred_reg'), { partitions: 2 }), opts()), /yTrue has 3 partitions where yPred has 2/);
    const withNull = fromPolars(pl.DataFrame({ y: [1, 0, 1], p: [1, null, 0] }), { partitions: 1 });
    await assert.rejects(ml.metrics.accuracyScore(withNull.select('y'), withNull.select('p'), opts()), /accuracyScore: yPred has nulls or NaN/);
  });
});

describe('ml.trainTestSplit on a cluster', () => {
  const fixture = useCluster({ workers: 2, threads: 1 });
  const table = pl.DataFrame({ id: Array.from({ length: 20_000 }, (_, i) => i), x: Array.from({ length: 20_000 }, (_, i) => (i * 7) % 13) });
  const df = fromPolars(table, { partitions: 4 });
  const ids = async (frame: ReturnType<typeof fromPolars>) => (await frame.compute({ client: fixture.client })).getColumn('id').toArray() as number[];

  it('is lazy, per partition, about testSize, complementary and the same for the same seed', async () => {
    const [train, test] = ml.trainTestSplit(df, { testSize: 0.2, seed: 3 });
    assert.deepEqual([train.npartitions, test.npartitions, train.columns], [4, 4, ['id', 'x']]);
    const [a, b] = [await ids(train), await ids(test)];
    assert.equal(a.length + b.length, 20_000);
    assert.deepEqual([...a, ...b].sort((p, q) => p - q), table.getColumn('id').toArray());
    assert.ok(Math.abs(b.length / 20_000 - 0.2) < 0.02, `test share ${b.length / 20_000}`);
    assert.deepEqual(await ids(ml.trainTestSplit(df, { testSize: 0.2, seed: 3 })[1]), b);
    assert.notDeepEqual(await ids(ml.trainTestSplit(df, { testSize: 0.2, seed: 4 })[1]), b);
    // Later operations do not move across the split: filtering the halves filters their rows.
    const big = await ids(test.filter(pl.col('x').gt(6)));
    assert.deepEqual(big, b.filter((id) => (id * 7) % 13 > 6));
    assert.throws(() => ml.trainTestSplit(df, { testSize: 1 }), /testSize must be a share between 0 and 1/);
  });

  it('splits tiny partitions by their number too: 40 one-row partitions give about a quarter to the test half', async () => {
    const tiny = fromPolars(table.head(40), { partitions: 40 });
    const [train, test] = ml.trainTestSplit(tiny, { testSize: 0.25, seed: 0 });
    const [a, b] = [await ids(train), await ids(test)];
    assert.equal(a.length + b.length, 40);
    assert.ok(b.length >= 4 && b.length <= 18, `test rows ${b.length} of 40 (a position-only hash puts all 40 on one side)`);
    assert.match(train.explain(), /partition number/);
  });

  it('KFold: the folds\' test sets partition the rows, each train set is the rest', async () => {
    const folds = new ml.KFold({ nSplits: 4, seed: 9 }).split(df);
    assert.equal(folds.length, 4);
    const tests = await Promise.all(folds.map(([, test]) => ids(test)));
    assert.deepEqual(tests.flat().sort((p, q) => p - q), table.getColumn('id').toArray());
    assert.ok(tests.every((t) => Math.abs(t.length / 20_000 - 0.25) < 0.03), `fold sizes ${tests.map((t) => t.length)}`);
    const train = await ids(folds[1]![0]);
    assert.equal(train.length + tests[1]!.length, 20_000);
    const inTest = new Set(tests[1]);
    assert.ok(!train.some((id) => inTest.has(id)));
    assert.throws(() => new ml.KFold({ nSplits: 1 }), /nSplits must be an integer >= 2/);
  });

  it('KFold.withFoldColumn tags each row with the fold whose test set split() puts it in', async () => {
    const kfold = new ml.KFold({ nSplits: 4, seed: 9 });
    const tagged = kfold.withFoldColumn(df, 'fold');
    assert.equal(tagged.schema.fold!.variant, 'Int32');
    const split = await Promise.all(kfold.split(df).map(([, test]) => ids(test)));
    for (let f = 0; f < 4; f++) assert.deepEqual(await ids(tagged.filter(pl.col('fold').eq(pl.lit(f)))), split[f], `fold ${f}`);
    assert.throws(() => kfold.withFoldColumn(tagged, 'fold'), /already has a column "fold"/);
  });
});
