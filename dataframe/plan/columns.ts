// What a serialized Polars expression reads and what it is named, from its JSON alone (pure).
// Anything this cannot tell for sure says so (ALL, undefined), and the optimizer then leaves
// the plan as it is: a missed rewrite costs time, a wrong one would cost the answer.
import type { Expr } from './nodes.js';

/** Every column of the frame the expression runs on (a wildcard, a dtype or regex selector, nth...). */
export const ALL = 'all';

/** A set of column names, or every column. */
export type Columns = ReadonlySet<string> | typeof ALL;

/** The columns `e` reads. */
export function columnsRead(e: Expr): Columns {
  const out = new Set<string>();
  return collect(e, out) ? out : ALL;
}

/** The union of what several expressions read. */
export function columnsReadAll(exprs: readonly Expr[]): Columns {
  const out = new Set<string>();
  for (const e of exprs) if (!collect(e, out)) return ALL;
  return out;
}

/** Older serializations' name-independent selections: all of them read every column. */
const SELECTS_BY_POSITION_OR_TYPE = new Set(['Wildcard', 'Nth', 'Exclude', 'DtypeColumn', 'IndexColumn']);

/** Adds the columns `e` reads to `out`; false when it selects columns other than by name. */
function collect(e: Expr, out: Set<string>): boolean {
  if (Array.isArray(e)) return e.every((x) => collect(x, out));
  if (!isRecord(e)) return true; // "Len", "Element", numbers, options
  for (const [key, value] of Object.entries(e)) {
    if (key === 'Literal') continue; // values, not columns
    if (key === 'Column' && typeof value === 'string') out.add(value);
    else if (key === 'Columns' && Array.isArray(value)) value.forEach((v) => out.add(String(v)));
    else if (key === 'Selector') {
      const names = selectorNames(value);
      if (!names) return false;
      names.forEach((n) => out.add(n));
    } else if (SELECTS_BY_POSITION_OR_TYPE.has(key)) return false;
    else if (!collect(value, out)) return false;
  }
  return true;
}

/** The names a selector picks when it picks by name only (pl.col(['a', 'b'])), else undefined. */
function selectorNames(selector: unknown): string[] | undefined {
  if (!isRecord(selector) || !isRecord(selector.ByName)) return undefined;
  const names = selector.ByName.names;
  return Array.isArray(names) && names.every((n) => typeof n === 'string') ? names : undefined;
}

/**
 * The names of the columns `e` outputs, in order, or undefined when that depends on the frame
 * (a wildcard) or on a naming rule this does not know.
 */
export function outputNames(e: Expr): string[] | undefined {
  if (isRecord(e) && 'Selector' in e) return selectorNames(e.Selector);
  const name = outputName(e);
  return name === undefined ? undefined : [name];
}

/**
 * The output name of a one-column expression: its alias, else Polars' rule (the name of its
 * leftmost input: the column, "literal", "len"); undefined where unsure.
 */
export function outputName(e: Expr): string | undefined {
  if (e === 'Len') return 'len';
  if (!isRecord(e)) return undefined;
  const entries = Object.entries(e);
  if (entries.length !== 1) return undefined;
  const [[kind, body]] = entries as [[string, unknown]];
  switch (kind) {
    case 'Alias': return Array.isArray(body) && typeof body[1] === 'string' ? body[1] : undefined;
    case 'Column': return typeof body === 'string' ? body : undefined;
    case 'Literal': return 'literal';
    case 'BinaryExpr': return isRecord(body) ? outputName(body.left) : undefined;
    case 'Ternary': return isRecord(body) ? outputName(body.truthy) : undefined;
    case 'Cast': case 'Sort': case 'SortBy': case 'Gather': return isRecord(body) ? outputName(body.expr) : undefined;
    case 'Filter': case 'Slice': case 'Explode': return isRecord(body) ? outputName(body.input) : undefined;
    case 'Over': return isRecord(body) ? outputName(body.function) : undefined;
    case 'Agg': {
      if (!isRecord(body)) return undefined;
      const inner = Object.values(body)[0];
      if (Array.isArray(inner)) return outputName(inner[0]);
      return outputName(isRecord(inner) && 'input' in inner ? inner.input : inner);
    }
    case 'Function': {
      // Functions that name their output themselves (a struct's field...) are not known here.
      if (!isRecord(body) || !Array.isArray(body.input) || JSON.stringify(body.function).includes('Struct')) return undefined;
      return outputName(body.input[0]);
    }
    case 'KeepName': {
      const read = columnsRead(body);
      return read !== ALL && read.size === 1 ? [...read][0] : undefined;
    }
    case 'RenameAlias': {
      if (!isRecord(body) || !isRecord(body.function)) return undefined;
      const inner = outputName(body.expr);
      const { Prefix: prefix, Suffix: suffix } = body.function;
      if (inner === undefined) return undefined;
      if (typeof prefix === 'string') return prefix + inner;
      if (typeof suffix === 'string') return inner + suffix;
      return undefined;
    }
    default: return undefined;
  }
}

/** `e` with the columns it reads renamed by `rename` (given each name read, returns the new one). */
export function renameColumns(e: Expr, rename: (name: string) => string): Expr {
  if (Array.isArray(e)) return e.map((x) => renameColumns(x, rename));
  if (!isRecord(e)) return e;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(e)) {
    if (key === 'Literal') out[key] = value;
    else if (key === 'Column' && typeof value === 'string') out[key] = rename(value);
    else if (key === 'Columns' && Array.isArray(value)) out[key] = value.map((v) => rename(String(v)));
    else if (key === 'Selector' && selectorNames(value)) {
      const byName = (value as { ByName: Record<string, unknown> }).ByName;
      out[key] = { ByName: { ...byName, names: selectorNames(value)!.map(rename) } };
    } else out[key] = renameColumns(value, rename);
  }
  return out;
}

/** Whether every column of `cols` is in `names` (ALL never is). */
export function within(cols: Columns, names: ReadonlySet<string>): boolean {
  return cols !== ALL && [...cols].every((c) => names.has(c));
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
