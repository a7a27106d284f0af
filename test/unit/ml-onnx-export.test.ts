// ml.toOnnx with FittedSteps written by hand: each exported model scored by onnxruntime-node
// gives the same numbers as the same math in float64 JavaScript (the model computes in float32:
// tolerance 1e-5 relative plus 1e-5 absolute), labels equal; and clear errors for what cannot
// be exported. No sockets.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { toOnnx } from '../../ml/onnx/export.js';
import { NotFittedError, OnnxExportError } from '../../ml/errors.js';
import { StandardScaler } from '../../ml/preprocessing/standard-scaler.js';
import { LinearRegression } from '../../ml/linear/linear-regression.js';
import { Pipeline } from '../../ml/core/pipeline.js';
import { Incremental } from '../../ml/wrappers/incremental.js';
import { SGDRegressor } from '../../ml/sgd/sgd.js';
import { shardsOf } from './ml-models-fixture.js';
import type { FittedStep } from '../../ml/onnx/fitted.js';
import { onnx } from '../../ml/onnx/generated/onnx.js';
import { onnxCases, type OnnxCase } from '../helpers/onnx-cases.js';
import { assertClose as close, scoreWithOrt } from '../helpers/ort.js';

const TOLERANCE = 1e-5;
const assertClose = (a: number[], e: number[], what: string): void => close(a, e, what, TOLERANCE);

async function checkCase(c: OnnxCase): Promise<void> {
  const out = await scoreWithOrt(toOnnx(c.steps, { features: c.features, opset: c.opset }), c.rows);
  assert.deepEqual(Object.keys(out).sort(), Object.keys(c.expected).sort(), `${c.name}: output names`);
  for (const [name, expected] of Object.entries(c.expected)) {
    const got = out[name]!;
    const width = Array.isArray(expected[0]) ? (expected[0] as number[]).length : undefined;
    assert.deepEqual(got.dims, width === undefined ? (name === 'prediction' && c.steps.at(-1)!.kind === 'linear-regressor' ? [c.rows.length, 1] : [c.rows.length]) : [c.rows.length, width], `${c.name}: ${name} shape`);
    const flat = (expected as Array<number | number[]>).flat();
    if (name === 'prediction' && c.steps.at(-1)!.kind !== 'linear-regressor') assert.deepEqual(got.data, flat, `${c.name}: labels`);
    else assertClose(got.data, flat, `${c.name}: ${name}`);
  }
}

describe('toOnnx', () => {
  for (const c of onnxCases()) it(`exports ${c.name} (${c.steps.map((s) => s.kind).join(' -> ')}) as onnxruntime scores it`, () => checkCase(c));

  it('writes opset 17 with ai.onnx.ml, a float input [N, features] and tensor outputs only', () => {
    const [c] = onnxCases();
    const model = onnx.ModelProto.decode(toOnnx(c!.steps, { features: c!.features, inputName: 'x' }));
    assert.deepEqual(model.opsetImport.map((o) => [o.domain, Number(o.version)]), [['', 17], ['ai.onnx.ml', 3]]);
    assert.equal(Number(model.irVersion), 8);
    const input = model.graph!.input![0]!;
    assert.equal(input.name, 'x');
    assert.equal(input.type!.tensorType!.elemType, onnx.TensorProto.DataType.FLOAT);
    assert.deepEqual(input.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue)), ['N', 4]);
    assert.ok(model.graph!.output!.every((o) => o.type!.tensorType), 'every output a tensor');
    assert.ok(!model.graph!.node!.some((n) => n.opType === 'ZipMap'), 'no ZipMap');
    assert.deepEqual(JSON.parse(model.metadataProps!.find((p) => p.key === 'kubedask.features')!.value!), c!.features);
  });

  it('writes a later opset when asked, with its IR version', async () => {
    const c = onnxCases().find((x) => x.name === 'kmeans')!;
    const bytes = toOnnx(c.steps, { features: c.features, opset: 21 });
    assert.equal(Number(onnx.ModelProto.decode(bytes).irVersion), 10);
    const out = await scoreWithOrt(bytes, c.rows);
    assert.deepEqual(out.prediction!.data, c.expected.prediction);
  });

  it('exports an estimator through its onnxSteps()', async () => {
    const [c] = onnxCases();
    const model = { onnxSteps: (): FittedStep[] => c!.steps };
    assert.deepEqual(toOnnx(model, { features: c!.features }), toOnnx(c!.steps, { features: c!.features }));
  });

  it('features default to the fitted ones (a Pipeline: its first step\'s); a list that differs is refused, naming both', async () => {
    const data = { X: [[1, 10], [2, 30], [3, 20], [4, 50]], y: [1, 2, 3, 4] };
    const meta = { features: ['b', 'a'] };
    const regression = await new LinearRegression().fitShards(shardsOf(data, [2]), meta);
    const scaler = await new StandardScaler().fitShards(shardsOf({ X: data.X }, [2]), meta);
    const pipeline = new Pipeline([['none', 'passthrough'], ['scale', scaler], ['reg', regression]]);
    const sgd = new SGDRegressor();
    await sgd.partialFitShards(shardsOf(data, [2]), meta);
    const wrapped = new Incremental(sgd);
    wrapped.fittedEstimator = sgd;
    const inputsOf = (bytes: Uint8Array) => JSON.parse(onnx.ModelProto.decode(bytes).metadataProps.find((p) => p.key === 'kubedask.features')!.value!) as string[];
    for (const model of [regression, pipeline, wrapped]) {
      assert.deepEqual(inputsOf(toOnnx(model)), ['b', 'a']);
      assert.deepEqual(toOnnx(model, { features: ['b', 'a'] }), toOnnx(model));
      assert.throws(() => toOnnx(model, { features: ['a', 'b'] }), (err: Error) => err instanceof OnnxExportError && /features \(a, b\) differ from the features the model was fitted on \(b, a\)/.test(err.message));
    }
    assert.throws(() => toOnnx([{ kind: 'standard-scaler', mean: [0], scale: [1] }]), /options.features must name the feature columns/);
  });

  describe('errors', () => {
    const features = ['a', 'b'];
    const fail = (model: Parameters<typeof toOnnx>[0], message: RegExp, options: Parameters<typeof toOnnx>[1] = { features }): void => {
      assert.throws(() => toOnnx(model, options), (err: Error) => err instanceof OnnxExportError && message.test(err.message));
    };
    it('an unfitted model: its own NotFittedError, as it is', () => {
      assert.throws(() => toOnnx({ onnxSteps: () => { throw new NotFittedError('LogisticRegression', 'onnxSteps'); } }, { features }),
        (err: Error) => err instanceof NotFittedError && /^LogisticRegression: not fitted; call fit\(\) before onnxSteps/.test(err.message));
      assert.throws(() => toOnnx(new StandardScaler(), { features }), NotFittedError);
    });
    it('another error of onnxSteps: its message, from toOnnx', () => {
      fail({ onnxSteps: () => { throw new Error('something broke'); } }, /^toOnnx: something broke/);
    });
    it('something with no onnxSteps', () => fail({} as never, /Object cannot be exported to ONNX \(it has no onnxSteps\(\)\)/));
    it('an unsupported step', () => fail([{ kind: 'one-hot-encoder' } as never], /step 0 \(one-hot-encoder\): unsupported step kind "one-hot-encoder"/));
    it('a step after the final estimator', () => fail([
      { kind: 'linear-regressor', coef: [1, 2], intercept: 0, link: 'identity' },
      { kind: 'standard-scaler', mean: [0], scale: [1] },
    ], /step 1 \(standard-scaler\): comes after the final estimator \(step 0\)/));
    it('coefficients that do not match the features', () => fail([{ kind: 'linear-regressor', coef: [1, 2, 3], intercept: 0, link: 'identity' }], /step 0 \(linear-regressor\): coef has 3 values for 2 input features/));
    it('a value that is not finite', () => fail([{ kind: 'standard-scaler', mean: [0, NaN], scale: [1, 1] }], /mean\[1\] is NaN, not a finite number/));
    it('a binary classifier with three classes', () => fail([{ kind: 'linear-classifier', coef: [[1, 2]], intercept: [0], classes: [0, 1, 2], multiClass: 'binary' }], /needs 3 coefficient row\(s\)|a binary classifier has 2 classes/));
    it('no features', () => fail([], /options.features must name the feature columns/, { features: [] }));
    it('an opset out of range', () => fail([], /opset must be an integer from 17 to 21, got 13/, { features, opset: 13 }));
    it('no steps', () => fail([], /the model has no steps/));
  });
});
