// df/write-parquet: one partition written as `part-NNNNN.parquet` in the target directory, on
// the worker that holds it, by Polars' streaming sink (its own threads: the worker's event loop
// keeps serving). Written to a hidden temporary name and renamed, so a failed or repeated
// task never leaves half a file under the part's name.
import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Kernel } from '../../worker/runtime/builtins.js';
import { Encoding } from '../../protocol/value-codec.js';
import { polarsMessage } from '../errors.js';
import { KernelInputError, WriteError } from './errors.js';
import { toFrame } from './frames.js';

export interface WriteParquetParams {
  /** An absolute directory path. */
  dir: string;
  /** The partition's index in the DataFrame: its file's number. */
  index: number;
}

/** What a write task returns (as JSON). */
export interface PartWritten {
  file: string;
  rows: number;
}

export const writeParquet: Kernel = async (params, inputs, context) => {
  const { dir, index } = params as WriteParquetParams;
  if (inputs.length !== 1) throw new KernelInputError(`${context.key}: df/write-parquet takes one partition, got ${inputs.length}`);
  const frame = toFrame(inputs[0]!, `partition ${index} of ${context.key}`);
  const file = join(dir, `part-${String(index).padStart(5, '0')}.parquet`);
  const temporary = join(dir, `.part-${index}.${randomUUID()}.tmp`);
  try {
    await mkdir(dir, { recursive: true });
    await frame.lazy().sinkParquet(temporary).collect();
    await rename(temporary, file);
  } catch (err) {
    await rm(temporary, { force: true });
    throw new WriteError(file, polarsMessage(err), { cause: err });
  }
  const written: PartWritten = { file, rows: frame.height };
  return { encoding: Encoding.ENCODING_JSON, data: new TextEncoder().encode(JSON.stringify(written)) };
};
