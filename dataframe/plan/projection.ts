// Projection pushdown: from the result down, the columns each node's consumer needs; a scan
// then reads only those (scan.columns), and derived columns nobody reads are not computed.
// Nodes that see every column (unique over whole rows, a user's mapPartitions, a wildcard)
// need all of their input. Schemas are rewritten along: a node's schema is what it outputs.
import { ALL, columnsRead, columnsReadAll, outputName, outputNames, type Columns } from './columns.js';
import { joinSources, type JoinNode } from './join-columns.js';
import type { Field, Op, PlanNode, Schema } from './nodes.js';

export function pruneColumns(node: PlanNode): PlanNode {
  return prune(node, ALL);
}

type WithInput = Extract<PlanNode, { input: PlanNode }>;

/** `node` rewritten to output (at least) the columns of `need` that it outputs, reading no more than that takes. */
function prune(node: PlanNode, need: Columns): PlanNode {
  switch (node.kind) {
    case 'scan': return narrowScan(node, need);
    case 'data': return node;
    case 'map': return pruneMap(node, need);
    case 'aggregate': return { ...node, input: prune(node.input, plus(columnsReadAll(node.aggs.map((a) => a.expr)), node.keys)) };
    case 'join': return pruneJoin(node, need);
    case 'sort': return passThrough(node, plus(need, node.by));
    case 'head': return passThrough(node, need);
    case 'unique': return passThrough(node, node.subset ? plus(need, node.subset) : ALL);
    case 'repartition': return passThrough(node, plus(need, node.by ?? []));
    case 'mapPartitions': return { ...node, input: prune(node.input, ALL) };
    case 'kernel': {
      // The kernel reads its columns and appends its own; what else is needed passes through.
      const added = new Set(node.call.added.map((f) => f.name));
      const input = prune(node.input, need === ALL ? ALL : plus(new Set([...need].filter((c) => !added.has(c))), node.call.reads));
      return { ...node, input, schema: [...input.schema, ...node.call.added] };
    }
  }
}

/** A node whose output columns are its input's. */
function passThrough<N extends WithInput>(node: N, need: Columns): N {
  const input = prune(node.input, need);
  return { ...node, input, schema: input.schema };
}

function narrowScan(node: Extract<PlanNode, { kind: 'scan' }>, need: Columns): PlanNode {
  const predicate = node.predicate === null ? new Set<string>() : columnsRead(node.predicate);
  if (need === ALL || predicate === ALL || node.schema.length === 0) return node;
  let keep = node.schema.filter((f) => need.has(f.name) || predicate.has(f.name));
  if (keep.length === node.schema.length) return node;
  // No column needed (a row count): one still gives the partition its rows.
  if (keep.length === 0) keep = [cheapest(node.schema)];
  return { ...node, columns: keep.map((f) => f.name), schema: keep };
}

function cheapest(schema: Schema): Field {
  return schema.find((f) => /^(Boolean|Bool|U?Int(8|16)|U?Int32|Float32|Date)$/.test(f.dtype))
    ?? schema.find((f) => /^(U?Int64|Float64|Datetime|Duration)/.test(f.dtype))
    ?? schema[0]!;
}

/**
 * A map's ops, last to first: what each needs from its input, derived columns nobody needs
 * removed; then forward again over the input's (narrowed) columns to name the output and to
 * fit drop/rename to the columns still there.
 */
function pruneMap(node: Extract<PlanNode, { kind: 'map' }>, need: Columns): PlanNode {
  const ops: Array<Op | null> = [...node.ops];
  let needed = need;
  for (let i = ops.length - 1; i >= 0; i--) [needed, ops[i]] = backward(node.ops[i]!, needed);
  const input = prune(node.input, needed);
  let names = input.schema.map((f) => f.name);
  const out: Op[] = [];
  for (const [i, op] of ops.entries()) {
    if (op === null) continue;
    const step = forward(op, names);
    // A select that ends the map outputs what it did before, named or not.
    if (!step && op.op === 'select' && i === ops.length - 1) names = node.schema.map((f) => f.name);
    else if (!step) return { ...node, input: prune(node.input, ALL) };
    else names = step.names;
    const kept = step ? step.op : op;
    if (kept) out.push(kept);
  }
  const dtypes = new Map(node.schema.map((f) => [f.name, f.dtype]));
  if (names.some((n) => !dtypes.has(n))) return { ...node, input: prune(node.input, ALL) };
  if (out.length === 0) return input;
  return { ...node, input, ops: out, schema: names.map((name) => ({ name, dtype: dtypes.get(name)! })) };
}

/** What `op` needs from its input when `after` is needed from its output, and the op (null: not needed at all). */
function backward(op: Op, after: Columns): [Columns, Op | null] {
  switch (op.op) {
    case 'filter': return [plus(after, columnsRead(op.predicate)), op];
    case 'withColumns': {
      const names = op.exprs.map(outputName);
      if (after === ALL || names.some((n) => n === undefined)) return [ALL, op];
      // Each expression runs on the input alone: one nobody reads can go.
      const exprs = op.exprs.filter((_, i) => after.has(names[i]!));
      if (exprs.length === 0) return [after, null];
      const passed = [...after].filter((c) => !names.includes(c));
      return [plus(columnsReadAll(exprs), passed), { ...op, exprs }];
    }
    case 'select': return [columnsReadAll(op.exprs), op];
    case 'drop': return [after, op];
    case 'rename': {
      if (after === ALL) return [ALL, op];
      const back = new Map(Object.entries(op.mapping).map(([from, to]) => [to, from]));
      return [new Set([...after].map((c) => back.get(c) ?? c)), op];
    }
    case 'head': case 'slice': return [after, op];
    case 'partitionIndex': return [after === ALL ? ALL : new Set([...after].filter((c) => c !== op.name)), op];
    case 'sort': return [plus(after, op.by), op];
    case 'unique': return [op.subset ? plus(after, op.subset) : ALL, op];
    // The planner's own (aggregate, finalize, expectSchema): not in a plan before lowering.
    default: return [ALL, op];
  }
}

/** The columns after `op` given those before, and the op fitted to them (null: nothing left to do); undefined when the names cannot be told. */
function forward(op: Op, names: string[]): { names: string[]; op: Op | null } | undefined {
  switch (op.op) {
    case 'filter': case 'head': case 'slice': case 'sort': case 'unique':
      return { names, op };
    case 'partitionIndex':
      return { names: names.includes(op.name) ? names : [...names, op.name], op };
    case 'withColumns': {
      const out = [...names];
      for (const e of op.exprs) {
        const name = outputName(e);
        if (name === undefined) return undefined;
        if (!out.includes(name)) out.push(name);
      }
      return { names: out, op };
    }
    case 'select': {
      const out = op.exprs.map(outputNames);
      return out.every((n) => n !== undefined) ? { names: out.flat() as string[], op } : undefined;
    }
    case 'drop': {
      const present = op.names.filter((n) => names.includes(n));
      return { names: names.filter((n) => !op.names.includes(n)), op: present.length ? { ...op, names: present } : null };
    }
    case 'rename': {
      const mapping = Object.fromEntries(Object.entries(op.mapping).filter(([from]) => names.includes(from)));
      return { names: names.map((n) => mapping[n] ?? n), op: Object.keys(mapping).length ? { ...op, mapping } : null };
    }
    case 'aggregate': return { names: [...op.keys, ...op.aggs.map((a) => a.as)], op };
    case 'finalize': return { names: [...op.keys, ...op.outputs.map((o) => o.as)], op };
    case 'expectSchema': return { names: op.schema.map((f) => f.name), op };
  }
}

/** Each side reads its keys and the columns needed from it. */
function pruneJoin(node: JoinNode, need: Columns): PlanNode {
  const sources = joinSources(node);
  if (!sources) return { ...node, left: prune(node.left, ALL), right: prune(node.right, ALL) };
  const wanted = need === ALL ? node.schema.map((f) => f.name) : [...need];
  const left = new Set(node.leftOn);
  const right = new Set(node.rightOn);
  for (const name of wanted) {
    const source = sources.get(name);
    if (source) (source.side === 'left' ? left : right).add(source.name);
  }
  // A right column named like a left one is suffixed only while the left one is there.
  const leftNames = new Set(node.left.schema.map((f) => f.name));
  for (const name of right) if (leftNames.has(name)) left.add(name);
  const newLeft = prune(node.left, left);
  const newRight = prune(node.right, right);
  const kept = { left: new Set(newLeft.schema.map((f) => f.name)), right: new Set(newRight.schema.map((f) => f.name)) };
  const schema = node.schema.filter((f) => {
    const source = sources.get(f.name)!;
    return kept[source.side].has(source.name);
  });
  const out: JoinNode = { ...node, left: newLeft, right: newRight, schema };
  return joinSources(out) ? out : { ...node, left: prune(node.left, ALL), right: prune(node.right, ALL) };
}

/** The union (every column when either is). */
function plus(cols: Columns, more: Columns | readonly string[]): Columns {
  return cols === ALL || more === ALL ? ALL : new Set([...cols, ...more]);
}
