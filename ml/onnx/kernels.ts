// The ONNX kernels workers run by name ("onnx/..."), loaded only when one runs (see
// worker/runtime/builtins.ts), so a worker that never scores never loads onnxruntime-node.
// onnx/predict: the partition made (its pending ops run here, as a stage's), its columns packed
// into tensors (columns.ts), scored on the worker's ONNX Runtime thread (ort-client.ts,
// ort-thread.ts; the arrays are transferred, not copied), the outputs appended as columns, then
// the ops that follow in the plan (an aggregation's partial, a select) run on the result.
import type pl from 'nodejs-polars';
import { nativeFrame } from '../../dataframe/kernels/frames.js';
import { runPost, runStage } from '../../dataframe/kernels/stage.js';
import type { Kernel, KernelFamily } from '../../worker/runtime/builtins.js';
import type { StoredValue } from '../../worker/runtime/data-store.js';
import { OnnxDeviceError, OnnxModelError } from '../errors.js';
import { giveBack } from './buffer-pool.js';
import { emptyColumns, feedData, fetchRequest, outputColumns } from './columns.js';
import { missingForCuda } from './device.js';
import type { FeedData, FetchRequest } from './ort-messages.js';
import { ortThread } from './ort-client.js';
import type { PredictParams } from './predict-params.js';

const predict: Kernel = async (params, inputs, context) => {
  const p = params as PredictParams;
  if (p.device === 'cuda') {
    const missing = missingForCuda();
    if (missing.length) throw new OnnxDeviceError(`predictOnnx with device 'cuda' (task ${context.key}): missing ${missing.join('; and ')}`);
  }
  const frame = await runStage(p.stage, inputs.slice(0, -1), context.key);
  const rows = frame.height;
  let columns: pl.Series[];
  if (rows === 0) {
    columns = p.fetches.flatMap(emptyColumns);
  } else {
    const fixed = p.feeds.find((f) => f.fixedBatch !== null)?.fixedBatch ?? null;
    if (fixed !== null && rows % fixed !== 0) throw new OnnxModelError(`predictOnnx: the model takes batches of exactly ${fixed} rows, and a partition has ${rows} (task ${context.key}); repartition to a multiple of ${fixed}`);
    let feeds: FeedData[] = [];
    let fetches: FetchRequest[] = [];
    try {
      feeds = p.feeds.map((f) => ({ name: f.name, type: f.elemType, dims: f.dims, data: feedData(frame, f) }));
      fetches = p.fetches.map((f) => fetchRequest(f, rows));
      const result = await ortThread().run({
        hash: p.modelHash, model: () => modelBytes(inputs.at(-1)!, context.key), device: p.device, threads: context.nthreads,
        rows, batchSize: fixed ?? p.batchSize, feeds, fetches,
      });
      columns = p.fetches.flatMap((f) => outputColumns(f, result.outputs[f.name]!));
      giveBack([...result.feeds.map((f) => f.data), ...Object.values(result.outputs).flat()]);
    } catch (err) {
      // Arrays not handed to the thread (an error before the run) are still ours to reuse.
      giveBack([...feeds.map((f) => f.data), ...fetches.flatMap((f) => f.columns ?? [])]);
      throw err;
    }
  }
  return nativeFrame(await runPost(columns.length ? frame.withColumns(...columns) : frame, p.post));
};

export const kernels: KernelFamily = { 'onnx/predict': predict };

/** The model's bytes: the scattered key the task reads last. */
function modelBytes(value: StoredValue, key: string): Uint8Array {
  if ('data' in value) return value.data;
  throw new OnnxModelError(`task ${key}: its model input is not bytes`);
}
