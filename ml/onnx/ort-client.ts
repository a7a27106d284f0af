// A worker's main-thread side of its ONNX Runtime thread (ort-thread.ts): one per worker,
// started at the first onnx/predict task. A run sends the packed inputs and the output
// columns to fill, transferred (this side does not touch them until they come back).
import { Worker } from 'node:worker_threads';
import { OnnxDeviceError, OnnxModelError } from '../errors.js';
import { requestArrays, transferable, type FeedData, type Outputs, type RunReply, type RunRequest } from './ort-messages.js';

export interface Job extends Omit<RunRequest, 'id' | 'model'> {
  model: () => Uint8Array;
}

/** What a run gives back: the outputs' columns, and the feeds' arrays (free to reuse). */
export interface RunResult {
  outputs: Outputs;
  feeds: FeedData[];
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

  async run(job: Job): Promise<RunResult> {
    let reply = await this.send(job, !this.sent.has(job.hash));
    // The thread lost the model (its session failed or was evicted): it hands the arrays back.
    if (!reply.ok && reply.needModel) reply = await this.send({ ...job, ...reply.needModel }, true);
    if (reply.ok) return { outputs: reply.outputs, feeds: reply.feeds };
    if (reply.model) throw new OnnxModelError(`predictOnnx: ${reply.error.message}`);
    const cuda = job.device === 'cuda' ? ' (device \'cuda\': the CUDA execution provider needs the CUDA 12 and cuDNN 9 libraries on the library path, see Dockerfile.gpu)' : '';
    throw new (job.device === 'cuda' ? OnnxDeviceError : OnnxModelError)(`predictOnnx: ONNX Runtime: ${reply.error.message}${cuda}`);
  }

  private send(job: Job, withModel: boolean): Promise<RunReply> {
    const id = ++this.seq;
    const { model, ...rest } = job;
    const req: RunRequest = { ...rest, id, model: withModel ? model() : undefined };
    if (withModel) this.sent.add(job.hash);
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.worker.ref();
      this.worker.postMessage(req, transferable(requestArrays(req)));
    });
  }

  private failAll(err: Error): void {
    for (const [id, done] of this.pending) done({ id, ok: false, error: { name: err.name, message: err.message } });
    this.pending.clear();
    thread = undefined;
  }
}

let thread: OrtThread | undefined;

export function ortThread(): OrtThread {
  return (thread ??= new OrtThread());
}
