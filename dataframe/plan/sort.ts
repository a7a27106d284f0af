// Sort on the cluster: sampled quantiles, a range shuffle, each range sorted. Each partition is
// made once and sampled (df/sample); one task picks P-1 boundary rows from all samples in the
// final order (df/boundaries); every partition is split by those ranges and output partition j
// gathers range j and sorts it, so the partitions in order are the sorted result. Equal keys
// always land in one range: many equal keys make one big partition, never a wrong order.
import type { Lowering, Part } from './lower.js';
import type { Op } from './nodes.js';

/** Rows each partition contributes to the boundaries, at most. */
export const SAMPLE_ROWS = 1000;

/** df/sample: the `by` columns of at most `rows` evenly spaced rows, weighted. */
export interface SampleParams {
  by: string[];
  rows: number;
}

/** df/boundaries: the samples (its inputs) in sort order, cut into `partitions` ranges. */
export interface BoundariesParams {
  by: string[];
  descending: boolean[];
  partitions: number;
}

export function sortParts(lowering: Lowering, parts: Part[], by: string[], descending: boolean[]): Part[] {
  const sort: Op = { op: 'sort', by, descending };
  if (parts.length === 1) return [{ ...parts[0]!, ops: [...parts[0]!.ops, sort] }];
  // Made once: read by its sample and by its split.
  const made = parts.map((p) => lowering.materialize(p, 'stage'));
  const sampleParams: SampleParams = { by, rows: SAMPLE_ROWS };
  const samples = made.map((key) => lowering.emit('df/sample', sampleParams, [key], 'sort-sample'));
  const boundaryParams: BoundariesParams = { by, descending, partitions: parts.length };
  const boundaries = lowering.emit('df/boundaries', boundaryParams, samples, 'sort-boundaries');
  const inputs: Part[] = made.map((key) => ({ inputs: [key], source: null, ops: [] }));
  return lowering.shuffle(inputs, { kind: 'range', by, descending }, parts.length, 'sort', boundaries)
    .map((p) => ({ ...p, ops: [sort] }));
}
