// explain(): a plan as indented text, one node per line, inputs below their consumer.
import { strategyText } from './join-strategy.js';
import type { Expr, Op, PlanNode } from './nodes.js';
import { joinStrategyOf } from './partitions.js';

export function explainPlan(node: PlanNode, indent = ''): string {
  const lines = [indent + describeNode(node)];
  for (const child of inputsOf(node)) lines.push(explainPlan(child, `${indent}  `));
  return lines.join('\n');
}

function inputsOf(node: PlanNode): PlanNode[] {
  switch (node.kind) {
    case 'scan': case 'data': return [];
    case 'join': return [node.left, node.right];
    default: return [node.input];
  }
}

function describeNode(node: PlanNode): string {
  switch (node.kind) {
    case 'scan': {
      const files = new Set(node.parts.map((p) => p.path)).size;
      const cols = node.columns ? ` columns=[${node.columns.join(', ')}]` : '';
      const pred = node.predicate ? ` filter=${exprText(node.predicate)}` : '';
      return `Scan ${node.format} ${files} file(s), ${node.parts.length} partition(s)${cols}${pred}`;
    }
    case 'data': return `Data ${node.keys.length} partition(s)`;
    case 'map': return `Map (fused, per partition): ${node.ops.map(opText).join(' -> ')}`;
    case 'aggregate': return `Aggregate by [${node.keys.join(', ')}]: ${node.aggs.map((a) => a.name).join(', ')}${node.splitOut > 1 ? ` into ${node.splitOut} partitions` : ''}`;
    case 'join': return `Join ${node.how} on [${node.leftOn.join(', ')}] = [${node.rightOn.join(', ')}]: ${strategyText(joinStrategyOf(node))}`;
    case 'sort': return `Sort by [${sortKeys(node.by, node.descending)}], nulls first`;
    case 'head': return `Head ${node.n}${node.input.kind === 'sort' ? ' (top-N: each partition sorted and cut to n, no shuffle)' : ''}`;
    case 'unique': return `Unique${node.subset ? ` on [${node.subset.join(', ')}]` : ''}`;
    case 'repartition': return `Repartition into ${node.partitions}${node.by ? ` by hash of [${node.by.join(', ')}]` : ''}`;
    case 'mapPartitions': return `MapPartitions ${node.fn.name}`;
  }
}

function opText(op: Op): string {
  switch (op.op) {
    case 'filter': return `filter ${exprText(op.predicate)}`;
    case 'withColumns': return `withColumns ${op.exprs.map(exprText).join(', ')}`;
    case 'select': return `select ${op.exprs.map(exprText).join(', ')}`;
    case 'drop': return `drop ${op.names.join(', ')}`;
    case 'rename': return `rename ${Object.entries(op.mapping).map(([a, b]) => `${a}->${b}`).join(', ')}`;
    case 'head': return `head ${op.n}`;
    case 'slice': return `slice ${op.index + 1}/${op.of}`;
    case 'sort': return `sort ${sortKeys(op.by, op.descending)}`;
    case 'unique': return 'unique';
    case 'aggregate': return `aggregate by [${op.keys.join(', ')}]`;
    case 'finalize': return 'finalize';
    case 'expectSchema': return `expect the schema of ${op.what}`;
  }
}

function sortKeys(by: string[], descending: boolean[]): string {
  return by.map((b, i) => `${b}${descending[i] ? ' desc' : ''}`).join(', ');
}

/** A compact text of a serialized expression: columns, literals and operators. */
export function exprText(e: Expr): string {
  if (typeof e === 'string') return e;
  if (e === null || typeof e !== 'object') return String(e);
  if (Array.isArray(e)) return e.map(exprText).join(', ');
  const [[name, body]] = Object.entries(e as Record<string, unknown>) as [[string, unknown]];
  if (name === 'Column') return `col(${String(body)})`;
  if (name === 'Alias' && Array.isArray(body)) return `${exprText(body[0])} as ${String(body[1])}`;
  if (name === 'Literal') return JSON.stringify(Object.values((body as { Scalar?: Record<string, unknown> }).Scalar ?? { v: body })[0]);
  if (name === 'BinaryExpr') {
    const b = body as { left: Expr; op: string; right: Expr };
    return `(${exprText(b.left)} ${b.op} ${exprText(b.right)})`;
  }
  return `${name}(${exprText(body)})`;
}
