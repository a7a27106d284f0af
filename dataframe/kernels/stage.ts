// df/stage: one partition made whole: a file's row range read, or its input partitions
// concatenated, then the fused ops, collected on Polars' thread pool (async: the worker's
// event loop keeps serving meanwhile). Small inputs (combining partial aggregates) are
// collected in place: an async collect costs milliseconds of hand-over, more than the work.
import pl from 'nodejs-polars';
import type { Kernel } from '../../worker/runtime/builtins.js';
import type { StoredValue } from '../../worker/runtime/data-store.js';
import type { Op } from '../plan/nodes.js';
import type { SourceSpec, StageParams } from '../plan/tasks.js';
import { ScanError } from './errors.js';
import { nativeFrame, toFrame } from './frames.js';
import { applyOps } from './ops.js';

/** Input rows up to which a stage runs on the event loop (a few milliseconds of work at most). */
const SMALL_ROWS = 20_000;

export const stage: Kernel = async (params, inputs, context) => nativeFrame(await runStage(params as StageParams, inputs, context.key));

/** The partition a stage makes: its source read or its inputs concatenated, then its ops. */
export async function runStage(p: StageParams, inputs: StoredValue[], key: string): Promise<pl.DataFrame> {
  let lf: pl.LazyDataFrame;
  let rows = Infinity;
  if (p.source) lf = scan(p.source);
  else {
    const frames = inputs.map((v, i) => toFrame(v, `input ${i} of ${key}`));
    rows = frames.reduce((n, f) => n + f.height, 0);
    lf = frames.length === 1 ? frames[0]!.lazy() : pl.concat(frames.map((f) => f.lazy()), { how: 'vertical' as never }) as unknown as pl.LazyDataFrame;
  }
  const out = applyOps(lf, p.ops);
  if (!p.source) return collectSized(out, rows);
  try {
    return await out.collect();
  } catch (err) {
    throw new ScanError(p.source.part.path, (err as Error).message, { cause: err });
  }
}

/** A frame a kernel made, then the ops that follow it in the plan (StageParams' rule for collecting). */
export async function runPost(frame: pl.DataFrame, ops: Op[]): Promise<pl.DataFrame> {
  return ops.length === 0 ? frame : collectSized(applyOps(frame.lazy(), ops), frame.height);
}

function collectSized(lf: pl.LazyDataFrame, rows: number): pl.DataFrame | Promise<pl.DataFrame> {
  return rows <= SMALL_ROWS ? lf.collectSync() : lf.collect();
}

function scan(source: SourceSpec): pl.LazyDataFrame {
  const { path, offset, rows } = source.part;
  let lf = source.format === 'parquet' ? pl.scanParquet(path) : pl.scanCSV(path, source.csv as never);
  if (offset > 0 || rows >= 0) lf = lf.slice(offset, rows >= 0 ? rows : Number.MAX_SAFE_INTEGER);
  // As ops, so their expressions are built once per worker (see ops.ts).
  const ops: Op[] = [];
  if (source.columns) ops.push({ op: 'select', exprs: source.columns.map((c) => ({ Column: c })) });
  if (source.predicate) ops.push({ op: 'filter', predicate: source.predicate });
  return applyOps(lf, ops);
}
