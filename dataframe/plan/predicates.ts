// Predicate pushdown: a filter moves towards the scan past what it commutes with, and into the
// scan itself, so rows are dropped as they are read. Only row-wise filters move (a filter that
// looks at other rows, a mean or a shift, would see a different frame), and only past
// operations that keep each row's values and do not define what the filter reads.
import { ALL, columnsRead, isRecord, outputName, renameColumns, within } from './columns.js';
import { isRowwise } from './elementwise.js';
import { joinSources } from './join-columns.js';
import type { Expr, Op, PlanNode } from './nodes.js';

export function pushPredicates(node: PlanNode): PlanNode {
  return push(node, []);
}

/** `node` filtered by `preds` (row-wise, named as node's output columns), each filter as early as it can be. */
function push(node: PlanNode, preds: Expr[]): PlanNode {
  switch (node.kind) {
    case 'scan':
      return preds.length ? { ...node, predicate: and(node.predicate === null ? preds : [node.predicate, ...preds]) } : node;
    case 'data':
      return filtered(node, preds);
    case 'map':
      return pushIntoMap(node, preds);
    case 'sort':
    case 'repartition':
      // Order and placement change, each row stays as it is.
      return { ...node, input: push(node.input, preds) };
    case 'unique': {
      // Rows equal on the subset all pass or all fail a filter that reads only the subset.
      const subset = node.subset ? new Set(node.subset) : null;
      const [down, stay] = split(preds, (p) => (subset === null || within(columnsRead(p), subset) ? p : undefined));
      return filtered({ ...node, input: push(node.input, down) }, stay);
    }
    case 'aggregate': {
      // A filter on the group keys drops whole groups: the same before as after.
      const keys = new Set(node.keys);
      const [down, stay] = split(preds, (p) => {
        const read = columnsRead(p);
        return keys.size > 0 && read !== ALL && read.size > 0 && within(read, keys) ? p : undefined;
      });
      return filtered({ ...node, input: push(node.input, down) }, stay);
    }
    case 'join':
      return pushIntoJoin(node, preds);
    case 'head':
    case 'mapPartitions':
    case 'kernel':
      return filtered({ ...node, input: push(node.input, []) }, preds);
  }
}

/** The map's own row-wise filters join the ones from above; each moves back past the ops it commutes with. */
function pushIntoMap(node: Extract<PlanNode, { kind: 'map' }>, preds: Expr[]): PlanNode {
  let pending = preds; // filters right after the op being looked at, named as its output
  const reversed: Op[] = [];
  for (let i = node.ops.length - 1; i >= 0; i--) {
    const op = node.ops[i]!;
    if (op.op === 'filter' && isRowwise(op.predicate)) {
      pending = [...conjuncts(op.predicate), ...pending];
      continue;
    }
    const [down, stay] = split(pending, (p) => pastOp(op, p));
    for (const p of stay.reverse()) reversed.push({ op: 'filter', predicate: p });
    reversed.push(op);
    pending = down;
  }
  const input = push(node.input, pending);
  if (reversed.length === 0) return input;
  const ops = reversed.reverse();
  // Filters left right under this map (above a join, say) run in the same fused plan.
  return input.kind === 'map' ? { ...node, input: input.input, ops: [...input.ops, ...ops] } : { ...node, input, ops };
}

/** `a & b & c` as [a, b, c]: a row passes the whole exactly when it passes each (null counts as failing). */
function conjuncts(p: Expr): Expr[] {
  if (isRecord(p) && isRecord(p.BinaryExpr) && (p.BinaryExpr.op === 'And' || p.BinaryExpr.op === 'LogicalAnd')) {
    return [...conjuncts(p.BinaryExpr.left), ...conjuncts(p.BinaryExpr.right)];
  }
  return [p];
}

/** `p` named as `op`'s input, when the filter may run before `op` instead of after it. */
function pastOp(op: Op, p: Expr): Expr | undefined {
  const read = columnsRead(p);
  if (read === ALL) return op.op === 'sort' ? p : undefined;
  switch (op.op) {
    case 'withColumns': {
      const defined = op.exprs.map(outputName);
      if (!op.exprs.every(isRowwise) || defined.some((n) => n === undefined || read.has(n))) return undefined;
      return p;
    }
    case 'select': {
      // Through columns the select passes on (renamed or not), when every output is row-wise
      // (a select of literals alone is one row, whatever the rows before).
      if (read.size === 0 || !op.exprs.every(isRowwise)) return undefined;
      const source = new Map<string, string>();
      for (const e of op.exprs) {
        const from = passedColumn(e);
        const name = outputName(e);
        if (from !== undefined && name !== undefined) source.set(name, from);
      }
      return [...read].every((c) => source.has(c)) ? renameColumns(p, (c) => source.get(c)!) : undefined;
    }
    case 'drop':
      return p;
    case 'rename': {
      const back = new Map(Object.entries(op.mapping).map(([from, to]) => [to, from]));
      return renameColumns(p, (c) => back.get(c) ?? c);
    }
    case 'sort':
      return p;
    case 'unique':
      return op.subset === null || within(read, new Set(op.subset)) ? p : undefined;
    default:
      // head, a filter that is not row-wise, the planner's aggregate/finalize
      return undefined;
  }
}

/** The input column a select expression passes on as it is (maybe renamed). */
function passedColumn(e: Expr): string | undefined {
  let inner = e;
  if (isRecord(inner) && Array.isArray(inner.Alias)) inner = inner.Alias[0];
  return isRecord(inner) && typeof inner.Column === 'string' ? inner.Column : undefined;
}

/** Filters on the left side's columns go to the left input (all joins but outer), those on the right's to the right input (inner joins). */
function pushIntoJoin(node: Extract<PlanNode, { kind: 'join' }>, preds: Expr[]): PlanNode {
  const sources = joinSources(node);
  const left: Expr[] = [];
  const right: Expr[] = [];
  const stay: Expr[] = [];
  for (const p of preds) {
    const read = columnsRead(p);
    const from = read === ALL || read.size === 0 || !sources ? [] : [...read].map((c) => sources.get(c));
    const side = from.length && from.every((s) => s?.side === 'left') ? 'left' : from.length && from.every((s) => s?.side === 'right') ? 'right' : undefined;
    const named = (c: string) => sources!.get(c)!.name;
    if (side === 'left' && node.how !== 'outer') left.push(renameColumns(p, named));
    else if (side === 'right' && node.how === 'inner') right.push(renameColumns(p, named));
    else stay.push(p);
  }
  return filtered({ ...node, left: push(node.left, left), right: push(node.right, right) }, stay);
}

/** Splits `preds` into those `move` rewrites (moved down) and those it refuses (kept), order kept. */
function split(preds: Expr[], move: (p: Expr) => Expr | undefined): [Expr[], Expr[]] {
  const down: Expr[] = [];
  const stay: Expr[] = [];
  for (const p of preds) {
    const moved = move(p);
    if (moved === undefined) stay.push(p);
    else down.push(moved);
  }
  return [down, stay];
}

/** `node` followed by the filters (appended to it when it is a map). */
function filtered(node: PlanNode, preds: Expr[]): PlanNode {
  if (preds.length === 0) return node;
  const ops: Op[] = preds.map((predicate) => ({ op: 'filter', predicate }));
  if (node.kind === 'map') return { ...node, ops: [...node.ops, ...ops] };
  return { kind: 'map', input: node, ops, schema: node.schema };
}

/** The conjunction of the predicates (each once): a row passes all filters exactly when it passes this one. */
function and(preds: Expr[]): Expr {
  const distinct = [...new Map(preds.map((p) => [JSON.stringify(p), p])).values()];
  return distinct.reduce((left, right) => ({ BinaryExpr: { left, op: 'And', right } }));
}
