// The messages between a worker's main thread and its ONNX Runtime thread (ort-thread.ts).
import type { Device } from './predict-params.js';

export type TensorData = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array | string[];

export interface RunRequest {
  id: number;
  hash: string;
  /** The model's bytes: sent the first time a hash is used (and again when the thread asks). */
  model?: Uint8Array;
  device: Device;
  /** ONNX Runtime's intra-op threads (the worker's threads). */
  threads: number;
  rows: number;
  batchSize: number;
  feeds: Array<{ name: string; type: string; dims: number[]; data: TensorData }>;
  fetches: string[];
}

export type RunReply =
  | { id: number; ok: true; outputs: Record<string, { type: string; width: number; data: TensorData }> }
  /** needModel: the thread has no session for the hash and was sent no model; the feeds come back. */
  | { id: number; ok: false; needModel?: RunRequest['feeds']; error: { name: string; message: string } };

/** The buffers of typed arrays (that own them whole), to transfer with a message. */
export function transferable(values: Array<{ data: TensorData }>): ArrayBuffer[] {
  return values.flatMap(({ data }) => (Array.isArray(data) || data.byteOffset !== 0 || data.byteLength !== data.buffer.byteLength ? [] : [data.buffer as ArrayBuffer]));
}
