// What a plan's result weighs, from metadata alone (row counts of scans and of data on the
// cluster, dtype widths): an upper-bound estimate for choosing a join's strategy, never exact.
import type { PlanNode, Schema } from './nodes.js';

/** Bytes per string value assumed when only the dtype is known: its offset plus a short text. */
export const STRING_BYTES = 24;

type RowCounters = { [K in PlanNode['kind']]: (node: Extract<PlanNode, { kind: K }>) => number | undefined };

// Per-partition ops (filter, select, ...) are taken not to add rows; what can (a join, a user
// function) or what has no known bound (groups) is unknown.
const rowCounters: RowCounters = {
  scan: (n) => sum(n.parts.map((p) => (p.rows >= 0 ? p.rows : undefined))),
  data: (n) => (n.rows ? sum(n.rows) : undefined),
  map: (n) => estimateRows(n.input),
  aggregate: (n) => (n.keys.length === 0 ? 1 : undefined),
  join: () => undefined,
  sort: (n) => estimateRows(n.input),
  head: (n) => Math.min(n.n, estimateRows(n.input) ?? n.n),
  unique: (n) => estimateRows(n.input),
  repartition: (n) => estimateRows(n.input),
  mapPartitions: () => undefined,
  kernel: (n) => estimateRows(n.input),
};

/** At most how many rows `node` gives, or undefined when metadata cannot say. */
export function estimateRows(node: PlanNode): number | undefined {
  return (rowCounters[node.kind] as (n: PlanNode) => number | undefined)(node);
}

/** About how many bytes `node`'s result holds in memory, or undefined when metadata cannot say. */
export function estimateBytes(node: PlanNode): number | undefined {
  if (node.kind === 'data' && node.bytes !== null) return node.bytes;
  const rows = estimateRows(node);
  return rows === undefined ? undefined : rows * rowBytes(node.schema);
}

/** Bytes of one row: fixed widths by dtype, STRING_BYTES per string, 16 for nested values. */
export function rowBytes(schema: Schema): number {
  let bytes = 0;
  for (const { dtype } of schema) bytes += FIXED_WIDTH.find(([re]) => re.test(dtype))?.[1] ?? (/String|Utf8|Binary/.test(dtype) ? STRING_BYTES : 16);
  return bytes;
}

const FIXED_WIDTH: Array<[RegExp, number]> = [
  [/^(Int8|UInt8|Boolean|Bool)\b/, 1], [/^(Int16|UInt16)\b/, 2], [/^(Int32|UInt32|Float32|Date|Categorical|Enum)\b/, 4],
  [/^(Int64|UInt64|Float64|Datetime|Duration|Time)\b/, 8], [/^Decimal\b/, 16], [/^Null\b/, 0],
];

function sum(values: Array<number | undefined>): number | undefined {
  let total = 0;
  for (const v of values) {
    if (v === undefined) return undefined;
    total += v;
  }
  return total;
}
