// Fitted models written by hand (no estimator class) for the ONNX exporter's tests, their input
// rows, and the same math in plain float64 JavaScript. test/fixtures/ml/write-onnx-fixtures.ts
// exports them to test/fixtures/ml/onnx/ for the Python reference (onnx_reference.py).
import type { FittedStep } from '../../ml/onnx/fitted.js';
import { seededRandom } from './random.js';

export interface OnnxCase {
  name: string;
  steps: FittedStep[];
  features: string[];
  /** Input rows [N][F] (NaN: missing). */
  rows: number[][];
  /** The expected outputs by name, each [N] or [N][k]. */
  expected: Record<string, number[] | number[][]>;
  /** The opset to export at (default toOnnx's). */
  opset?: number;
}

const F = 4;
const features = ['hour', 'weekday', 'month', 'distance'];

function rows(seed: number, n: number, missing = 0): number[][] {
  const rnd = seededRandom(seed);
  return Array.from({ length: n }, () => Array.from({ length: F }, (_, j) => (rnd() < missing ? NaN : (rnd() - 0.3) * (j + 1) * 3)));
}

function matrix(seed: number, r: number, c: number, spread = 1): number[][] {
  const rnd = seededRandom(seed);
  return Array.from({ length: r }, () => Array.from({ length: c }, () => (rnd() - 0.5) * 2 * spread));
}

type Row = number[];
const dot = (a: Row, b: Row): number => a.reduce((s, v, j) => s + v * b[j]!, 0);
const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));
function softmax(z: Row): Row {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}
const argmax = (v: Row): number => v.reduce((best, x, i) => (x > v[best]! ? i : best), 0);
const argmin = (v: Row): number => v.reduce((best, x, i) => (x < v[best]! ? i : best), 0);

/** The preprocessing steps' math on one row. */
export function transformRow(steps: FittedStep[], row: Row): Row {
  let x = row;
  for (const s of steps) {
    if (s.kind === 'standard-scaler') x = x.map((v, j) => (v - s.mean[j]!) / (s.scale[j] === 0 ? 1 : s.scale[j]!));
    else if (s.kind === 'min-max-scaler') x = x.map((v, j) => v * s.scale[j]! + s.min[j]!);
    else if (s.kind === 'simple-imputer') x = x.map((v, j) => (Number.isNaN(v) ? s.statistics[j]! : v));
  }
  return x;
}

/** The whole model's outputs on `rows`, as the exporter names them. */
export function expectedOutputs(steps: FittedStep[], rows: number[][]): Record<string, number[] | number[][]> {
  const last = steps[steps.length - 1]!;
  const xs = rows.map((r) => transformRow(steps, r));
  switch (last.kind) {
    case 'linear-regressor': {
      const z = xs.map((x) => dot(x, last.coef) + last.intercept);
      return { prediction: z.map((v) => (last.link === 'log' ? Math.exp(v) : v)) };
    }
    case 'linear-classifier': {
      const proba = xs.map((x) => {
        if (last.multiClass === 'binary') {
          const p = sigmoid(dot(x, last.coef[0]!) + last.intercept[0]!);
          return [1 - p, p];
        }
        return softmax(last.coef.map((c, k) => dot(x, c) + last.intercept[k]!));
      });
      return { prediction: proba.map((p) => last.classes[argmax(p)]!), proba };
    }
    case 'kmeans': {
      const distances = xs.map((x) => last.centers.map((c) => c.reduce((s, v, j) => s + (x[j]! - v) ** 2, 0)));
      return { prediction: distances.map(argmin), distances };
    }
    default:
      return { transformed: xs };
  }
}

function makeCase(name: string, steps: FittedStep[], input: number[][]): OnnxCase {
  return { name, steps, features, rows: input, expected: expectedOutputs(steps, input) };
}

const scaler: FittedStep = { kind: 'standard-scaler', mean: [1.5, 3, 4.5, 6], scale: [2, 0, 3.5, 5] };

export function onnxCases(): OnnxCase[] {
  const coef3 = matrix(3, 3, F, 1.5);
  return [
    makeCase('binary-logistic', [scaler, { kind: 'linear-classifier', coef: matrix(1, 1, F, 2), intercept: [0.25], classes: [0, 1], multiClass: 'binary' }], rows(11, 64)),
    makeCase('multinomial-logistic', [
      { kind: 'simple-imputer', statistics: [0.5, -1, 2, 3] },
      { kind: 'min-max-scaler', scale: [0.5, 0.25, 0.2, 0.1], min: [0.1, 0, -0.3, 0.2] },
      { kind: 'linear-classifier', coef: coef3, intercept: [0.1, -0.2, 0.3], classes: [2, 5, 7], multiClass: 'multinomial' },
    ], rows(12, 64, 0.1)),
    makeCase('fractional-classes', [{ kind: 'linear-classifier', coef: coef3, intercept: [0, 0.5, -0.5], classes: [-1.5, 0.25, 3], multiClass: 'multinomial' }], rows(13, 32)),
    makeCase('linear-regression', [scaler, { kind: 'linear-regressor', coef: [0.5, -1.25, 2, 0.75], intercept: 3, link: 'identity' }], rows(14, 64)),
    makeCase('poisson-regression', [{ kind: 'linear-regressor', coef: [0.05, -0.1, 0.02, 0.03], intercept: 0.5, link: 'log' }], rows(15, 64)),
    makeCase('kmeans', [scaler, { kind: 'kmeans', centers: matrix(5, 5, F, 2) }], rows(16, 64)),
    makeCase('scalers-only', [{ kind: 'simple-imputer', statistics: [1, 2, 3, 4] }, scaler], rows(17, 32, 0.2)),
    { ...makeCase('multinomial-opset-21', [scaler, { kind: 'linear-classifier', coef: coef3, intercept: [0, 0, 0], classes: [0, 1, 2], multiClass: 'multinomial' }], rows(18, 32)), opset: 21 },
  ];
}
