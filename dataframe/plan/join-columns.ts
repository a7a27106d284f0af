// Where a join's output columns come from, by Polars' naming: the left side's columns as they
// are, then the right side's (its keys too in an outer join, as Polars keeps them there), a
// right name that clashes with a left one taking the suffix. Semi and anti joins output the
// left side only.
import type { PlanNode } from './nodes.js';

export type JoinNode = Extract<PlanNode, { kind: 'join' }>;

export interface JoinSource {
  side: 'left' | 'right';
  /** The column's name on its side. */
  name: string;
}

/** The source of each output column (by output name), or undefined when the node's schema does not follow the rule (then nothing is rewritten). */
export function joinSources(node: JoinNode): Map<string, JoinSource> | undefined {
  const expected = outputsOf(node);
  const names = node.schema.map((f) => f.name);
  if (expected.length !== names.length || expected.some(([out], i) => out !== names[i])) return undefined;
  return new Map(expected);
}

function outputsOf(node: JoinNode): Array<[string, JoinSource]> {
  const leftNames = new Set(node.left.schema.map((f) => f.name));
  const out: Array<[string, JoinSource]> = node.left.schema.map((f) => [f.name, { side: 'left', name: f.name }]);
  if (node.how === 'semi' || node.how === 'anti') return out;
  const rightKeys = new Set(node.rightOn);
  for (const { name } of node.right.schema) {
    if (node.how !== 'outer' && rightKeys.has(name)) continue;
    out.push([leftNames.has(name) ? name + node.suffix : name, { side: 'right', name }]);
  }
  return out;
}
