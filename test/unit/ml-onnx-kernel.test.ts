// The onnx/predict kernel in this process (as a worker runs it, no sockets): sessions are kept
// per model hash on the ONNX Runtime thread and reused (a later task's bytes are not even
// read), batches cover every row, and a partition's pending ops run inside the task.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pl from 'nodejs-polars';
import { kernels } from '../../ml/onnx/kernels.js';
import { toOnnx } from '../../ml/onnx/export.js';
import { OnnxModelError } from '../../ml/errors.js';
import type { PredictParams } from '../../ml/onnx/predict-params.js';
import { Encoding } from '../../protocol/value-codec.js';
import type { NativeValue } from '../../worker/runtime/data-store.js';
import { kernelContext } from '../helpers/kernel-context.js';

const features = ['a', 'b'];
const regressor = (coef: number[]) => toOnnx([{ kind: 'linear-regressor', coef, intercept: 0, link: 'identity' }], { features });
const frame = pl.DataFrame({ a: [1, 2, 3, 4, 5], b: [10, 20, 30, 40, 50] });

function params(hash: string, batchSize: number): PredictParams {
  return {
    modelHash: hash, batchSize, device: 'cpu',
    feeds: [{ name: 'input', columns: features, elemType: 'float32', dims: [2], fixedBatch: null, vector: false }],
    fetches: [{ name: 'prediction', columns: ['prediction'], elemType: 'float32' }],
    stage: { source: null, ops: [{ op: 'filter', predicate: JSON.parse(pl.col('a').gt(1).serialize('json').toString()) as unknown }] },
    post: [],
  };
}

async function predict(hash: string, model: Uint8Array, batchSize = 2): Promise<number[]> {
  const out = await kernels['onnx/predict']!(params(hash, batchSize), [{ encoding: Encoding.ENCODING_ARROW_IPC, native: frame }, { encoding: Encoding.ENCODING_BYTES, data: model }], kernelContext('k'));
  return ((out as NativeValue).native as pl.DataFrame).getColumn('prediction').toArray() as number[];
}

describe('onnx/predict kernel', () => {
  it('scores every row in batches, after the partition\'s own ops', async () => {
    assert.deepEqual(await predict('model-a', regressor([1, 0.5])), [12, 18, 24, 30]);
  });

  it('runs the ops that follow it in the plan on its output, in the same task', async () => {
    const sum = JSON.parse(pl.col('prediction').sum().alias('total').serialize('json').toString()) as unknown;
    const p = { ...params('model-a', 2), post: [{ op: 'select', exprs: [sum] }] as PredictParams['post'] };
    const out = await kernels['onnx/predict']!(p, [{ encoding: Encoding.ENCODING_ARROW_IPC, native: frame }, { encoding: Encoding.ENCODING_BYTES, data: regressor([1, 0.5]) }], kernelContext('k'));
    const got = (out as NativeValue).native as pl.DataFrame;
    assert.deepEqual(got.columns, ['total']);
    assert.equal(got.getColumn('total').get(0), 12 + 18 + 24 + 30);
  });

  it('keeps one session per model hash: the same hash scores with the first model', async () => {
    assert.deepEqual(await predict('model-b', regressor([0, 1]), 3), [20, 30, 40, 50]);
    // Other bytes under the same hash: the cached session answers (the bytes are not sent again).
    assert.deepEqual(await predict('model-b', regressor([1, 0]), 3), [20, 30, 40, 50]);
    assert.deepEqual(await predict('model-c', regressor([1, 0]), 3), [2, 3, 4, 5]);
  });

  it('scores large partitions one after another on reused buffers (a smaller one on a larger one\'s)', async () => {
    const model = regressor([1, 0.5]);
    for (const rows of [40_000, 30_000, 40_000]) {
      const big = pl.DataFrame({ a: Float64Array.from({ length: rows }, (_, i) => i), b: Int32Array.from({ length: rows }, (_, i) => rows - i) });
      const p = { ...params('model-big', 8192), stage: { source: null, ops: [] } };
      const out = await kernels['onnx/predict']!(p, [{ encoding: Encoding.ENCODING_ARROW_IPC, native: big }, { encoding: Encoding.ENCODING_BYTES, data: model }], kernelContext('k'));
      const got = ((out as NativeValue).native as pl.DataFrame).getColumn('prediction').toArray() as number[];
      assert.equal(got.length, rows);
      got.forEach((v, i) => assert.equal(v, Math.fround(i + Math.fround((rows - i) * 0.5)), `${rows} rows: row ${i}`));
    }
  });

  it('fails naming the output when the model gives another width than its shape declares', async () => {
    const p = params('model-d', 2);
    p.fetches = [{ name: 'prediction', columns: ['prediction_0', 'prediction_1'], elemType: 'float32' }];
    await assert.rejects(
      kernels['onnx/predict']!(p, [{ encoding: Encoding.ENCODING_ARROW_IPC, native: frame }, { encoding: Encoding.ENCODING_BYTES, data: regressor([1, 1]) }], kernelContext('k')),
      (err: Error) => err instanceof OnnxModelError && /^predictOnnx: model output "prediction" gave 1 values per row, not the 2 its shape declares$/.test(err.message),
    );
    // The thread is still there for the next partition.
    assert.deepEqual(await predict('model-d', regressor([1, 1])), [22, 33, 44, 55]);
  });
});
