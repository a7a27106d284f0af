// The ONNX Runtime thread of a worker (a worker_thread, started on first use by ort-client.ts):
// session.run() computes on the thread that calls it, so it runs here, off the worker's event
// loop. Sessions are created once per model (by hash) and device, and reused; a partition's
// rows are scored in batches of batchSize, each batch's outputs written straight into the
// columns the main thread sent (an [n, k] output split into its k columns on the way), and
// everything sent back, transferred.
import { parentPort } from 'node:worker_threads';
import ort from 'onnxruntime-node';
import { requestArrays, transferable, type FetchRequest, type NumericData, type Outputs, type RunReply, type RunRequest, type TensorData } from './ort-messages.js';

/** Sessions kept; the least recently used beyond this is released. */
const MAX_SESSIONS = 4;
const sessions = new Map<string, Promise<ort.InferenceSession>>();

/** The model gave what it declared it would not: said in predictOnnx's words. */
class ModelMismatch extends Error {}

parentPort!.on('message', (req: RunRequest) => {
  run(req).then(
    (outputs) => reply({ id: req.id, ok: true, outputs, feeds: req.feeds }, [...requestArrays(req), ...Object.values(outputs).flat()]),
    (err: Error & { needModel?: true }) => {
      const error = { name: err.name, message: err.message };
      if (err.needModel) reply({ id: req.id, ok: false, needModel: { feeds: req.feeds, fetches: req.fetches }, error }, requestArrays(req));
      else reply({ id: req.id, ok: false, model: err instanceof ModelMismatch || undefined, error });
    },
  );
});

function reply(msg: RunReply, arrays: unknown[] = []): void {
  parentPort!.postMessage(msg, transferable(arrays));
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
      // Idle intra-op threads sleep rather than spin: they share the worker's cores with Polars.
      extra: { session: { intra_op: { allow_spinning: '0' } } },
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

async function run(req: RunRequest): Promise<Outputs> {
  const s = await session(req);
  const columns = req.fetches.map((f) => f.columns ?? Array.from({ length: f.width }, () => new Array<string>(req.rows)));
  const names = req.fetches.map((f) => f.name);
  const widths = req.feeds.map((f) => f.dims.reduce((a, b) => a * b, 1));
  const feeds: Record<string, ort.Tensor> = {};
  for (let start = 0; start < req.rows; start += req.batchSize) {
    const n = Math.min(req.batchSize, req.rows - start);
    req.feeds.forEach((f, i) => {
      // A view of the partition's rows: no copy on this side.
      const view = (f.data as NumericData).subarray(start * widths[i]!, (start + n) * widths[i]!);
      feeds[f.name] = new ort.Tensor(f.type as 'float32', view as Float32Array, [n, ...f.dims]);
    });
    const results = await s.run(feeds, names);
    req.fetches.forEach((f, i) => {
      const t = results[f.name]!;
      check(f, t, n);
      scatter(t.data as TensorData, columns[i]!, start, n);
      t.dispose();
    });
  }
  return Object.fromEntries(req.fetches.map((f, i) => [f.name, columns[i]!]));
}

function check(f: FetchRequest, t: ort.Tensor, n: number): void {
  const width = t.size / n;
  if (width !== f.width) throw new ModelMismatch(`model output "${f.name}" gave ${Number.isInteger(width) ? `${width} values per row` : `${t.size} values for ${n} rows`}, not the ${f.width} its shape declares`);
  if (t.type !== f.type) throw new ModelMismatch(`model output "${f.name}" gave ${t.type} values, not the ${f.type} its type declares`);
}

/** An [n, width] batch, row-major, into the width columns from row `start`. */
function scatter(src: TensorData, columns: TensorData[], start: number, n: number): void {
  const width = columns.length;
  if (width === 1 && !Array.isArray(src)) {
    (columns[0] as Float32Array).set(src as Float32Array, start);
    return;
  }
  for (let j = 0; j < width; j++) {
    const col = columns[j] as Float32Array;
    const from = src as Float32Array;
    for (let r = 0, i = j; r < n; r++, i += width) col[start + r] = from[i]!;
  }
}
