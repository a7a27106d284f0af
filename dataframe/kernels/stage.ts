// df/stage: one partition made whole: a file's row range read, or its input partitions
// concatenated, then the fused ops, collected on Polars' thread pool (async: the worker's
// event loop keeps serving meanwhile).
import pl from 'nodejs-polars';
import type { Kernel } from '../../worker/runtime/builtins.js';
import type { StoredValue } from '../../worker/runtime/data-store.js';
import type { SourceSpec, StageParams } from '../plan/tasks.js';
import { ScanError } from './errors.js';
import { nativeFrame, toFrame } from './frames.js';
import { applyOps, expr } from './ops.js';

export const stage: Kernel = async (params, inputs, context) => nativeFrame(await runStage(params as StageParams, inputs, context.key));

/** The partition a stage makes: its source read or its inputs concatenated, then its ops. */
export async function runStage(p: StageParams, inputs: StoredValue[], key: string): Promise<pl.DataFrame> {
  let lf: pl.LazyDataFrame;
  if (p.source) lf = scan(p.source);
  else {
    const frames = inputs.map((v, i) => toFrame(v, `input ${i} of ${key}`));
    lf = frames.length === 1 ? frames[0]!.lazy() : pl.concat(frames.map((f) => f.lazy()), { how: 'vertical' as never }) as unknown as pl.LazyDataFrame;
  }
  const out = applyOps(lf, p.ops);
  if (!p.source) return out.collect();
  try {
    return await out.collect();
  } catch (err) {
    throw new ScanError(p.source.part.path, (err as Error).message, { cause: err });
  }
}

function scan(source: SourceSpec): pl.LazyDataFrame {
  const { path, offset, rows } = source.part;
  let lf = source.format === 'parquet' ? pl.scanParquet(path) : pl.scanCSV(path, source.csv as never);
  if (offset > 0 || rows >= 0) lf = lf.slice(offset, rows >= 0 ? rows : Number.MAX_SAFE_INTEGER);
  if (source.columns) lf = lf.select(...source.columns.map((c) => pl.col(c)));
  if (source.predicate) lf = lf.filter(expr(source.predicate));
  return lf;
}
