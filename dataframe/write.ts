// toParquet: a directory of part files, one per partition, each written by the worker that
// holds the partition (df/write-parquet), numbered in partition order so that reading the
// directory back (readParquet(`${dir}/*.parquet`)) gives the rows in the same order.
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { builtinFunction } from '../client/task-functions.js';
import { DataFrameError } from './errors.js';
import { progressOptions, resolveClient, showProgress, submitPlan, type RunOptions } from './execute.js';
import type { DataFrame } from './frame.js';
import type { PartWritten, WriteParquetParams } from './kernels/write-parquet.js';

export interface ToParquetOptions extends RunOptions {
  /** Replace what the directory holds (default false: a non-empty directory is refused). */
  overwrite?: boolean;
}

export interface ParquetWritten {
  /** The part files, in partition order. */
  files: string[];
  /** Rows written, in all. */
  rows: number;
}

export async function toParquet(frame: DataFrame, dir: string, options: ToParquetOptions = {}): Promise<ParquetWritten> {
  if (typeof dir !== 'string' || dir.length === 0) throw new DataFrameError('toParquet: give the directory to write to');
  const client = resolveClient(options);
  const shownWith = progressOptions(options, client);
  const path = resolve(dir);
  prepareDirectory(path, options.overwrite === true);
  const parts = submitPlan(frame.plan, frame.bindings, frame.functions, client);
  const writes = parts.map((part, index) => {
    const params: WriteParquetParams = { dir: path, index };
    return client.submitWith({ group: 'write-parquet' }, builtinFunction('df/write-parquet'), params, part);
  });
  const shown = showProgress(writes, shownWith);
  try {
    const written = (await Promise.all(writes.map((w) => w.result()))) as PartWritten[];
    return { files: written.map((w) => w.file), rows: written.reduce((n, w) => n + w.rows, 0) };
  } finally {
    await shown;
    for (const future of [...writes, ...parts]) future.release();
  }
}

/** Creates the directory; one that holds anything is emptied only when asked to overwrite. */
function prepareDirectory(path: string, overwrite: boolean): void {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (stat && !stat.isDirectory()) throw new DataFrameError(`toParquet: ${path} exists and is not a directory`);
  const entries = stat ? readdirSync(path) : [];
  if (entries.length > 0) {
    if (!overwrite) {
      throw new DataFrameError(`toParquet: ${path} is not empty (${entries.length} entries, e.g. ${entries[0]}); pass { overwrite: true } to replace its contents`);
    }
    // As Dask's overwrite: never the directory this process works in, nor one above it.
    const fromCwd = relative(path, process.cwd());
    if (fromCwd === '' || (!fromCwd.startsWith('..') && !fromCwd.startsWith(sep))) {
      throw new DataFrameError(`toParquet: will not overwrite ${path}: it holds the current directory`);
    }
    for (const entry of entries) rmSync(join(path, entry), { recursive: true, force: true });
  }
  mkdirSync(path, { recursive: true });
}
