// explain(): a plan as indented text, one node per line, inputs below their consumer.
import { isRecord } from './columns.js';
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
    case 'aggregate': return `Aggregate by [${node.keys.join(', ')}]: ${node.aggs.map((a) => exprText(a.expr)).join(', ')}${node.splitOut > 1 ? ` into ${node.splitOut} partitions` : ''}`;
    case 'join': return `Join ${node.how} on [${node.leftOn.join(', ')}] = [${node.rightOn.join(', ')}]: ${strategyText(joinStrategyOf(node))}`;
    case 'sort': return `Sort by [${sortKeys(node.by, node.descending)}], nulls first`;
    case 'head': return `Head ${node.n}${node.input.kind === 'sort' ? ' (top-N: each partition sorted and cut to n, no shuffle)' : ''}`;
    case 'unique': return `Unique${node.subset ? ` on [${node.subset.join(', ')}]` : ''}`;
    case 'repartition': return `Repartition into ${node.partitions}${node.by ? ` by hash of [${node.by.join(', ')}]` : ''}`;
    case 'mapPartitions': return `MapPartitions ${node.fn.name}`;
    case 'kernel': return `${node.call.what} (per partition) reading [${node.call.reads.join(', ')}], adding [${node.call.added.map((f) => f.name).join(', ')}]`;
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
    case 'partitionIndex': return `partition number as ${op.name}`;
    case 'sort': return `sort ${sortKeys(op.by, op.descending)}`;
    case 'topN': return `first ${op.n} by ${sortKeys(op.by, op.descending)}`;
    case 'unique': return 'unique';
    case 'aggregate': return `aggregate by [${op.keys.join(', ')}]`;
    case 'finalize': return 'finalize';
    case 'expectSchema': return `expect the schema of ${op.what}`;
  }
}

function sortKeys(by: string[], descending: boolean[]): string {
  return by.map((b, i) => `${b}${descending[i] ? ' desc' : ''}`).join(', ');
}

const OPERATORS: Record<string, string> = {
  Eq: '==', EqValidity: '==', NotEq: '!=', NotEqValidity: '!=', Lt: '<', LtEq: '<=', Gt: '>', GtEq: '>=',
  Plus: '+', Minus: '-', Multiply: '*', Divide: '/', RustDivide: '/', TrueDivide: '/', FloorDivide: '//', Modulus: '%',
  And: '&', Or: '|', Xor: '^', LogicalAnd: 'and', LogicalOr: 'or',
};

/** A compact text of a serialized expression, close to how it was written: col(a) > 3, mean(col(b)). */
export function exprText(e: Expr): string {
  if (e === 'Len') return 'len()';
  if (e === 'Element') return 'element()';
  if (typeof e === 'string') return e;
  if (e === null || typeof e !== 'object') return String(e);
  if (Array.isArray(e)) return e.map(exprText).join(', ');
  const [[name, body]] = Object.entries(e as Record<string, unknown>) as [[string, unknown]];
  const b = body as Record<string, unknown>;
  switch (name) {
    case 'Column': return `col(${String(body)})`;
    case 'Alias': return `${exprText((body as Expr[])[0])} as ${String((body as Expr[])[1])}`;
    case 'Literal': return literalText(body);
    case 'BinaryExpr': return `(${exprText(b.left)} ${OPERATORS[String(b.op)] ?? String(b.op)} ${exprText(b.right)})`;
    case 'Cast': return `cast(${exprText(b.expr)}, ${variant(b.dtype)})`;
    case 'Ternary': return `when(${exprText(b.predicate)}).then(${exprText(b.truthy)}).otherwise(${exprText(b.falsy)})`;
    case 'Function': return `${lowerFirst(variant(b.function))}(${exprText(b.input)})`;
    case 'Agg': {
      const [[fn, inner]] = Object.entries(b) as [[string, unknown]];
      const input = Array.isArray(inner) ? inner[0] : isRecord(inner) && 'input' in inner ? inner.input : inner;
      return `${lowerFirst(fn)}(${exprText(input)})`;
    }
    case 'Selector': return selectorText(body);
    default: return `${lowerFirst(name)}(…)`;
  }
}

/** A scalar literal's value; a list or series as [...]. */
function literalText(body: unknown): string {
  const inner = isRecord(body) ? body.Scalar ?? body.Dyn : undefined;
  if (!isRecord(inner)) return '[…]';
  const [[type, value]] = Object.entries(inner) as [[string, unknown]];
  if (type === 'Null') return 'null';
  if (type === 'List' || Array.isArray(value)) return '[…]';
  return JSON.stringify(value);
}

function selectorText(body: unknown): string {
  if (body === 'Wildcard') return 'all()';
  const names = isRecord(body) && isRecord(body.ByName) ? body.ByName.names : undefined;
  return Array.isArray(names) ? `cols(${names.join(', ')})` : `selector(${variant(body)})`;
}

/** Polars' function families, named by their member: {"Boolean": "IsNull"} is isNull. */
const FAMILIES = new Set(['Boolean', 'StringExpr', 'TemporalExpr', 'ListExpr', 'ArrayExpr', 'StructExpr', 'BinaryExpr', 'Range', 'Trigonometry', 'Categorical']);

/** A serialized enum's variant name ({"Round": {...}} is Round), a family's member's for a family. */
function variant(v: unknown): string {
  if (typeof v === 'string') return v;
  if (!isRecord(v)) return String(v);
  const [[name, inner]] = Object.entries(v) as [[string, unknown]];
  return FAMILIES.has(name) || name === 'Literal' ? variant(inner) : name;
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}
