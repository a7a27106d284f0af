// Each FittedStep as ONNX nodes: the preprocessing steps map a float tensor [N, F] to another,
// the final estimator adds the model's outputs. Operators: ai.onnx.ml's Scaler, Imputer,
// LinearRegressor, LinearClassifier, TreeEnsembleRegressor; KMeans from plain ai.onnx ops (no
// ai.onnx.ml operator for it). Everything in float32, as scikit-learn's converters write it.
import { OnnxExportError } from '../errors.js';
import type { FeatureBins } from '../ensemble/binning.js';
import type { TreeModel } from '../ensemble/ensemble.js';
import type { FittedStep } from './fitted.js';
import { ML_DOMAIN, type AttrValue, type GraphBuilder } from './graph.js';
import { onnx } from './generated/onnx.js';

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;
const DOUBLE = onnx.TensorProto.DataType.DOUBLE;

/** A graph output: where it comes from, its element type, and its width (undefined: [N]). */
export interface StepOutput {
  name: string;
  from: string;
  elemType: onnx.TensorProto.DataType;
  width?: number;
}

/** What a step made: the float tensor [N, width] that follows it, or (a final estimator) outputs. */
export type StepResult = { kind: 'transform'; value: string; width: number } | { kind: 'final'; outputs: StepOutput[] };

export function emitStep(g: GraphBuilder, step: FittedStep, x: string, width: number, where: string): StepResult {
  switch (step.kind) {
    case 'standard-scaler': {
      lengths(where, width, { mean: step.mean, scale: step.scale });
      // sklearn leaves a constant feature unscaled (scale_ 1); a 0 here means the same.
      const inverse = step.scale.map((s) => (s === 0 ? 1 : 1 / s));
      return transform(g.node('Scaler', [x], ['scaled'], { offset: { floats: step.mean }, scale: { floats: inverse } }, ML_DOMAIN)[0]!, width);
    }
    case 'min-max-scaler': {
      lengths(where, width, { scale: step.scale, min: step.min });
      const zero = step.scale.findIndex((s) => s === 0);
      if (zero >= 0) throw new OnnxExportError(`${where}: min-max-scaler has scale 0 for feature ${zero}, which ONNX's Scaler cannot express`);
      // x * scale + min == (x - (-min / scale)) * scale
      const offset = step.min.map((m, j) => -m / step.scale[j]!);
      return transform(g.node('Scaler', [x], ['scaled'], { offset: { floats: offset }, scale: { floats: step.scale } }, ML_DOMAIN)[0]!, width);
    }
    case 'simple-imputer': {
      lengths(where, width, { statistics: step.statistics });
      const out = g.node('Imputer', [x], ['imputed'], { imputed_value_floats: { floats: step.statistics }, replaced_value_float: { f: NaN } }, ML_DOMAIN)[0]!;
      return transform(out, width);
    }
    case 'linear-regressor': {
      lengths(where, width, { coef: step.coef });
      finite(where, [step.intercept], 'intercept');
      const [z] = g.node('LinearRegressor', [x], ['linear'], { coefficients: { floats: step.coef }, intercepts: { floats: [step.intercept] }, targets: 1 }, ML_DOMAIN);
      const prediction = step.link === 'log' ? g.node('Exp', [z!], ['exp'])[0]! : z!;
      return { kind: 'final', outputs: [{ name: 'prediction', from: prediction, elemType: FLOAT, width: 1 }] };
    }
    case 'linear-classifier':
      return { kind: 'final', outputs: linearClassifier(g, step, x, width, where) };
    case 'kmeans':
      return { kind: 'final', outputs: kmeans(g, step, x, width, where) };
    case 'tree-ensemble':
      return { kind: 'final', outputs: treeEnsemble(g, step, x, width, where) };
    default:
      throw new OnnxExportError(`${where}: unsupported step kind "${(step as { kind?: unknown }).kind}"; the exporter writes standard-scaler, min-max-scaler, simple-imputer, linear-regressor, linear-classifier, kmeans and tree-ensemble`);
  }
}

function transform(value: string, width: number): StepResult {
  return { kind: 'transform', value, width };
}

function linearClassifier(g: GraphBuilder, step: Extract<FittedStep, { kind: 'linear-classifier' }>, x: string, width: number, where: string): StepOutput[] {
  const k = step.classes.length;
  const rows = step.multiClass === 'binary' ? 1 : k;
  if (k < 2) throw new OnnxExportError(`${where}: a classifier needs at least 2 classes, got ${k}`);
  if (step.coef.length !== rows || step.intercept.length !== rows) {
    throw new OnnxExportError(`${where}: a ${step.multiClass} classifier of ${k} classes needs ${rows} coefficient row(s) and intercept(s), got ${step.coef.length} and ${step.intercept.length}`);
  }
  if (step.multiClass === 'binary' && k !== 2) throw new OnnxExportError(`${where}: a binary classifier has 2 classes, got ${k}`);
  step.coef.forEach((row, i) => lengths(where, width, { [`coef[${i}]`]: row }));
  finite(where, step.intercept, 'intercept');
  finite(where, step.classes, 'classes');
  // Binary: rows -w and w with LOGISTIC give [sigmoid(-z), sigmoid(z)] = [1 - p, p], which
  // already sum to 1; the label is the larger (class 0 on a tie, as sklearn's z > 0 rule).
  const coef = step.multiClass === 'binary' ? [step.coef[0]!.map((c) => -c), step.coef[0]!] : step.coef;
  const intercept = step.multiClass === 'binary' ? [-step.intercept[0]!, step.intercept[0]!] : step.intercept;
  const integral = step.classes.every((c) => Number.isSafeInteger(c));
  const [label, proba] = g.node('LinearClassifier', [x], ['label', 'proba'], {
    coefficients: { floats: coef.flat() }, intercepts: { floats: intercept },
    classlabels_ints: { ints: integral ? step.classes : step.classes.map((_, i) => i) },
    post_transform: step.multiClass === 'binary' ? 'LOGISTIC' : 'SOFTMAX', multi_class: 0,
  }, ML_DOMAIN);
  // Labels that are not integers: the class index picks the label from a double constant.
  const prediction = integral ? label! : g.node('Gather', [g.doubles('classes', [k], step.classes), label!], ['label_value'], { axis: 0 })[0]!;
  return [
    { name: 'prediction', from: prediction, elemType: integral ? INT64 : DOUBLE },
    { name: 'proba', from: proba!, elemType: FLOAT, width: k },
  ];
}

function kmeans(g: GraphBuilder, step: Extract<FittedStep, { kind: 'kmeans' }>, x: string, width: number, where: string): StepOutput[] {
  const k = step.centers.length;
  if (k === 0) throw new OnnxExportError(`${where}: kmeans has no cluster centers`);
  step.centers.forEach((c, i) => lengths(where, width, { [`centers[${i}]`]: c }));
  // Squared distances as sum((x - c)^2) over [N, k, F]: more accurate in float32 than the
  // expanded |x|^2 - 2 x.c + |c|^2, so labels agree with a float64 computation at ties' edge.
  const [x3] = g.node('Unsqueeze', [x, g.ints('axis_1', [1], [1])], ['x_3d']);
  const [diff] = g.node('Sub', [x3!, g.floats('centers', [1, k, width], step.centers.flat())], ['diff']);
  const [squared] = g.node('Mul', [diff!, diff!], ['squared']);
  const [summed] = g.node('MatMul', [squared!, g.floats('ones', [width, 1], new Array<number>(width).fill(1))], ['summed']);
  const [distances] = g.node('Squeeze', [summed!, g.ints('axis_2', [1], [2])], ['distances']);
  const [label] = g.node('ArgMin', [distances!], ['label'], { axis: 1, keepdims: 0 });
  return [
    { name: 'prediction', from: label!, elemType: INT64 },
    { name: 'distances', from: distances!, elemType: FLOAT, width: k },
  ];
}

type TreeEnsembleStep = Extract<FittedStep, { kind: 'tree-ensemble' }>;

/**
 * The raw scores (one per output) from a TreeEnsembleRegressor; a classifier's probabilities
 * and label from plain ops on them. Not TreeEnsembleClassifier: in its binary case
 * onnxruntime labels by score > 0.5 when every leaf weight is positive (a forest's votes),
 * which is wrong for log-odds.
 */
function treeEnsemble(g: GraphBuilder, step: TreeEnsembleStep, x: string, width: number, where: string): StepOutput[] {
  const k = rawOutputs(step, where);
  checkBins(step.bins, width, where);
  if (!Array.isArray(step.trees) || step.trees.length === 0) throw new OnnxExportError(`${where}: the tree ensemble has no trees`);
  const [raw] = g.node('TreeEnsembleRegressor', [x], ['raw'], {
    ...treeAttributes(step, k, where), n_targets: k, aggregate_function: 'SUM', base_values: { floats: step.baseline }, post_transform: 'NONE',
  }, ML_DOMAIN);
  if (step.loss === 'squared') return [{ name: 'prediction', from: raw!, elemType: FLOAT, width: 1 }];
  // Binary: scores [-z, z] give [1 - p, p] by Sigmoid, and class 1 only when z > 0 (ArgMax
  // takes the first of equals, as the model does).
  const binary = step.loss === 'binary';
  const scores = binary ? g.node('Concat', [g.node('Neg', [raw!], ['negated'])[0]!, raw!], ['scores'], { axis: 1 })[0]! : raw!;
  const [proba] = g.node(binary ? 'Sigmoid' : 'Softmax', [scores], ['proba'], binary ? {} : { axis: 1 });
  const [index] = g.node('ArgMax', [scores], ['class_index'], { axis: 1, keepdims: 0 });
  const classes = step.classes!;
  const integral = classes.every((c) => Number.isSafeInteger(c));
  const table = integral ? g.ints('classes', [classes.length], classes) : g.doubles('classes', [classes.length], classes);
  const [label] = g.node('Gather', [table, index!], ['label'], { axis: 0 });
  return [
    { name: 'prediction', from: label!, elemType: integral ? INT64 : DOUBLE },
    { name: 'proba', from: proba!, elemType: FLOAT, width: classes.length },
  ];
}

/** How many raw scores the loss adds up (1, or one per class), checked against classes and baseline. */
function rawOutputs(step: TreeEnsembleStep, where: string): number {
  const { loss, classes, baseline } = step;
  let k = 1;
  if (loss === 'binary' || loss === 'multinomial') {
    if (!Array.isArray(classes)) throw new OnnxExportError(`${where}: a ${loss} tree ensemble needs its classes`);
    finite(where, classes, 'classes');
    if (loss === 'binary' && classes.length !== 2) throw new OnnxExportError(`${where}: a binary tree ensemble has 2 classes, got ${classes.length}`);
    if (classes.length < 2) throw new OnnxExportError(`${where}: a classifier needs at least 2 classes, got ${classes.length}`);
    if (loss === 'multinomial') k = classes.length;
  } else if (loss !== 'squared') {
    throw new OnnxExportError(`${where}: unknown loss "${String(loss)}"; a tree ensemble's loss is squared, binary or multinomial`);
  }
  if (!Array.isArray(baseline) || baseline.length !== k) {
    throw new OnnxExportError(`${where}: a ${loss} tree ensemble${k > 1 ? ` of ${k} classes` : ''} needs ${k} baseline value(s), got ${Array.isArray(baseline) ? baseline.length : 'none'}`);
  }
  finite(where, baseline, 'baseline');
  return k;
}

/** One FeatureBins per input column; categories must be float32 values, since the float input is compared to them. */
function checkBins(bins: FeatureBins[], width: number, where: string): void {
  if (!Array.isArray(bins) || bins.length !== width) {
    throw new OnnxExportError(`${where}: bins has ${Array.isArray(bins) ? bins.length : 'no'} entries for ${width} input features`);
  }
  bins.forEach((b, f) => {
    if (b?.kind === 'categorical') float32s(where, b.categories, `bins[${f}].categories`);
    else if (b?.kind !== 'numeric') throw new OnnxExportError(`${where}: bins[${f}] is neither numeric nor categorical`);
  });
}

function float32s(where: string, values: number[], name: string): void {
  if (!Array.isArray(values)) throw new OnnxExportError(`${where}: ${name} is not a list of numbers`);
  finite(where, values, name);
  const bad = values.findIndex((v) => Math.fround(v) !== v);
  if (bad >= 0) throw new OnnxExportError(`${where}: ${name}[${bad}] is ${values[bad]}, not exactly a float32 value, so the model's float input cannot match it`);
}

interface TreeNode {
  mode: 'LEAF' | 'BRANCH_LEQ' | 'BRANCH_EQ';
  feature: number;
  /** A split's threshold or category; a leaf's value. */
  value: number;
  yes: number;
  no: number;
  missingYes: number;
}

/** TreeEnsembleRegressor's node and target attributes for every tree (node ids from 0 per tree). */
function treeAttributes(step: TreeEnsembleStep, k: number, where: string): Record<string, AttrValue> {
  const categories = step.bins.map((b) => (b.kind === 'categorical' ? b.categories : undefined));
  const nodes: Array<TreeNode & { tree: number; id: number; target: number }> = [];
  step.trees.forEach((tree, t) => {
    const at = `${where}: trees[${t}]`;
    checkTree(tree, k, at);
    flatten(tree, categories, at).forEach((node, id) => nodes.push({ ...node, tree: t, id, target: tree.output }));
  });
  // onnxruntime leaves out the base value of an output that no leaf adds to: give it a leaf of 0.
  for (let c = 0; c < k; c++) {
    if (!step.trees.some((t) => t.output === c)) nodes.push({ mode: 'LEAF', feature: 0, value: 0, yes: 0, no: 0, missingYes: 0, tree: nodes.at(-1)!.tree + 1, id: 0, target: c });
  }
  const leaves = nodes.filter((n) => n.mode === 'LEAF');
  return {
    nodes_treeids: { ints: nodes.map((n) => n.tree) },
    nodes_nodeids: { ints: nodes.map((n) => n.id) },
    nodes_featureids: { ints: nodes.map((n) => n.feature) },
    nodes_modes: { strings: nodes.map((n) => n.mode) },
    nodes_values: { floats: nodes.map((n) => (n.mode === 'LEAF' ? 0 : n.value)) },
    nodes_truenodeids: { ints: nodes.map((n) => n.yes) },
    nodes_falsenodeids: { ints: nodes.map((n) => n.no) },
    nodes_missing_value_tracks_true: { ints: nodes.map((n) => n.missingYes) },
    target_treeids: { ints: leaves.map((l) => l.tree) },
    target_nodeids: { ints: leaves.map((l) => l.id) },
    target_ids: { ints: leaves.map((l) => l.target) },
    target_weights: { floats: leaves.map((l) => l.value) },
  };
}

function checkTree(tree: TreeModel, k: number, where: string): void {
  const n = Array.isArray(tree?.feature) ? tree.feature.length : 0;
  if (n === 0) throw new OnnxExportError(`${where} has no nodes`);
  for (const name of ['threshold', 'leftCategories', 'missingLeft', 'left', 'right', 'value'] as const) {
    const list: unknown = tree[name];
    if (!Array.isArray(list) || list.length !== n) throw new OnnxExportError(`${where}: ${name} has ${Array.isArray(list) ? list.length : 'no'} entries for ${n} nodes`);
  }
  if (!Number.isInteger(tree.output) || tree.output < 0 || tree.output >= k) {
    throw new OnnxExportError(`${where}: output ${String(tree.output)} is not one of the model's ${k} raw score(s)`);
  }
}

/**
 * One tree's ONNX nodes, each split's false branch written right after it (onnxruntime lays
 * them out so, and refuses a false branch that two nodes share). A categorical split becomes a
 * chain of BRANCH_EQ over the known categories that go the non-missing way: a match goes there,
 * while NaN and unknown values fail every test and fall through the missing way. The chain's
 * true branches share one subtree, which onnxruntime accepts (LightGBM's converter does the same).
 */
function flatten(tree: TreeModel, categories: Array<number[] | undefined>, where: string): TreeNode[] {
  const out: TreeNode[] = [];
  const seen = new Set<number>();
  const add = (mode: TreeNode['mode'], feature: number, value: number, missingYes = 0): number => out.push({ mode, feature, value, yes: 0, no: 0, missingYes }) - 1;
  const visit = (j: number): number => {
    if (!Number.isInteger(j) || j < 0 || j >= tree.feature.length) throw new OnnxExportError(`${where}: a child index ${String(j)} is not one of its ${tree.feature.length} nodes`);
    if (seen.has(j)) throw new OnnxExportError(`${where}: node ${j} is reached twice; a tree's nodes have one parent each`);
    seen.add(j);
    const f = tree.feature[j]!;
    if (!Number.isInteger(f) || f >= categories.length) throw new OnnxExportError(`${where}: node ${j} splits on feature ${String(f)}, out of range for ${categories.length} input features`);
    if (f < 0) {
      finiteValue(where, tree.value[j]!, `value[${j}]`);
      return add('LEAF', 0, tree.value[j]!);
    }
    const missingLeft = tree.missingLeft[j] === true;
    const known = categories[f];
    if (!known) {
      if (tree.leftCategories[j]) throw new OnnxExportError(`${where}: node ${j} has leftCategories, but feature ${f} is numeric`);
      // +Infinity: every value but a missing one goes left (a split of missing values from the
      // rest); JSON writes it as null, so a model read back from JSON has null there.
      const threshold = tree.threshold[j] ?? Infinity;
      if (threshold !== Infinity) finiteValue(where, threshold, `threshold[${j}]`);
      const id = add('BRANCH_LEQ', f, float32AtMost(threshold), missingLeft ? 1 : 0);
      out[id]!.no = visit(tree.right[j]!);
      out[id]!.yes = visit(tree.left[j]!);
      return id;
    }
    const cats = tree.leftCategories[j];
    if (!Array.isArray(cats)) throw new OnnxExportError(`${where}: node ${j} splits categorical feature ${f} without leftCategories`);
    finite(where, cats, `leftCategories[${j}]`);
    const left = new Set(cats);
    const [match, fallThrough] = missingLeft ? [tree.right[j]!, tree.left[j]!] : [tree.left[j]!, tree.right[j]!];
    const tested = known.filter((c) => left.has(c) !== missingLeft);
    // No category goes the non-missing way: every row goes the missing way.
    if (tested.length === 0) return visit(fallThrough);
    const chain = tested.map((c) => add('BRANCH_EQ', f, c));
    for (const id of chain) out[id]!.no = id + 1;
    out[chain.at(-1)!]!.no = visit(fallThrough);
    const target = visit(match);
    for (const id of chain) out[id]!.yes = target;
    return chain[0]!;
  };
  visit(0);
  return out;
}

const f32 = new Float32Array(1);
const f32Bits = new Int32Array(f32.buffer);

/** The largest float32 <= t: a float32 x is <= t exactly when it is <= that (onnxruntime compares in float32). */
function float32AtMost(t: number): number {
  f32[0] = t;
  if (f32[0] <= t) return f32[0];
  // Rounded up: one step toward -Infinity (the bits count up for negatives, down for positives).
  f32Bits[0] += f32[0] > 0 ? -1 : 1;
  return f32[0];
}

function lengths(where: string, width: number, arrays: Record<string, number[]>): void {
  for (const [name, values] of Object.entries(arrays)) {
    if (!Array.isArray(values) || values.length !== width) {
      throw new OnnxExportError(`${where}: ${name} has ${Array.isArray(values) ? values.length : 'no'} values for ${width} input features`);
    }
    finite(where, values, name);
  }
}

function finite(where: string, values: number[], name: string): void {
  values.forEach((v, i) => finiteValue(where, v, `${name}[${i}]`));
}

function finiteValue(where: string, value: number, name: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new OnnxExportError(`${where}: ${name} is ${String(value)}, not a finite number`);
}
