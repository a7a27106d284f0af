// The ONNX kernels workers run by name ("onnx/..."), loaded only when one runs (see
// worker/runtime/builtins.ts), so a worker that never scores never loads onnxruntime-node.
// onnx/predict: the partition made (its pending ops run here, as a stage's), its columns put
// into tensors, scored on the worker's ONNX Runtime thread (ort-thread.ts; the tensors are
// transferred, not copied), the outputs appended as columns.
import { Worker } from 'node:worker_threads';
import pl from 'nodejs-polars';
import { nativeFrame } from '../../dataframe/kernels/frames.js';
import { runStage } from '../../dataframe/kernels/stage.js';
import type { Kernel, KernelFamily } from '../../worker/runtime/builtins.js';
import type { StoredValue } from '../../worker/runtime/data-store.js';
import { OnnxDeviceError, OnnxModelError } from '../errors.js';
import { missingForCuda } from './device.js';
import { transferable, type RunReply, type RunRequest, type TensorData } from './ort-messages.js';
import type { Feed, Fetch, PredictParams } from './predict-params.js';

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
    columns = p.fetches.flatMap((f) => f.columns.map((c) => pl.Series(c, [], POLARS[f.elemType])));
  } else {
    const fixed = p.feeds.find((f) => f.fixedBatch !== null)?.fixedBatch ?? null;
    if (fixed !== null && rows % fixed !== 0) throw new OnnxModelError(`predictOnnx: the model takes batches of exactly ${fixed} rows, and a partition has ${rows} (task ${context.key}); repartition to a multiple of ${fixed}`);
    const outputs = await ortThread().run({
      hash: p.modelHash, model: () => modelBytes(inputs.at(-1)!, context.key), device: p.device, threads: context.nthreads,
      rows, batchSize: fixed ?? p.batchSize, fetches: p.fetches.map((f) => f.name),
      feeds: p.feeds.map((f) => ({ name: f.name, type: f.elemType, dims: f.dims, data: tensorData(frame, f) })),
    });
    columns = p.fetches.flatMap((f) => outputColumns(f, outputs[f.name]!, rows));
  }
  return nativeFrame(columns.length ? frame.withColumns(...columns) : frame);
};

export const kernels: KernelFamily = { 'onnx/predict': predict };

const POLARS = { float32: pl.Float32, float64: pl.Float64, int64: pl.Int64, int32: pl.Int32, bool: pl.Bool, string: pl.String } as const;

/** The model's bytes: the scattered key the task reads last. */
function modelBytes(value: StoredValue, key: string): Uint8Array {
  if ('data' in value) return value.data;
  throw new OnnxModelError(`task ${key}: its model input is not bytes`);
}

/** The feed's columns as one row-major typed array [rows, columns] (nulls: NaN for floats). */
function tensorData(frame: pl.DataFrame, f: Feed): TensorData {
  const float = f.elemType === 'float32' || f.elemType === 'float64';
  const dtype = POLARS[f.elemType];
  if (f.vector) return vectorData(frame, f, float, dtype);
  const cast = frame.select(...f.columns.map((c) => {
    const e = pl.col(c).cast(dtype);
    return float ? e.fillNull(pl.lit(NaN).cast(dtype)) : e;
  }));
  const series = f.columns.map((c) => {
    const s = cast.getColumn(c);
    if (!float && s.nullCount() > 0) throw new OnnxModelError(`predictOnnx: column "${c}" has nulls, which the model's ${f.elemType} input "${f.name}" cannot take`);
    return s.toTypedArray() as Exclude<TensorData, string[] | Uint8Array>;
  });
  if (series.length === 1) return exactCopy(series[0]!);
  const rows = frame.height;
  const width = series.length;
  const out = new (series[0]!.constructor as new (n: number) => Float32Array)(rows * width);
  series.forEach((col, j) => {
    const c = col as Float32Array;
    for (let r = 0; r < rows; r++) out[r * width + j] = c[r]!;
  });
  return out;
}

/** A list column whose every row holds the tensor's values for that row, flattened row-major. */
function vectorData(frame: pl.DataFrame, f: Feed, float: boolean, dtype: pl.DataType): TensorData {
  const c = f.columns[0]!;
  const width = f.dims.reduce((a, b) => a * b, 1);
  const lengths = frame.select(pl.col(c).lst.lengths().alias('n')).getColumn('n');
  const bad = (lengths.toArray() as Array<number | null>).findIndex((n) => n !== width);
  if (bad >= 0) throw new OnnxModelError(`predictOnnx: model input "${f.name}" takes ${width} values per row, and row ${bad} of a partition has ${String(lengths.get(bad) ?? 'a null list')} in column "${c}"`);
  const e = pl.col(c).explode().cast(dtype);
  const values = frame.select(float ? e.fillNull(pl.lit(NaN).cast(dtype)) : e).getColumn(c);
  if (!float && values.nullCount() > 0) throw new OnnxModelError(`predictOnnx: column "${c}" has nulls, which the model's ${f.elemType} input "${f.name}" cannot take`);
  return exactCopy(values.toTypedArray() as Exclude<TensorData, string[] | Uint8Array>);
}

/** An array that owns its whole buffer (only such can be transferred to the thread). */
function exactCopy<T extends Exclude<TensorData, string[]>>(a: T): T {
  return a.byteOffset === 0 && a.byteLength === a.buffer.byteLength ? a : (a.slice() as T);
}

function outputColumns(f: Fetch, out: { type: string; width: number; data: TensorData }, rows: number): pl.Series[] {
  if (out.width !== f.columns.length) throw new OnnxModelError(`predictOnnx: model output "${f.name}" gave ${out.width} values per row, not the ${f.columns.length} its shape declares`);
  const dtype = POLARS[f.elemType];
  if (out.width === 1) return [column(f.columns[0]!, out.data, dtype)];
  return f.columns.map((name, j) => {
    const data = Array.isArray(out.data) ? out.data.filter((_, i) => i % out.width === j) : strided(out.data, j, out.width, rows);
    return column(name, data, dtype);
  });
}

function strided(data: Exclude<TensorData, string[]>, j: number, width: number, rows: number): TensorData {
  const out = new (data.constructor as new (n: number) => Float32Array)(rows);
  const src = data as Float32Array;
  for (let r = 0; r < rows; r++) out[r] = src[r * width + j]!;
  return out;
}

function column(name: string, data: TensorData, dtype: pl.DataType): pl.Series {
  if (data instanceof Uint8Array) return pl.Series(name, Array.from(data, (v) => v !== 0), dtype);
  return pl.Series(name, data as unknown as number[], dtype);
}

// ---- the ONNX Runtime thread --------------------------------------------------------------

interface Job extends Omit<RunRequest, 'id' | 'model'> {
  model: () => Uint8Array;
}

class OrtThread {
  private readonly worker: Worker;
  private readonly pending = new Map<number, (reply: RunReply) => void>();
  /** Models the thread has been sent (it keeps a session per hash). */
  private readonly sent = new Set<string>();
  private seq = 0;

  constructor() {
    this.worker = new Worker(new URL('./ort-thread.js', import.meta.url));
    this.worker.on('message', (reply: RunReply) => {
      const done = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (this.pending.size === 0) this.worker.unref();
      done?.(reply);
    });
    this.worker.on('error', (err) => this.failAll(err));
    this.worker.on('exit', (code) => this.failAll(new Error(`the ONNX Runtime thread exited (code ${code})`)));
    // Idle, the thread never keeps the process alive; a run in flight does (see send).
    this.worker.unref();
  }

  async run(job: Job): Promise<Record<string, { type: string; width: number; data: TensorData }>> {
    let reply = await this.send(job, job.feeds, !this.sent.has(job.hash));
    // The thread lost the model (its session failed or was evicted): it hands the feeds back.
    if (!reply.ok && reply.needModel) reply = await this.send(job, reply.needModel, true);
    if (!reply.ok) {
      const cuda = job.device === 'cuda' ? ' (device \'cuda\': the CUDA execution provider needs the CUDA 12 and cuDNN 9 libraries on the library path, see Dockerfile.gpu)' : '';
      throw new (job.device === 'cuda' ? OnnxDeviceError : OnnxModelError)(`predictOnnx: ONNX Runtime: ${reply.error.message}${cuda}`);
    }
    return reply.outputs;
  }

  private send(job: Job, feeds: RunRequest['feeds'], withModel: boolean): Promise<RunReply> {
    const id = ++this.seq;
    const req: RunRequest = { ...job, id, model: withModel ? job.model() : undefined, feeds };
    if (withModel) this.sent.add(job.hash);
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.worker.ref();
      // The feeds are transferred, not copied: this side does not use them again.
      this.worker.postMessage(req, transferable(feeds));
    });
  }

  private failAll(err: Error): void {
    for (const [id, done] of this.pending) done({ id, ok: false, error: { name: err.name, message: err.message } });
    this.pending.clear();
    thread = undefined;
  }
}

let thread: OrtThread | undefined;

function ortThread(): OrtThread {
  return (thread ??= new OrtThread());
}

