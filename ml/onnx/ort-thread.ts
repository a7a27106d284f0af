// The ONNX Runtime thread of a worker (a worker_thread, started on first use by kernels.ts):
// session.run() computes on the thread that calls it, so it runs here, off the worker's event
// loop. Sessions are created once per model (by hash) and device, and reused; a partition's
// rows are scored in batches of batchSize and its outputs sent back whole, transferred.
import { parentPort } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import { transferable, type RunReply, type RunRequest, type TensorData } from './ort-messages.js';

/** Sessions kept; the least recently used beyond this is released. */
const MAX_SESSIONS = 4;
const sessions = new Map<string, Promise<ort.InferenceSession>>();

parentPort!.on('message', (req: RunRequest) => {
  run(req).then(
    (outputs) => reply({ id: req.id, ok: true, outputs }, transferable(Object.values(outputs))),
    (err: Error & { needModel?: true }) => err.needModel
      ? reply({ id: req.id, ok: false, needModel: req.feeds, error: { name: err.name, message: err.message } }, transferable(req.feeds))
      : reply({ id: req.id, ok: false, error: { name: err.name, message: err.message } }),
  );
});

function reply(msg: RunReply, transfer: ArrayBuffer[] = []): void {
  parentPort!.postMessage(msg, transfer);
}

async function session(req: RunRequest): Promise<ort.InferenceSession> {
  const key = `${req.hash}/${req.device}/${req.threads}`;
  let s = sessions.get(key);
  if (s) {
    sessions.delete(key); // re-inserted: most recently used last
  } else {
    if (!req.model) throw Object.assign(new Error('model not loaded here'), { needModel: true as const });
    s = ort.InferenceSession.create(req.model, {
      executionProviders: req.device === 'cuda' ? ['cuda'] : ['cpu'],
      intraOpNumThreads: req.threads, interOpNumThreads: 1, graphOptimizationLevel: 'all',
    });
    s.catch(() => sessions.delete(key));
  }
  sessions.set(key, s);
  while (sessions.size > MAX_SESSIONS) {
    const [oldest, evicted] = sessions.entries().next().value as [string, Promise<ort.InferenceSession>];
    sessions.delete(oldest);
    void evicted.then((e) => e.release()).catch(() => undefined);
  }
  return s;
}

async function run(req: RunRequest): Promise<Record<string, { type: string; width: number; data: TensorData }>> {
  const s = await session(req);
  const out: Record<string, { type: string; width: number; data: TensorData }> = {};
  for (let start = 0; start < req.rows; start += req.batchSize) {
    const n = Math.min(req.batchSize, req.rows - start);
    const feeds: Record<string, ort.Tensor> = {};
    for (const f of req.feeds) {
      const w = f.dims.reduce((a, b) => a * b, 1);
      // A view of the partition's rows: no copy on this side.
      const view = (f.data as Exclude<TensorData, string[]>).subarray(start * w, (start + n) * w);
      feeds[f.name] = new ort.Tensor(f.type as 'float32', view as Float32Array, [n, ...f.dims]);
    }
    const results = await s.run(feeds, req.fetches);
    for (const name of req.fetches) {
      const t = results[name]!;
      const width = n === 0 ? 1 : t.size / n;
      if (!Number.isInteger(width)) throw new Error(`output "${name}" gave ${t.size} values for ${n} rows`);
      let o = out[name];
      if (!o) out[name] = o = { type: t.type, width, data: allocate(t.type, req.rows * width) };
      else if (o.width !== width) throw new Error(`output "${name}" gave ${width} values per row in one batch and ${o.width} in another`);
      if (Array.isArray(o.data)) {
        const strings = t.data as string[];
        for (let i = 0; i < strings.length; i++) o.data[start * width + i] = strings[i]!;
      } else {
        (o.data as Float32Array).set(t.data as Float32Array, start * width);
      }
      t.dispose();
    }
  }
  return out;
}

function allocate(type: string, length: number): TensorData {
  switch (type) {
    case 'float32': return new Float32Array(length);
    case 'float64': return new Float64Array(length);
    case 'int64': return new BigInt64Array(length);
    case 'int32': return new Int32Array(length);
    case 'bool': return new Uint8Array(length);
    case 'string': return new Array<string>(length);
    default: throw new Error(`an output of type ${type}, which predictOnnx cannot make a column of`);
  }
}
