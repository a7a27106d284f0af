// The exporter against Python's references (test/fixtures/ml/onnx_reference.py): the committed
// models are what the exporter writes today and passed onnx.checker (full_check) and Python's
// onnxruntime, whose outputs onnxruntime-node matches (1e-6 relative); and a scikit-learn
// StandardScaler + LogisticRegression (binary and 3-class) exported from its fitted parameters
// gives scikit-learn's predict_proba within 1e-5 (float32 model) and its predict.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { toOnnx } from '../../ml/onnx/export.js';
import type { FittedStep } from '../../ml/onnx/fitted.js';
import { onnxCases } from '../helpers/onnx-cases.js';
import { assertClose, scoreWithOrt } from '../helpers/ort.js';

const dir = fileURLToPath(new URL('../../../test/fixtures/ml/', import.meta.url));
const json = <T>(path: string): T => JSON.parse(readFileSync(`${dir}${path}`, 'utf8')) as T;

interface OrtReference { checker: string; outputs: Record<string, { shape: number[]; data: number[] }> }
interface SklearnCase { scaler: { mean: number[]; scale: number[] }; coef: number[][]; intercept: number[]; classes: number[]; test: number[][]; predict: number[]; predict_proba: number[][] }

describe('toOnnx against Python onnx and onnxruntime', () => {
  for (const c of onnxCases()) {
    it(`${c.name}: the committed model is today's export, valid to the checker, scored as Python's onnxruntime does`, async () => {
      const bytes = toOnnx(c.steps, { features: c.features, opset: c.opset });
      assert.ok(Buffer.from(bytes).equals(readFileSync(`${dir}onnx/${c.name}.onnx`)), 'stale fixture: rerun write-onnx-fixtures and onnx_reference.py');
      const ref = json<OrtReference>(`onnx/${c.name}.ort.json`);
      assert.equal(ref.checker, 'ok');
      const rows = json<{ rows: Array<Array<number | null>> }>(`onnx/${c.name}.input.json`).rows.map((r) => r.map((v) => v ?? NaN));
      const out = await scoreWithOrt(bytes, rows);
      assert.deepEqual(Object.keys(out).sort(), Object.keys(ref.outputs).sort());
      for (const [name, expected] of Object.entries(ref.outputs)) {
        assert.deepEqual([...out[name]!.dims], expected.shape, `${name} shape`);
        out[name]!.data.forEach((v, i) => assert.ok(Math.abs(v - expected.data[i]!) <= 1e-6 * (1 + Math.abs(expected.data[i]!)), `${name}[${i}]: ${v} vs ${expected.data[i]}`));
      }
    });
  }
});

describe('toOnnx of scikit-learn parameters', () => {
  const { cases } = json<{ cases: Record<string, SklearnCase> }>('sklearn_logistic.json');
  for (const [name, c] of Object.entries(cases)) {
    it(`${name}: onnxruntime-node gives scikit-learn's predict_proba and predict`, async () => {
      const steps: FittedStep[] = [
        { kind: 'standard-scaler', mean: c.scaler.mean, scale: c.scaler.scale },
        { kind: 'linear-classifier', coef: c.coef, intercept: c.intercept, classes: c.classes, multiClass: c.classes.length === 2 ? 'binary' : 'multinomial' },
      ];
      const out = await scoreWithOrt(toOnnx(steps, { features: ['a', 'b', 'c', 'd'] }), c.test);
      assertClose(out.proba!.data, c.predict_proba.flat(), `${name} proba`, 1e-5);
      // A label may differ only where two classes' probabilities tie within float32's precision.
      out.prediction!.data.forEach((label, i) => {
        if (label === c.predict[i]) return;
        const p = [...c.predict_proba[i]!].sort((a, b) => b - a);
        assert.ok(p[0]! - p[1]! < 1e-6, `row ${i}: ${label} vs scikit-learn's ${c.predict[i]}`);
      });
    });
  }
});
