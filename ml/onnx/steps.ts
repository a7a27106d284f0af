// Each FittedStep as ONNX nodes: the preprocessing steps map a float tensor [N, F] to another,
// the final estimator adds the model's outputs. Operators: ai.onnx.ml's Scaler, Imputer,
// LinearRegressor, LinearClassifier; KMeans from plain ai.onnx ops (no ai.onnx.ml operator
// for it). Everything in float32, as scikit-learn's converters write it.
import { OnnxExportError } from '../errors.js';
import type { FittedStep } from './fitted.js';
import { ML_DOMAIN, type GraphBuilder } from './graph.js';
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
    default:
      throw new OnnxExportError(`${where}: unsupported step kind "${(step as { kind?: unknown }).kind}"; the exporter writes standard-scaler, min-max-scaler, simple-imputer, linear-regressor, linear-classifier and kmeans`);
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

function lengths(where: string, width: number, arrays: Record<string, number[]>): void {
  for (const [name, values] of Object.entries(arrays)) {
    if (!Array.isArray(values) || values.length !== width) {
      throw new OnnxExportError(`${where}: ${name} has ${Array.isArray(values) ? values.length : 'no'} values for ${width} input features`);
    }
    finite(where, values, name);
  }
}

function finite(where: string, values: number[], name: string): void {
  const bad = values.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v));
  if (bad >= 0) throw new OnnxExportError(`${where}: ${name}[${bad}] is ${String(values[bad])}, not a finite number`);
}
