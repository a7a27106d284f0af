// How a join runs, decided from metadata alone (the planner and explain() both ask here):
// broadcast the side known to be small (made into one partition, joined with each partition of
// the other side where it lies), or hash-shuffle both sides by their keys so equal keys meet.
import type { PlanNode } from './nodes.js';
import { estimateBytes } from './size.js';

type JoinNode = Extract<PlanNode, { kind: 'join' }>;

/**
 * The most a side may weigh (estimated from metadata) to be broadcast. Every task of the other
 * side builds its hash table from the whole small side, and every worker holds a copy, so the
 * small side must stay well below a partition of the other (a default partition is 1 M rows,
 * tens of MB): there, re-hashing it per task costs less than moving the big side through a
 * shuffle. Spark's default for the same choice is 10 MB.
 */
export const BROADCAST_MAX_BYTES = 16 * 1024 * 1024;

export type JoinStrategy =
  /** `side` made into one partition and joined with each of the other side's `partitions`. */
  | { kind: 'broadcast'; side: 'left' | 'right'; partitions: number; why: string }
  /** Both sides hash-shuffled by their keys into `partitions`; bucket j joins bucket j. */
  | { kind: 'shuffle'; partitions: number };

/** How `node` joins, its sides having `leftParts` and `rightParts` partitions. */
export function joinStrategy(node: JoinNode, leftParts: number, rightParts: number): JoinStrategy {
  if (leftParts === 1 && rightParts === 1) return { kind: 'broadcast', side: 'right', partitions: 1, why: 'both sides are one partition' };
  // Every task sees the broadcast side whole, so its unmatched rows would come out of every
  // task: only a side whose unmatched rows are dropped may be broadcast (the right of an
  // inner, left, semi or anti join; the left of an inner one).
  const right = node.how === 'outer' ? undefined : smallSide(node.right);
  const left = node.how === 'inner' ? smallSide(node.left) : undefined;
  if (left && (!right || left.bytes < right.bytes)) return { kind: 'broadcast', side: 'left', partitions: rightParts, why: left.why };
  if (right) return { kind: 'broadcast', side: 'right', partitions: leftParts, why: right.why };
  return { kind: 'shuffle', partitions: Math.max(leftParts, rightParts) };
}

/** Why `node` is small enough to broadcast, and its estimated bytes; undefined when not known to be. */
export function smallSide(node: PlanNode): { why: string; bytes: number } | undefined {
  const bytes = estimateBytes(node);
  if (bytes !== undefined) return bytes <= BROADCAST_MAX_BYTES ? { why: `about ${formatBytes(bytes)} by metadata`, bytes } : undefined;
  // An aggregation asked for one output partition: the user expects few groups (groupBy's
  // partitions(n) is for many), and the result is one partition on one worker anyway.
  const agg = aggregateUnder(node);
  return agg && agg.splitOut <= 1 ? { why: 'an aggregation into one partition', bytes: Infinity } : undefined;
}

/** The aggregation under per-partition work that keeps its rows (a map, a sort, a unique). */
function aggregateUnder(node: PlanNode): Extract<PlanNode, { kind: 'aggregate' }> | undefined {
  if (node.kind === 'aggregate') return node;
  if (node.kind === 'map' || node.kind === 'sort' || node.kind === 'unique') return aggregateUnder(node.input);
  return undefined;
}

export function strategyText(s: JoinStrategy): string {
  return s.kind === 'broadcast'
    ? `broadcast ${s.side} (${s.why}) to each of ${s.partitions} partition(s)`
    : `shuffle both sides by the keys into ${s.partitions} partition(s)`;
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
