// df/join: one partition of a join. Each side is made from its share of the inputs (a file's
// rows read, partitions concatenated, or a bucket of each of a shuffle's splits gathered, then
// its ops), the two joined by Polars as the user asked, then the ops that follow, as one plan.
import type pl from 'nodejs-polars';
import type { Kernel, KernelContext } from '../../worker/runtime/builtins.js';
import type { StoredValue } from '../../worker/runtime/data-store.js';
import type { JoinParams, JoinSide } from '../plan/tasks.js';
import { nativeFrame } from './frames.js';
import { applyOps } from './ops.js';
import { gatherBucket } from './shuffle.js';
import { runStage } from './stage.js';

export const join: Kernel = async (params, inputs, context) => {
  const p = params as JoinParams;
  const left = await side(p.left, inputs.slice(0, p.left.inputs), `left side of ${context.key}`, context);
  const right = await side(p.right, inputs.slice(p.left.inputs), `right side of ${context.key}`, context);
  const { leftOn, rightOn, how, suffix } = p.join;
  // Lazy, as on the client: Polars' lazy join compares keys of different numeric dtypes in their supertype.
  const joined = left.join(right, { leftOn, rightOn, how, suffix } as never);
  return nativeFrame(await applyOps(joined, p.ops).collect());
};

async function side(s: JoinSide, inputs: StoredValue[], what: string, context: KernelContext): Promise<pl.LazyDataFrame> {
  if (s.take) return applyOps((await gatherBucket(inputs[0]!, s.take.bucket, s.take.partitions, { ...context, key: what })).lazy(), s.ops);
  // A stage's own error handling: a file that cannot be read is named.
  return (await runStage({ source: s.source, ops: s.ops }, inputs, what)).lazy();
}
