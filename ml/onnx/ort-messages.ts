// The messages between a worker's main thread and its ONNX Runtime thread (ort-thread.ts). The
// main thread sends the packed inputs and the arrays the outputs' columns are to fill (both
// from its buffer pool); the thread sends all of them back, filled, transferred each way.
import type { Device } from './predict-params.js';

export type NumericData = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array;
export type TensorData = NumericData | string[];

export interface FeedData {
  name: string;
  type: string;
  /** The dimensions after the batch one. */
  dims: number[];
  data: TensorData;
}

export interface FetchRequest {
  name: string;
  /** The element type the model declares ('bool': a Uint8Array of 0/1). */
  type: string;
  /** The arrays (rows long) to fill with the output's columns, or null for strings (the thread makes them). */
  columns: NumericData[] | null;
  /** Values per row (the columns), where the model declares it. */
  width: number;
}

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
  feeds: FeedData[];
  fetches: FetchRequest[];
}

/** An output's columns, each rows long. */
export type Outputs = Record<string, TensorData[]>;

export type RunReply =
  | { id: number; ok: true; outputs: Outputs; feeds: FeedData[] }
  /**
   * needModel: the thread has no session for the hash and was sent no model; the request's
   * arrays come back. model: the model gave what it declared it would not (a message in
   * predictOnnx's words), else ONNX Runtime's error.
   */
  | { id: number; ok: false; needModel?: Pick<RunRequest, 'feeds' | 'fetches'>; model?: true; error: { name: string; message: string } };

/** The buffers under these arrays (views included), each once, to transfer with a message. */
export function transferable(arrays: Iterable<unknown>): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const a of arrays) if (ArrayBuffer.isView(a) && a.buffer instanceof ArrayBuffer && a.buffer.byteLength > 0) buffers.add(a.buffer);
  return [...buffers];
}

/** Every typed array a request carries. */
export function requestArrays(r: Pick<RunRequest, 'feeds' | 'fetches'>): unknown[] {
  return [...r.feeds.map((f) => f.data), ...r.fetches.flatMap((f) => f.columns ?? [])];
}
