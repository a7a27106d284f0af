// ml.toOnnx of a gradient-boosted tree ensemble (FittedStep 'tree-ensemble'): onnxruntime-node
// scores the export as the model itself does (ml/ensemble's rawScores and probabilities):
// values and probabilities within 1e-5 relative (onnxruntime adds the trees in float32),
// labels equal except within 1e-6 of a tie. Hand-written ensembles pin the edge cases
// (thresholds hit exactly, NaN, categorical splits either missing way, unknown categories);
// seeded random ensembles cover the rest. Inputs are float32 values, as the ONNX input is.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { toOnnx } from '../../ml/onnx/export.js';
import { OnnxExportError } from '../../ml/errors.js';
import { rawScores, type TreeModel } from '../../ml/ensemble/ensemble.js';
import { probabilities } from '../../ml/ensemble/score.js';
import type { FeatureBins } from '../../ml/ensemble/binning.js';
import type { FittedStep } from '../../ml/onnx/fitted.js';
import { onnx } from '../../ml/onnx/generated/onnx.js';
import { assertClose, scoreWithOrt } from '../helpers/ort.js';
import { seededRandom } from '../helpers/random.js';
import { HistGradientBoostingClassifier, HistGradientBoostingRegressor } from '../../ml/ensemble/hist-gradient-boosting.js';
import { shardsOf } from './ml-models-fixture.js';

type Step = Extract<FittedStep, { kind: 'tree-ensemble' }>;
const TOLERANCE = 1e-5;
const TIE = 1e-6;

/** A tree from nodes written as [feature, threshold or left categories, missingLeft, left, right] or a leaf's value. */
function tree(output: number, nodes: Array<number | [number, number | number[], boolean, number, number]>): TreeModel {
  const t: TreeModel = { output, feature: [], threshold: [], leftCategories: [], missingLeft: [], left: [], right: [], value: [], gain: [], count: [] };
  for (const n of nodes) {
    const split = Array.isArray(n);
    t.feature.push(split ? n[0] : -1);
    t.threshold.push(split && typeof n[1] === 'number' ? n[1] : NaN);
    t.leftCategories.push(split && Array.isArray(n[1]) ? n[1] : null);
    t.missingLeft.push(split ? n[2] : false);
    t.left.push(split ? n[3] : 0);
    t.right.push(split ? n[4] : 0);
    t.value.push(split ? 0 : n);
    t.gain.push(0);
    t.count.push(0);
  }
  return t;
}

const numeric: FeatureBins = { kind: 'numeric', edges: [] };
const featuresFor = (step: Step): string[] => step.bins.map((_, f) => `x${f}`);

/** The model's own outputs: prediction [N] (regressor), or labels [N] and proba [N][k]. */
function modelOutputs(step: Step, rows: number[][]): { raw: Float64Array; labels: number[]; proba: number[][] } {
  const columns = step.bins.map((_, f) => rows.map((r) => r[f]!));
  const raw = rawScores(step, columns, rows.length);
  if (step.loss === 'squared') return { raw, labels: [], proba: [] };
  const proba = rows.map((_, i) => probabilities(step.loss, raw, step.baseline.length, rows.length, i));
  const labels = proba.map((p) => step.classes![p.indexOf(Math.max(...p))]!);
  return { raw, labels, proba };
}

/** Scores the export with onnxruntime and compares it with the model; returns the ONNX outputs. */
async function check(step: Step, rows: number[][], what: string): Promise<Record<string, { dims: readonly number[]; data: number[] }>> {
  const out = await scoreWithOrt(toOnnx([step], { features: featuresFor(step) }), rows);
  const want = modelOutputs(step, rows);
  const n = rows.length;
  if (step.loss === 'squared') {
    assert.deepEqual(Object.keys(out), ['prediction'], `${what}: outputs`);
    assert.deepEqual(out.prediction!.dims, [n, 1], `${what}: prediction shape`);
    assertClose(out.prediction!.data, Array.from(want.raw), `${what}: prediction`, TOLERANCE);
    return out;
  }
  const k = step.classes!.length;
  assert.deepEqual(Object.keys(out).sort(), ['prediction', 'proba'], `${what}: outputs`);
  assert.deepEqual(out.prediction!.dims, [n], `${what}: prediction shape`);
  assert.deepEqual(out.proba!.dims, [n, k], `${what}: proba shape`);
  assertClose(out.proba!.data, want.proba.flat(), `${what}: proba`, TOLERANCE);
  want.labels.forEach((label, i) => {
    const sorted = [...want.proba[i]!].sort((a, b) => b - a);
    if (sorted[0]! - sorted[1]! > TIE) assert.equal(out.prediction!.data[i], label, `${what}: label of row ${i} (proba ${want.proba[i]!.join(', ')})`);
  });
  return out;
}

const above = (x: number): number => nextFloat32(x, 1);
const below = (x: number): number => nextFloat32(x, -1);
function nextFloat32(x: number, direction: 1 | -1): number {
  const f = new Float32Array([x]);
  const bits = new Int32Array(f.buffer);
  if (x === 0) return direction * 1.401298464324817e-45;
  bits[0]! += (x > 0) === (direction > 0) ? 1 : -1;
  return f[0]!;
}

describe('toOnnx: tree ensembles', () => {
  // x0 <= 0.5 (NaN left) -> 1; else x1 <= -1.25 (NaN right) -> 2 else 3; a second tree of one leaf.
  const regressor: Step = {
    kind: 'tree-ensemble', loss: 'squared', baseline: [10], bins: [numeric, numeric],
    trees: [tree(0, [[0, 0.5, true, 1, 2], 1, [1, -1.25, false, 3, 4], 2, 3]), tree(0, [0.25])],
  };

  it('a regressor: thresholds taken exactly (x <= t goes left), NaN the split\'s missing way, infinities', async () => {
    const rows = [[0.5, 0], [above(0.5), -1.25], [above(0.5), above(-1.25)], [NaN, 5], [1, NaN], [-Infinity, 0], [Infinity, -Infinity], [Infinity, Infinity]];
    const expected = [11.25, 12.25, 13.25, 11.25, 13.25, 11.25, 12.25, 13.25];
    assert.deepEqual(Array.from(modelOutputs(regressor, rows).raw), expected, 'the model itself');
    const out = await check(regressor, rows, 'regressor');
    assert.deepEqual(out.prediction!.data, expected);
  });

  it('writes one TreeEnsembleRegressor (ai.onnx.ml 3) and no ZipMap', () => {
    const model = onnx.ModelProto.decode(toOnnx([regressor], { features: ['a', 'b'] }));
    assert.deepEqual(model.graph!.node!.map((n) => n.opType), ['TreeEnsembleRegressor', 'Identity']);
    assert.deepEqual(model.opsetImport.map((o) => [o.domain, Number(o.version)]), [['', 17], ['ai.onnx.ml', 3]]);
  });

  it('a threshold that is not a float32 value: compared as the model does (fround(x) <= t)', async () => {
    const step: Step = { ...regressor, trees: [tree(0, [[0, 0.1, false, 1, 2], -1, 1]), tree(0, [[1, -0.1, false, 1, 2], -2, 2])] };
    // fround(0.1) > 0.1 goes right; fround(-0.1) < -0.1 goes left.
    const rows = [[Math.fround(0.1), Math.fround(-0.1)], [below(0.1), above(-0.1)]];
    assert.deepEqual(Array.from(modelOutputs(step, rows).raw), [9, 11]);
    await check(step, rows, 'float64 thresholds');
  });

  it('a binary classifier: [1 - p, p], class 1 only when the raw score is above 0, also when every leaf is positive', async () => {
    // Leaves all positive (onnxruntime's TreeEnsembleClassifier would label by score > 0.5 then).
    const step: Step = {
      kind: 'tree-ensemble', loss: 'binary', baseline: [-1], bins: [numeric], classes: [3, 7],
      trees: [tree(0, [[0, 0, false, 1, 2], 0.25, 0.75]), tree(0, [[0, 2, true, 1, 2], 0.5, 0.125])],
    };
    const rows = [[-1], [0], [1], [2], [3], [NaN]];
    const out = await check(step, rows, 'binary');
    // raw: -0.25, -0.25, 0.25, 0.25, -0.125, 0.25 (NaN: right at x0 <= 0, left at x0 <= 2)
    assert.deepEqual(out.prediction!.data, [3, 3, 7, 7, 3, 7]);
    const nonInteger = await check({ ...step, classes: [0.5, 2.5] }, rows, 'binary, classes not integers');
    assert.deepEqual(nonInteger.prediction!.data, [0.5, 0.5, 2.5, 2.5, 0.5, 2.5]);
  });

  it('a binary classifier at a tie (raw score 0): class 0', async () => {
    const step: Step = { kind: 'tree-ensemble', loss: 'binary', baseline: [0.5], bins: [numeric], classes: [0, 1], trees: [tree(0, [[0, 0, false, 1, 2], -0.5, 0.5])] };
    const out = await scoreWithOrt(toOnnx([step], { features: ['x0'] }), [[0], [1]]);
    assert.deepEqual(out.prediction!.data, [0, 1]);
    assertClose(out.proba!.data, [0.5, 0.5, 1 - 1 / (1 + Math.exp(-1)), 1 / (1 + Math.exp(-1))], 'tie proba', TOLERANCE);
  });

  it('three classes: softmax, and the first class of equal scores', async () => {
    const step: Step = {
      kind: 'tree-ensemble', loss: 'multinomial', baseline: [0, 0, 0], bins: [numeric, numeric], classes: [10, 20, 30],
      trees: [
        tree(0, [[0, 1, false, 1, 2], 0.5, -0.5]),
        tree(1, [[1, 1, true, 1, 2], 0.5, 1.5]),
        tree(2, [[0, 2, false, 1, 2], 0.25, [1, 0, true, 3, 4], 2, 0]),
        tree(0, [0.25]),
      ],
    };
    // raw: [0.75, 0.5, 0.25], [0.75, 1.5, 0.25], [-0.25, 0.5, 2] (x1 <= 0 under x0 > 2), [-0.25, 0.5, 0], [0.75, 0.5, 0.25].
    const rows = [[0, 0], [0, 2], [3, 0], [3, 1], [1, NaN]];
    const out = await check(step, rows, 'multinomial');
    assert.deepEqual(out.prediction!.data, [10, 20, 30, 20, 10]);
    // Equal scores: the first class, in the model and in its export.
    const ties: Step = { ...step, baseline: [0.5, 0.5, 0], trees: [tree(2, [[0, 0, false, 1, 2], 0.5, -1]), tree(1, [[1, 0, false, 1, 2], 0, 0.25])] };
    const tieRows = [[0, 0], [1, 0], [1, 1], [0, 1]];
    assert.deepEqual(modelOutputs(ties, tieRows).labels, [10, 10, 20, 20]);
    assert.deepEqual((await scoreWithOrt(toOnnx([ties], { features: ['a', 'b'] }), tieRows)).prediction!.data, [10, 10, 20, 20]);
  });

  describe('categorical splits', () => {
    // x0 categorical (0, 1, 2, 5, 9); x1 numeric.
    const bins: FeatureBins[] = [{ kind: 'categorical', categories: [0, 1, 2, 5, 9] }, numeric];
    const rows = [0, 1, 2, 5, 9, NaN, 7, 3.5, -1, 100, 1.5, 8.999999046325684].flatMap((c) => [[c, 0], [c, 2]]);
    const regress = (trees: TreeModel[]): Step => ({ kind: 'tree-ensemble', loss: 'squared', baseline: [0], bins, trees });

    it('missing values and unknown categories right (NaN, 7, 3.5 ...), leftCategories left', async () => {
      const step = regress([tree(0, [[0, [1, 5], false, 1, 2], 1, 2])]);
      const want = modelOutputs(step, rows).raw;
      assert.deepEqual(Array.from(want).filter((_, i) => i % 2 === 0), [2, 1, 2, 1, 2, 2, 2, 2, 2, 2, 2, 2]);
      await check(step, rows, 'missing right');
    });

    it('missing values and unknown categories left, the other known categories right', async () => {
      const step = regress([tree(0, [[0, [0, 2], true, 1, 2], 1, 2])]);
      assert.deepEqual(Array.from(modelOutputs(step, rows).raw).filter((_, i) => i % 2 === 0), [1, 2, 1, 2, 2, 1, 1, 1, 1, 1, 1, 1]);
      await check(step, rows, 'missing left');
    });

    it('a left category the feature never had (7) goes the missing way, as in the model', async () => {
      await check(regress([tree(0, [[0, [7, 9], false, 1, 2], 1, 2]), tree(0, [[0, [7, 9], true, 1, 2], 4, 8])]), rows, 'unknown left category');
    });

    it('every category one way: the split collapses', async () => {
      await check(regress([
        tree(0, [[0, [0, 1, 2, 5, 9], true, 1, 2], 1, 2]),
        tree(0, [[0, [], false, 1, 2], 4, 8]),
        tree(0, [[0, [0, 1, 2, 5, 9], false, 1, 2], 16, 32]),
      ]), rows, 'collapsed splits');
    });

    it('nested with numeric splits, the shared subtree of a chain being a subtree', async () => {
      const step = regress([
        tree(0, [[1, 1, false, 1, 4], [0, [1, 2], false, 2, 3], 1, [1, 0, true, 5, 6], [0, [5], true, 7, 8], 2, 3, 4, [0, [0, 9], false, 9, 10], 5, 6]),
      ]);
      await check(step, rows, 'nested');
    });

    it('in a classifier', async () => {
      const step: Step = {
        kind: 'tree-ensemble', loss: 'multinomial', baseline: [0.1, -0.2, 0.1], bins, classes: [0, 1, 2],
        trees: [tree(0, [[0, [1, 5], true, 1, 2], 0.5, -0.5]), tree(1, [[0, [0, 9], false, 1, 2], 1, [1, 1, true, 3, 4], -1, 0.5]), tree(2, [0.3])],
      };
      await check(step, rows, 'categorical multinomial');
      await check({ ...step, loss: 'binary', baseline: [0.1], classes: [0, 1], trees: step.trees.slice(0, 2).map((t) => ({ ...t, output: 0 })) }, rows, 'categorical binary');
    });
  });

  describe('random ensembles', () => {
    for (const [seed, loss] of [[1, 'squared'], [2, 'binary'], [3, 'multinomial'], [4, 'squared'], [5, 'binary'], [6, 'multinomial']] as const) {
      it(`seed ${seed}: ${loss}`, async () => {
        const { step, rows } = randomCase(seed, loss);
        await check(step, rows, `random ${seed}`);
      });
    }
  });

  describe('fitted HistGradientBoosting models, exported through onnxSteps()', () => {
    // x0 numeric, x1 categorical (0..4), x2 numeric with NaNs; held-out rows add an unknown category.
    const rnd = seededRandom(11);
    const row = (unknown: number): number[] => [Math.fround(rnd() * 4 - 2), rnd() < unknown ? 7 : Math.floor(rnd() * 5), rnd() < 0.1 ? NaN : Math.fround(rnd())];
    const X = Array.from({ length: 400 }, () => row(0));
    const test = Array.from({ length: 300 }, () => row(0.1));
    const target = X.map(([a, b, c]) => 2 * a! + (b === 3 ? 1 : b === 1 ? -1 : 0) + (Number.isNaN(c) ? 1 : c!));
    const meta = { features: ['x0', 'x1', 'x2'] };
    const params = { maxIter: 15, categoricalFeatures: ['x1'] };
    const stepOf = (model: { onnxSteps(): FittedStep[] }): Step => model.onnxSteps()[0] as Step;

    it('a regressor', async () => {
      const model = await new HistGradientBoostingRegressor(params).fitShards(shardsOf({ X, y: target }, [150]), meta);
      assert.ok(stepOf(model).trees.some((t) => t.leftCategories.some(Boolean)), 'a categorical split');
      assert.deepEqual(await scoreWithOrt(toOnnx(model), test), await check(stepOf(model), test, 'fitted regressor'));
    });
    for (const classes of [[0, 1], [0, 1, 2]]) {
      it(`a classifier of ${classes.length} classes`, async () => {
        const y = target.map((v) => Math.min(classes.length - 1, v > 1 ? 2 : v > 0 ? 1 : 0));
        const model = await new HistGradientBoostingClassifier(params).fitShards(shardsOf({ X, y }, [150], classes), { ...meta, classes });
        assert.deepEqual(await scoreWithOrt(toOnnx(model), test), await check(stepOf(model), test, `fitted ${classes.length} classes`));
      });
    }
  });

  describe('errors', () => {
    const fail = (step: Partial<Step>, message: RegExp): void => {
      const full = { ...regressor, ...step } as Step;
      assert.throws(() => toOnnx([full], { features: full.bins.map((_, f) => `x${f}`) }), (err: Error) => err instanceof OnnxExportError && message.test(err.message), String(message));
    };
    it('a feature index out of range', () => fail({ trees: [tree(0, [[2, 0, false, 1, 2], 1, 2])] }, /trees\[0\]: node 0 splits on feature 2, out of range for 2 input features/));
    it('no trees', () => fail({ trees: [] }, /the tree ensemble has no trees/));
    it('bins that do not match the input', () => {
      assert.throws(() => toOnnx([regressor], { features: ['a', 'b', 'c'] }), /bins has 2 entries for 3 input features/);
    });
    it('classes that do not match the loss or the baseline', () => {
      fail({ loss: 'binary', classes: [0, 1, 2] }, /a binary tree ensemble has 2 classes, got 3/);
      fail({ loss: 'binary' }, /a binary tree ensemble needs its classes/);
      fail({ loss: 'multinomial', classes: [0, 1, 2] }, /a multinomial tree ensemble of 3 classes needs 3 baseline value\(s\), got 1/);
      fail({ loss: 'multinomial', baseline: [0, 0, 0], classes: [0, 1, 2], trees: [tree(3, [1])] }, /trees\[0\]: output 3 is not one of the model's 3 raw score\(s\)/);
    });
    it('values that are not finite', () => {
      fail({ baseline: [NaN] }, /baseline\[0\] is NaN, not a finite number/);
      fail({ trees: [tree(0, [[0, 0, false, 1, 2], 1, Infinity])] }, /trees\[0\]: value\[2\] is Infinity, not a finite number/);
      fail({ trees: [tree(0, [[0, NaN, false, 1, 2], 1, 2])] }, /trees\[0\]: threshold\[0\] is NaN/);
    });
    it('categories that float32 cannot hold, or a categorical split without categories', () => {
      fail({ bins: [{ kind: 'categorical', categories: [0, 16777217] }, numeric] }, /bins\[0\]\.categories\[1\] is 16777217, not exactly a float32 value/);
      fail({ bins: [{ kind: 'categorical', categories: [0, 1] }, numeric] }, /trees\[0\]: node 0 splits categorical feature 0 without leftCategories/);
      fail({ trees: [tree(0, [[0, [1], false, 1, 2], 1, 2])] }, /node 0 has leftCategories, but feature 0 is numeric/);
    });
    it('a child that is not a node, or a node with two parents', () => {
      fail({ trees: [tree(0, [[0, 0, false, 1, 5], 1, 2])] }, /a child index 5 is not one of its 3 nodes/);
      fail({ trees: [tree(0, [[0, 0, false, 1, 1], 1])] }, /node 1 is reached twice/);
      fail({ trees: [tree(0, [[0, 0, false, 0, 1], 1])] }, /node 0 is reached twice/);
    });
  });
});

/** A random ensemble over 3 numeric and 2 categorical features, and rows that hit its thresholds, NaN and unknown categories. */
function randomCase(seed: number, loss: Step['loss']): { step: Step; rows: number[][] } {
  const rnd = seededRandom(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;
  const bins: FeatureBins[] = [numeric, { kind: 'categorical', categories: [0, 1, 2, 3, 4, 6, 8, 11] }, numeric, { kind: 'categorical', categories: [2, 5, 40] }, numeric];
  // Thresholds from a grid of float32 values per feature, so that rows hit them exactly.
  const grid = bins.map(() => Array.from({ length: 16 }, () => Math.fround((rnd() - 0.5) * 6)));
  const k = loss === 'multinomial' ? 4 : 1;
  const trees = Array.from({ length: 40 }, (_, i) => randomTree(rnd, bins, grid, i % k));
  const classes = loss === 'squared' ? undefined : loss === 'binary' ? [0, 1] : [0, 1, 2, 3];
  const baseline = Array.from({ length: k }, () => (rnd() - 0.5) * (loss === 'squared' ? 20 : 2));
  const step: Step = { kind: 'tree-ensemble', loss, baseline, bins, trees, ...(classes ? { classes } : {}) };
  const value = (f: number): number => {
    const b = bins[f]!;
    const r = rnd();
    if (r < 0.1) return NaN;
    if (b.kind === 'categorical') return r < 0.2 ? pick([-1, 7, 2.5, 1000]) : pick(b.categories);
    if (r < 0.35) return pick(grid[f]!);
    if (r < 0.45) return nextFloat32(pick(grid[f]!), rnd() < 0.5 ? 1 : -1);
    if (r < 0.47) return pick([Infinity, -Infinity]);
    return Math.fround((rnd() - 0.5) * 8);
  };
  const rows = Array.from({ length: 600 }, () => bins.map((_, f) => value(f)));
  return { step, rows };
}

function randomTree(rnd: () => number, bins: FeatureBins[], grid: number[][], output: number): TreeModel {
  const t = tree(output, []);
  const grow = (depth: number): number => {
    const j = t.feature.length;
    const isLeaf = depth >= 6 || (depth > 0 && rnd() < 0.2);
    const f = Math.floor(rnd() * bins.length);
    const b = bins[f]!;
    t.feature.push(isLeaf ? -1 : f);
    t.threshold.push(!isLeaf && b.kind === 'numeric' ? grid[f]![Math.floor(rnd() * grid[f]!.length)]! : NaN);
    // Left categories: a random subset of the known ones, sometimes with one the feature never had.
    const cats = b.kind === 'categorical' ? [...b.categories.filter(() => rnd() < 0.5), ...(rnd() < 0.2 ? [7] : [])] : null;
    t.leftCategories.push(isLeaf ? null : cats);
    t.missingLeft.push(rnd() < 0.5);
    t.value.push(isLeaf ? (rnd() - 0.5) * 0.4 : 0);
    t.gain.push(0);
    t.count.push(0);
    t.left.push(0);
    t.right.push(0);
    if (!isLeaf) {
      t.left[j] = grow(depth + 1);
      t.right[j] = grow(depth + 1);
    }
    return j;
  };
  grow(0);
  return t;
}
