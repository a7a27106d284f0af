// Histogram gradient boosting's pure parts: bin edges and bins, the best split of a histogram,
// the early-stopping rule, and fits on in-process shards whose trees are known in advance.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ml } from '../../index.js';
import { allocShard, shardBytes, shardFromBytes } from '../../ml/core/shared-shard.js';
import { binColumn, binOf, categoriesOf, categoriesOfRuns, edgesOfRuns, mergeRuns, numericEdges, valueRuns, type FeatureBins } from '../../ml/ensemble/binning.js';
import { decodeSample, encodeSample, type SampleParams } from '../../ml/kernels/gbdt.js';
import { shouldStop } from '../../ml/ensemble/booster.js';
import { rawScores } from '../../ml/ensemble/ensemble.js';
import { STALE } from '../../ml/ensemble/rounds.js';
import { view } from '../../ml/ensemble/state.js';
import { sigmoid } from '../../ml/ensemble/losses.js';
import type { Shard } from '../../ml/core/matrix.js';
import { sumFloatTree } from '../../ml/core/shards.js';
import { runShardKernel } from '../../ml/kernels/registry.js';
import { runDeriveKernel } from '../../ml/kernels/derive.js';
import { bestSplit, histLayout, nodeSums } from '../../ml/ensemble/split.js';
import type { InitParams } from '../../ml/ensemble/state.js';

function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647;
  };
}

/** In-process shards of these rows (x: one array per feature), split into `parts`. */
function shards(x: number[][], y: number[], parts = 2): ml.Shards {
  const n = y.length;
  const out = [];
  for (let k = 0; k < parts; k++) {
    const from = Math.floor((k * n) / parts);
    const to = Math.floor(((k + 1) * n) / parts);
    const s = allocShard(to - from, x.length, true);
    for (let r = from; r < to; r++) {
      x.forEach((col, f) => { s.x.data[(r - from) * x.length + f] = col[r]!; });
      s.y![r - from] = y[r]!;
    }
    out.push(s);
  }
  return new ml.LocalShards(out);
}

describe('boosting: bins', () => {
  it('few distinct values: the float32 midpoints between them; many: at most 254 quantile edges', () => {
    assert.deepEqual(numericEdges([3, 1, 2, 2, NaN, 1]), [1.5, 2.5]);
    assert.deepEqual(numericEdges([0.1, 0.2]), [Math.fround(0.15000000000000002)]);
    const rnd = random(7);
    const values = Array.from({ length: 5000 }, () => rnd() * 100);
    const edges = numericEdges(values);
    assert.equal(edges.length, 254);
    assert.ok(edges.every((e, i) => e === Math.fround(e) && (i === 0 || e > edges[i - 1]!)), 'float32, strictly increasing');
    // About as many values in each bin.
    const bins: FeatureBins = { kind: 'numeric', edges };
    const counts = new Array<number>(256).fill(0);
    for (const v of values) counts[binOf(bins, v)]!++;
    assert.ok(Math.max(...counts.slice(0, 255)) < 3 * (5000 / 255), `bins hold ${Math.min(...counts.slice(0, 255))} to ${Math.max(...counts.slice(0, 255))}`);
  });

  it('a value goes to bin <= b exactly when fround(x) <= edges[b]; missing values to the missing bin', () => {
    const rnd = random(3);
    const edges = numericEdges(Array.from({ length: 1000 }, () => rnd() * 10 - 5));
    const bins: FeatureBins = { kind: 'numeric', edges };
    const probes = [...edges, ...edges.map((e) => e + 1e-9), ...edges.map((e) => e - 1e-9), -Infinity, Infinity, ...Array.from({ length: 200 }, () => rnd() * 12 - 6)];
    for (const x of probes) {
      const b = binOf(bins, x);
      edges.forEach((e, k) => assert.equal(b <= k, Math.fround(x) <= e, `x ${x} bin ${b} edge ${k} (${e})`));
    }
    assert.equal(binOf(bins, NaN), edges.length + 1);
    const cats: FeatureBins = { kind: 'categorical', categories: categoriesOf([5, 2, 2, NaN, 9], 'c') };
    assert.deepEqual(cats.categories, [2, 5, 9]);
    assert.deepEqual([2, 5, 9, 7, NaN].map((v) => binOf(cats, v)), [0, 1, 2, 3, 3]);
    assert.throws(() => categoriesOf([1.5], 'c'), /categorical feature c has the value 1.5/);
    assert.throws(() => categoriesOf(Array.from({ length: 300 }, (_, i) => i), 'c'), /300 categories/);
  });
  it('binColumn bins a column of a row-major matrix as binOf bins each value', () => {
    const rnd = random(5);
    const edges = numericEdges(Array.from({ length: 2000 }, () => rnd() * 10 - 5));
    const probes = [...edges, ...edges.map((e) => e + 1e-9), ...edges.map((e) => e - 1e-9), NaN, -Infinity, Infinity, -0, 0];
    // Column 0 random, column 1 in runs (the same value over and over, NaN runs too).
    const values = Array.from({ length: 3000 }, (_, i) => [rnd() < 0.5 ? probes[Math.floor(rnd() * probes.length)]! : rnd() * 12 - 6, probes[Math.floor(i / 40) % probes.length]!]);
    const data = Float64Array.from(values.flat());
    const all: FeatureBins[] = [
      { kind: 'numeric', edges }, { kind: 'numeric', edges: edges.slice(0, 1) }, { kind: 'numeric', edges: [] },
      { kind: 'categorical', categories: [-1, 0, 2] },
    ];
    for (const bins of all) {
      const out = new Uint8Array(data.length).fill(99);
      for (const column of [0, 1]) binColumn(bins, data, values.length, 2, column, out);
      assert.deepEqual(Array.from(out), Array.from(data, (x) => binOf(bins, x)), JSON.stringify(bins).slice(0, 60));
    }
  });

  it("a sample's runs, merged over shards, give the edges of all its values; they travel as bytes", () => {
    // The definition: the sorted values' midpoints, or quantiles by the midpoint rule.
    const bySorting = (values: number[], maxBins: number): number[] => {
      const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
      const distinct = sorted.filter((v, i) => i === 0 || v !== sorted[i - 1]);
      const raw = distinct.length <= maxBins
        ? distinct.slice(1).map((v, i) => (distinct[i]! + v) / 2)
        : Array.from({ length: maxBins - 1 }, (_, q) => (q + 1) / maxBins * (sorted.length - 1)).map((at) => (sorted[Math.floor(at)]! + sorted[Math.ceil(at)]!) / 2);
      const kept: number[] = [];
      for (const f of raw.map(Math.fround)) if (Number.isFinite(f) && !(f <= kept.at(-1)!)) kept.push(f);
      return kept;
    };
    const rnd = random(11);
    // Repeated values (a rounded draw, a heavy 0 with -0 among them), NaN, and infinities.
    const values = Array.from({ length: 3000 }, (_, i) => (i % 50 === 0 ? NaN : i % 7 === 0 ? (i % 2 ? -0 : 0) : i === 5 ? Infinity : Math.round(rnd() * 400) / 4));
    const parts = [values.slice(0, 1000), values.slice(1000, 1001), values.slice(1001)];
    const merged = mergeRuns(parts.map(valueRuns));
    assert.deepEqual(merged, valueRuns(values));
    // Hundreds of parts (a fit of many shards), some empty: merged level by level, the same runs.
    assert.deepEqual(mergeRuns(Array.from({ length: 301 }, (_, k) => valueRuns(values.slice(k * 10, k * 10 + 10)))), merged);
    assert.deepEqual(mergeRuns([]), { values: new Float64Array(0), counts: new Float64Array(0) });
    assert.equal(merged.counts.reduce((a, c) => a + c, 0), values.filter((v) => !Number.isNaN(v)).length);
    assert.ok(merged.values.every((v, i) => i === 0 || v > merged.values[i - 1]!), 'ascending, distinct');
    for (const maxBins of [255, 40, 2]) assert.deepEqual(edgesOfRuns(merged, maxBins), bySorting(values, maxBins), `maxBins ${maxBins}`);
    assert.deepEqual(categoriesOfRuns(mergeRuns([valueRuns([5, 2, NaN]), valueRuns([9, 2])]), 'c'), [2, 5, 9]);

    // The kernel's bytes: every row sampled (rate 1), a class count per label.
    const shard = allocShard(4, 2, true);
    shard.x.data.set([1, 10, NaN, 10, 1, 30, 2, 20]);
    shard.y!.set([0, 1, 1, 0]);
    const p: SampleParams = { partition: 0, seed: 0, rate: 1, validationFraction: 0, classes: 2 };
    const got = decodeSample(runShardKernel('gbdt/sample', p, shard) as Uint8Array);
    assert.deepEqual(got, { n: 4, sumY: 2, classCounts: [2, 2], runs: [valueRuns([1, NaN, 1, 2]), valueRuns([10, 10, 30, 20])] });
    assert.deepEqual(decodeSample(encodeSample(got)), got);
  });
});

describe('boosting: the best split', () => {
  // One numeric feature of 4 bins and a missing bin; [gradients | hessians | counts].
  const layout = histLayout([{ kind: 'numeric', edges: [1, 2, 3] }]);
  const hist = (g: number[], h: number[], n: number[]) => Float64Array.from([...g, ...h, ...n]);
  const params = { minSamplesLeaf: 1, l2Regularization: 0, minHessianToSplit: 1e-3 };

  it('the threshold of the largest gain, the missing rows sent where they gain most', () => {
    // Bins 0-1 pull down, bins 2-3 up; the missing rows pull down like bins 0-1.
    const h = hist([-4, -4, 4, 4, -3], [2, 2, 2, 2, 1], [2, 2, 2, 2, 1]);
    const s = bestSplit(h, layout, nodeSums(h, layout), params)!;
    assert.deepEqual([s.feature, s.bin, s.missingLeft], [0, 1, true]);
    assert.deepEqual(s.left, { g: -11, h: 5, n: 5 });
    assert.deepEqual(s.right, { g: 8, h: 4, n: 4 });
    // Gain: GL^2/HL + GR^2/HR - G^2/H.
    assert.ok(Math.abs(s.gain - (121 / 5 + 64 / 4 - 9 / 9)) < 1e-12);
  });

  it('minSamplesLeaf and no gain: no split; no missing rows in training: missing values follow the larger child', () => {
    const h = hist([-4, -4, 4, 4, 0], [2, 2, 2, 2, 0], [2, 2, 2, 2, 0]);
    assert.equal(bestSplit(h, layout, nodeSums(h, layout), { ...params, minSamplesLeaf: 5 }), undefined);
    const flat = hist([1, 1, 1, 1, 0], [1, 1, 1, 1, 0], [2, 2, 2, 2, 0]);
    assert.equal(bestSplit(flat, layout, nodeSums(flat, layout), params), undefined);
    const skewed = hist([-4, 4, 4, 4, 0], [2, 2, 2, 2, 0], [2, 3, 3, 3, 0]);
    const s = bestSplit(skewed, layout, nodeSums(skewed, layout), params)!;
    assert.equal(s.bin, 0);
    assert.equal(s.missingLeft, false, 'the right child has more rows');
  });

  it('a categorical feature: the categories ordered by gradient/hessian, a prefix left', () => {
    const cat = histLayout([{ kind: 'categorical', categories: [10, 20, 30, 40] }]);
    // Categories 20 and 40 pull down; 10 and 30 up; each with 10 rows (the minimum support).
    const h = hist([5, -5, 6, -6, 0], [10, 10, 10, 10, 0], [10, 10, 10, 10, 0]);
    const s = bestSplit(h, cat, nodeSums(h, cat), params)!;
    // Ascending by ratio: 40, 20, 10, 30; the first two left (the reverse order's prefix gains as much, not more).
    assert.deepEqual(s.leftBins, [1, 3]);
    assert.equal(s.missingLeft, false);
    assert.deepEqual(s.left, { g: -11, h: 20, n: 20 });
  });
});

describe('boosting: fits on in-process shards', () => {
  it('one split, learning rate 1: the two leaves are the two sides\' means', async () => {
    const x = Array.from({ length: 400 }, (_, i) => i / 400);
    const y = x.map((v) => (v > 0.5 ? 3 : -1));
    const model = new ml.HistGradientBoostingRegressor({ maxIter: 1, learningRate: 1, maxLeafNodes: 2, earlyStopping: false });
    await model.fitShards(shards([x], y), { features: ['x'] });
    const [tree] = model.ensemble!.trees;
    const mean = y.reduce((a, b) => a + b, 0) / y.length;
    assert.deepEqual(model.ensemble!.baseline, [mean]);
    assert.equal(tree!.feature[0], 0);
    assert.ok(tree!.threshold[0]! >= x[200]! && tree!.threshold[0]! < x[201]!, `threshold ${tree!.threshold[0]}`);
    const raw = rawScores(model.ensemble!, [[0.2, 0.9, NaN]], 3);
    assert.ok(Math.abs(raw[0]! + 1) < 1e-12 && Math.abs(raw[1]! - 3) < 1e-12, `predictions ${Array.from(raw).join(', ')}`);
  });

  it('y set by whether x is missing: one split, missing values one way and every value the other', async () => {
    const x = Array.from({ length: 300 }, (_, i) => (i % 3 === 0 ? NaN : i));
    const y = x.map((v) => (Number.isNaN(v) ? 5 : 1));
    const model = new ml.HistGradientBoostingRegressor({ maxIter: 1, learningRate: 1, maxLeafNodes: 2, earlyStopping: false });
    await model.fitShards(shards([x], y, 3), { features: ['x'] });
    const tree = model.ensemble!.trees[0]!;
    assert.equal(tree.threshold[0], Infinity, 'all values left, missing ones right');
    assert.equal(tree.missingLeft[0], false);
    const raw = rawScores(model.ensemble!, [[NaN, 7, 1e300, Infinity]], 4);
    assert.deepEqual(Array.from(raw, (v) => Math.round(v * 1e9) / 1e9), [5, 1, 1, 1]);
    // Through JSON (how a task gets the model), Infinity becomes null and still means Infinity.
    const again = JSON.parse(JSON.stringify(model.ensemble)) as typeof model.ensemble;
    assert.deepEqual(Array.from(rawScores(again!, [[NaN, 7]], 2)), Array.from(rawScores(model.ensemble!, [[NaN, 7]], 2)));
  });

  it('the same shards give the same model to the bit; other shardings the same splits', async () => {
    const rnd = random(11);
    const x = [Array.from({ length: 900 }, () => rnd()), Array.from({ length: 900 }, () => rnd())];
    const y = x[0]!.map((v, i) => (v + x[1]![i]! > 1 ? 1 : 0));
    const fit = async (parts: number) => {
      const m = new ml.HistGradientBoostingClassifier({ maxIter: 5, maxLeafNodes: 8, earlyStopping: false, minSamplesLeaf: 5 });
      await m.fitShards(shards(x, y, parts), { features: ['a', 'b'], classes: [0, 1] });
      return m;
    };
    // Sums by shard change the rounding; the same shards always give the same bits.
    assert.deepEqual((await fit(5)).ensemble, (await fit(5)).ensemble);
    const [one, two] = [await fit(1), await fit(2)];
    assert.deepEqual(one.ensemble!.trees.map((t) => t.feature), two.ensemble!.trees.map((t) => t.feature));
  });
});

/** What a sumFloats call does: run normally (false), fail before running, or fail after running on every shard. */
type Disturb = (call: number, shards: Shard[]) => false | 'failed' | 'ran';

/**
 * In-process shards whose sumFloats can be made to fail as a cluster's does when a state is
 * stale, after doing to the states what a real failure may leave: `disturb(call, states)`.
 */
class FlakyShards implements ml.Shards {
  sums = 0;
  constructor(private readonly shards: Shard[], private readonly disturb: Disturb) {}
  get nRows() { return this.shards.reduce((n, s) => n + s.x.rows, 0); }
  get nFeatures() { return this.shards[0]!.x.cols; }
  get nShards() { return this.shards.length; }
  async map<R>(name: string, params: unknown): Promise<R[]> { return this.shards.map((s) => runShardKernel(name, params, s) as R); }
  async mapShard<R>(i: number, name: string, params: unknown): Promise<R> { return runShardKernel(name, params, this.shards[i]!) as R; }
  async sum<R extends ml.Summable>(): Promise<R> { throw new Error('not used'); }
  async sumFloats(name: string, params: unknown): Promise<Float64Array> {
    const what = this.disturb(++this.sums, this.shards);
    // 'ran': the round went through on every shard, yet the call failed (another shard's did).
    if (what === 'ran') await this.map(name, params);
    if (what) throw new Error(`dependency failed: ${STALE}: injected`);
    return sumFloatTree(await this.map<Uint8Array>(name, params));
  }
  derive(name: string, params: unknown): ml.Shards {
    return new FlakyShards(this.shards.map((s, i) => runDeriveKernel(name, params, s, i)), this.disturb);
  }
  async release(): Promise<void> {}
}

describe('boosting: a tree\'s first round', () => {
  it('puts the training rows back in row order (the last tree left them grouped by its leaves)', () => {
    const rnd = random(11);
    const n = 500;
    const shard = allocShard(n, 2, true);
    for (let r = 0; r < n; r++) {
      shard.x.data.set([rnd(), rnd()], r * 2);
      shard.y![r] = rnd() < 0.3 ? 1 : 0;
    }
    const bins: FeatureBins[] = [0, 1].map((f) => ({ kind: 'numeric', edges: numericEdges(Float64Array.from({ length: n }, (_, r) => shard.x.data[r * 2 + f]!), 32) }));
    const init: InitParams = { bins, loss: 'binary', outputs: 1, baseline: [-0.8], validationFraction: 0.2, seed: 1, maxNodes: 20 };
    const state = runDeriveKernel('gbdt/init', init, shard, 0);
    const s = view(state);
    const inOrder = Array.from(s.trainRows);
    assert.ok(inOrder.length > 300 && inOrder.length < n && inOrder.every((r, i) => i === 0 || r > inOrder[i - 1]!), 'held-out rows left out, the rest in order');
    const round = (params: object) => runShardKernel('gbdt/round', params, state);
    round({ step: 0, output: 0, root: true, gradients: true });
    const split = { node: 0, feature: 0, bin: 15, leftBins: [], missingLeft: false, left: 1, right: 2, build: 0 };
    round({ step: 1, output: 0, splits: [split] });
    assert.notDeepEqual(Array.from(s.trainRows), inOrder, 'grouped by node');
    round({ step: 2, output: 0, root: true, gradients: true, apply: { output: 0, splits: [split], leaves: [[1, 0.5], [2, -0.5]] } });
    assert.deepEqual(Array.from(s.trainRows), inOrder);
    // The leaf values went to the rows that were in the leaves.
    const left = new Set(inOrder.filter((r) => s.binned[r * 2]! <= 15));
    for (const r of inOrder) assert.equal(s.F[r], -0.8 + (left.has(r) ? 0.5 : -0.5));
  });
});

/** n rows of one feature (r % 4, four bins) labelled 1 on every third row. */
function binaryShard(n: number): Shard {
  const shard = allocShard(n, 1, true);
  for (let r = 0; r < n; r++) {
    shard.x.data[r] = r % 4;
    shard.y![r] = r % 3 === 0 ? 1 : 0;
  }
  return shard;
}

describe('boosting: the rounds\' loops in WebAssembly', () => {
  // 3 features: the loops inlined for that count; 9: the general ones (past 8), and the gradients on their own.
  for (const p of [3, 9]) it(`a state made in its own WebAssembly memory runs them, a copy the JavaScript loops: the same results to the bit (${p} features)`, () => {
    const rnd = random(23);
    // Odd: the gradients' last row on its own (after pairs).
    const n = 3_001;
    const shard = allocShard(n, p, true);
    for (let r = 0; r < n; r++) {
      shard.x.data.set([rnd(), rnd() < 0.1 ? NaN : rnd() * 5, Math.floor(rnd() * 6), ...Array.from({ length: p - 3 }, () => rnd())], r * p);
      shard.y![r] = rnd() < 0.3 ? 1 : 0;
    }
    const column = (f: number) => Float64Array.from({ length: n }, (_, r) => shard.x.data[r * p + f]!);
    const bins: FeatureBins[] = [
      { kind: 'numeric', edges: numericEdges(column(0), 255) }, { kind: 'numeric', edges: numericEdges(column(1), 40) },
      { kind: 'categorical', categories: categoriesOf(column(2), 'c', 255) },
      ...Array.from({ length: p - 3 }, (_, f): FeatureBins => ({ kind: 'numeric', edges: numericEdges(column(3 + f), 60) })),
    ];
    const init: InitParams = { bins, loss: 'binary', outputs: 1, baseline: [-0.8], validationFraction: 0.1, seed: 3, maxNodes: 20 };
    const wasm = runDeriveKernel('gbdt/init', init, shard, 0);
    const js = shardFromBytes(new Uint8Array(shardBytes(wasm)));
    assert.ok(wasm.memory && view(wasm).loops, 'the state is its memory\'s, with the loops');
    assert.equal(js.memory, undefined);
    assert.equal(view(js).loops, undefined, 'a copy has none');
    const splits = [
      { node: 0, feature: 0, bin: 100, leftBins: [], missingLeft: false, left: 1, right: 2, build: 0 },
      { node: 1, feature: 1, bin: 12, leftBins: [], missingLeft: true, left: 3, right: 4, build: 1 },
      { node: 2, feature: 2, bin: 0, leftBins: [1, 4], missingLeft: false, left: 5, right: 6, build: 0 },
    ];
    const rounds: object[] = [
      { step: 0, output: 0, root: true, gradients: true },
      { step: 1, output: 0, splits: splits.slice(0, 1) },
      { step: 2, output: 0, splits: splits.slice(1) },
      { step: 3, output: 0, root: true, gradients: true, apply: { output: 0, splits, leaves: [[3, 0.25], [4, -0.5], [5, 0.125], [6, -0.0625]] } },
      { step: 4, output: 0, splits: splits.slice(0, 1) },
    ];
    // Both states replay the rounds from scratch (no histograms, the gradients on their own), then go on.
    rounds.push({ step: 5, output: 0, splits: splits.slice(1), replay: rounds.map((r) => ({ ...r })) });
    for (const params of rounds) {
      const [a, b] = [wasm, js].map((state) => runShardKernel('gbdt/round', params, state) as Uint8Array);
      assert.ok(a!.byteLength > 16 && Buffer.from(a!).equals(Buffer.from(b!)), `round ${JSON.stringify(params).slice(0, 60)}: the same histograms`);
    }
    const [sw, sj] = [view(wasm), view(js)];
    for (const region of ['trainRows', 'F', 'E', 'g', 'h', 'nodeStart', 'nodeEnd', 'meta'] as const) {
      assert.deepEqual(Array.from(sw[region]), Array.from(sj[region]), region);
    }
    // E follows e^-F through the trees added and the replay, on training and validation rows alike.
    assert.ok(sw.nVal > 0);
    for (let r = 0; r < n; r++) assert.ok(Math.abs(sw.E[r]! / Math.exp(-sw.F[r]!) - 1) < 1e-14, `row ${r}: E ${sw.E[r]} for F ${sw.F[r]}`);
  });

  it('a multinomial tree\'s leaf values go to its own output\'s scores, in WebAssembly as in JavaScript; an output past the state\'s is refused', () => {
    const n = 101;
    const shard = allocShard(n, 1, true);
    for (let r = 0; r < n; r++) {
      shard.x.data[r] = r % 4;
      shard.y![r] = r % 3;
    }
    const init: InitParams = { bins: [{ kind: 'numeric', edges: [0.5, 1.5, 2.5] }], loss: 'multinomial', outputs: 3, baseline: [0.1, -0.2, 0.3], validationFraction: 0.1, seed: 4, maxNodes: 8 };
    const wasm = runDeriveKernel('gbdt/init', init, shard, 0);
    const js = shardFromBytes(new Uint8Array(shardBytes(wasm)));
    const split = { node: 0, feature: 0, bin: 1, leftBins: [], missingLeft: false, left: 1, right: 2, build: 0 };
    const rounds: object[] = [
      { step: 0, output: 2, root: true, gradients: true },
      { step: 1, output: 2, splits: [split] },
      { step: 2, output: 0, root: true, gradients: true, apply: { output: 2, splits: [split], leaves: [[1, 0.5], [2, -0.25]] } },
    ];
    for (const params of rounds) {
      const [a, b] = [wasm, js].map((state) => runShardKernel('gbdt/round', params, state) as Uint8Array);
      assert.ok(Buffer.from(a!).equals(Buffer.from(b!)), `round ${JSON.stringify(params).slice(0, 50)}: the same histograms`);
    }
    const [sw, sj] = [view(wasm), view(js)];
    assert.ok(sw.loops && !sj.loops);
    assert.deepEqual(Array.from(sw.F), Array.from(sj.F));
    // Output 2's training rows moved by their leaf's value; outputs 0 and 1 where the baseline put them.
    const trained = new Set(Array.from(sw.trainRows));
    for (let r = 0; r < n; r++) {
      assert.deepEqual([sw.F[r], sw.F[n + r]], [0.1, -0.2]);
      if (trained.has(r)) assert.equal(sw.F[2 * n + r], 0.3 + (r % 4 <= 1 ? 0.5 : -0.25), `row ${r}`);
    }
    for (const state of [wasm, js]) {
      assert.throws(() => runShardKernel('gbdt/round', { step: 3, output: 0, root: true, apply: { output: 3, splits: [], leaves: [[0, 1]] } }, state), /a tree of output 3 applied to a state with 3/);
    }
  });

  it('a binary state\'s e^-F follows scores pushed past +-700 and back (computed from F again where a product would stick at 0 or infinity), in WebAssembly as in JavaScript', () => {
    const n = 41;
    const shard = binaryShard(n);
    const init: InitParams = { bins: [{ kind: 'numeric', edges: [0.5, 1.5, 2.5] }], loss: 'binary', outputs: 1, baseline: [-0.8], validationFraction: 0.25, seed: 2, maxNodes: 4 };
    const wasm = runDeriveKernel('gbdt/init', init, shard, 0);
    const js = shardFromBytes(new Uint8Array(shardBytes(wasm)));
    const split = { node: 0, feature: 0, bin: 1, leftBins: [], missingLeft: false, left: 1, right: 2, build: 0 };
    // Left rows' scores go to -720.8, then back to -5.8; right rows' to 759.2, then 4.2; then both +-400 and back.
    const leaves = [[[1, -720], [2, 760]], [[1, 715], [2, -755]], [[1, 400], [2, -400]], [[1, -400], [2, 400]]];
    const rounds: object[] = [{ step: 0, output: 0, root: true, gradients: true }, { step: 1, output: 0, splits: [split] }];
    leaves.forEach((l, i) => rounds.push(
      { step: 2 + 2 * i, output: 0, root: true, gradients: true, apply: { output: 0, splits: [split], leaves: l } },
      { step: 3 + 2 * i, output: 0, splits: [split] },
    ));
    for (const params of rounds) {
      const [a, b] = [wasm, js].map((state) => runShardKernel('gbdt/round', params, state) as Uint8Array);
      assert.ok(Buffer.from(a!).equals(Buffer.from(b!)), `round ${JSON.stringify(params).slice(0, 90)}: the same histograms`);
    }
    const [sw, sj] = [view(wasm), view(js)];
    assert.ok(sw.loops && !sj.loops && sw.nVal > 0);
    for (const region of ['F', 'E', 'g', 'h'] as const) assert.deepEqual(Array.from(sw[region]), Array.from(sj[region]), region);
    for (let r = 0; r < n; r++) {
      assert.ok(Math.abs(sw.F[r]! - (r % 4 <= 1 ? -5.8 : 4.2)) < 1e-9, `row ${r}: F ${sw.F[r]}`);
      assert.ok(Math.abs(sw.E[r]! / Math.exp(-sw.F[r]!) - 1) < 1e-14, `row ${r}: E ${sw.E[r]} for F ${sw.F[r]}`);
      assert.ok(Number.isFinite(sw.g[r]!) && sw.h[r]! > 0, `row ${r}: g ${sw.g[r]}, h ${sw.h[r]}`);
    }
  });

  it('the binary gradients of any e^-F, 0 and infinity included, are the JavaScript ones to the bit, and the sigmoid of F', () => {
    // An odd count: the WebAssembly pass takes rows two at a time, and the last on its own.
    const n = 65;
    const shard = binaryShard(n);
    const init: InitParams = { bins: [{ kind: 'numeric', edges: [0.5, 1.5, 2.5] }], loss: 'binary', outputs: 1, baseline: [0], validationFraction: 0, seed: 1, maxNodes: 4 };
    const wasm = runDeriveKernel('gbdt/init', init, shard, 0);
    const js = shardFromBytes(new Uint8Array(shardBytes(wasm)));
    const scores = [0, -0, 1e-300, -1e-300, 0.3, -2.75, 36.9, -36.9, 707.9, -707.9, 708, -708, 709, -709, 745.2, -745.2, 800, -800, Infinity, -Infinity, NaN];
    const rnd = random(8);
    while (scores.length < n) scores.push((rnd() - 0.5) * 40);
    for (const state of [wasm, js]) {
      view(state).F.set(scores);
      view(state).E.set(scores.map((z) => Math.exp(-z)));
    }
    for (const state of [wasm, js]) runShardKernel('gbdt/round', { step: 0, output: 0, root: true, gradients: true }, state);
    const [sw, sj] = [view(wasm), view(js)];
    assert.ok(sw.loops && !sj.loops);
    for (let r = 0; r < n; r++) {
      assert.ok(Object.is(sw.g[r], sj.g[r]) && Object.is(sw.h[r], sj.h[r]), `score ${sw.F[r]}: g ${sw.g[r]} against ${sj.g[r]}, h ${sw.h[r]} against ${sj.h[r]}`);
      const p = sigmoid(scores[r]!);
      if (!Number.isNaN(p)) assert.ok(Math.abs(sw.g[r]! + shard.y![r]! - p) < 1e-15, `score ${scores[r]}: p ${sw.g[r]! + shard.y![r]!} against ${p}`);
    }
    assert.equal(sj.g[0], 0.5 - 1, 'a score of 0 is p = 0.5');
    assert.deepEqual([sw.g[18], sw.g[19]], [1 - shard.y![18]!, 0 - shard.y![19]!], 'E = 0 is p = 1, E = infinity p = 0');
  });
});

describe('boosting: a round that fails on a stale state', () => {
  const rnd = random(5);
  const x = [Array.from({ length: 600 }, () => rnd()), Array.from({ length: 600 }, () => (rnd() < 0.1 ? NaN : rnd()))];
  const y = x[0]!.map((v, i) => (v * 2 + (Number.isNaN(x[1]![i]!) ? 1 : x[1]![i]!) + rnd() > 1.8 ? 1 : 0));
  const parts = (): Shard[] => [0, 1, 2].map((k) => {
    const s = allocShard(200, 2, true);
    for (let r = 0; r < 200; r++) {
      s.x.data[r * 2] = x[0]![k * 200 + r]!;
      s.x.data[r * 2 + 1] = x[1]![k * 200 + r]!;
      s.y![r] = y[k * 200 + r]!;
    }
    return s;
  });
  const fit = async (disturb: Disturb) => {
    const m = new ml.HistGradientBoostingClassifier({ maxIter: 6, maxLeafNodes: 6, minSamplesLeaf: 5, earlyStopping: true, validationFraction: 0.2 });
    const shards = new FlakyShards(parts(), disturb);
    await m.fitShards(shards, { features: ['a', 'b'], classes: [0, 1] });
    return m;
  };

  it('every state a round ahead (the round went through elsewhere): replayed, the same model', async () => {
    const quiet = await fit(() => false);
    let injected = 0;
    const disturbed = await fit((call) => {
      if (call !== 7 && call !== 15) return false;
      injected++;
      return 'ran';
    });
    assert.equal(injected, 2);
    assert.deepEqual(disturbed.ensemble, quiet.ensemble);
    assert.deepEqual(disturbed.validationScores, quiet.validationScores);
  });

  it('a state cut short mid-round (marked in progress, its rows half moved): reset, replayed, the same model', async () => {
    const quiet = await fit(() => false);
    let torn = 0;
    const disturbed = await fit((call, states) => {
      if (call !== 9) return false;
      const s = view(states[0]!);
      s.meta[1] = -1;
      s.trainRows.reverse();
      s.F.fill(123);
      torn++;
      return 'failed';
    });
    assert.equal(torn, 1);
    assert.deepEqual(disturbed.ensemble, quiet.ensemble);
  });
});

describe('boosting: early stopping', () => {
  it('a score before each iteration and after the last, when maxIter comes first', async () => {
    const x = Array.from({ length: 400 }, (_, i) => i % 17);
    const m = new ml.HistGradientBoostingRegressor({ maxIter: 3, earlyStopping: true, minSamplesLeaf: 5 });
    await m.fitShards(shards([x], x.map((v) => v * 2)), { features: ['x'] });
    assert.equal(m.nIter, 3);
    assert.equal(m.validationScores!.length, 4);
    assert.ok(m.validationScores!.every((v, i) => i === 0 || v > m.validationScores![i - 1]!), 'the loss falls');
  });

  it('stops when none of the last n scores beats the one before them by more than tol', () => {
    assert.equal(shouldStop([1, 2, 3], 3, 0), false, 'not enough scores yet');
    assert.equal(shouldStop([1, 2, 2, 2, 2], 3, 0), true);
    assert.equal(shouldStop([1, 2, 2, 2, 2.1], 3, 0), false);
    assert.equal(shouldStop([1, 2, 2, 2, 2.1], 3, 0.2), true);
  });
});
