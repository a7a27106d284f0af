// Splitting encoded values into DataChunk messages and reassembling them.
import type { kubedask } from './generated/kubedask.js';
import { CHUNK_BYTES } from './services.js';
import type { EncodedValue } from './values.js';
import { KubedaskError } from './errors.js';

type DataChunk = kubedask.v1.DataChunk.$Properties;

export function* toChunks(key: string, value: EncodedValue, chunkBytes = CHUNK_BYTES): Generator<DataChunk> {
  const { data, encoding } = value;
  if (data.byteLength === 0) {
    yield { key, encoding, totalBytes: 0, data: new Uint8Array(0), last: true };
    return;
  }
  for (let offset = 0; offset < data.byteLength; offset += chunkBytes) {
    const end = Math.min(offset + chunkBytes, data.byteLength);
    yield { key, encoding, totalBytes: data.byteLength, data: data.subarray(offset, end), last: end === data.byteLength };
  }
}

/**
 * Groups chunks into messages of about `batchBytes`, so many small values travel together.
 * A chunk is never split further; a batch closes once it holds batchBytes or more.
 */
export async function* batchChunks(chunks: AsyncIterable<DataChunk> | Iterable<DataChunk>, batchBytes = CHUNK_BYTES): AsyncGenerator<DataChunk[]> {
  let batch: DataChunk[] = [];
  let bytes = 0;
  for await (const chunk of chunks) {
    batch.push(chunk);
    bytes += (chunk.data?.byteLength ?? 0) + 32;
    if (bytes >= batchBytes) {
      yield batch;
      batch = [];
      bytes = 0;
    }
  }
  if (batch.length) yield batch;
}

export function missingChunk(key: string, reason: string): DataChunk {
  return { key, missing: reason, last: true };
}

export type Assembled = { key: string; value: EncodedValue } | { key: string; missing: string };

/** Feeds chunks in stream order; returns a whole value when its last chunk arrives. */
export class ChunkAssembler {
  private key: string | undefined;
  private parts: Uint8Array[] = [];
  private received = 0;
  private total = 0;
  private encoding = 0;

  push(chunk: kubedask.v1.DataChunk): Assembled | undefined {
    if (chunk.missing) {
      this.reset();
      return { key: chunk.key, missing: chunk.missing };
    }
    if (this.key === undefined) {
      this.key = chunk.key;
      this.total = Number(chunk.totalBytes);
      this.encoding = chunk.encoding;
    } else if (this.key !== chunk.key) {
      throw new KubedaskError(`chunk stream interleaved key ${chunk.key} into ${this.key}`);
    }
    this.parts.push(chunk.data);
    this.received += chunk.data.byteLength;
    if (!chunk.last) return undefined;
    if (this.received !== this.total) {
      throw new KubedaskError(`value ${chunk.key} arrived with ${this.received} of ${this.total} bytes`);
    }
    const data = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
    const out = { key: this.key, value: { encoding: this.encoding, data } };
    this.reset();
    return out;
  }

  private reset(): void {
    this.key = undefined;
    this.parts = [];
    this.received = 0;
    this.total = 0;
    this.encoding = 0;
  }
}
