// Whether a serialized expression is row-wise: each output row depends on its own input row
// only. Only then does a filter commute with it (a mean, a cumulative sum, a shift or a window
// would see other rows if the filter moved). A list of what is known to be row-wise; anything
// else is not, and stops the filter.
import { isRecord } from './columns.js';
import type { Expr } from './nodes.js';

/** Functions (by their serialized name) that work row by row. */
const ROWWISE_FUNCTIONS = new Set([
  'Abs', 'Negate', 'Round', 'Floor', 'Ceil', 'Clip', 'Pow', 'Log', 'Exp', 'Sign', 'Sqrt', 'Cbrt',
  'FillNull', 'Coalesce', 'MaxHorizontal', 'MinHorizontal', 'SumHorizontal', 'MeanHorizontal',
]);

/** Members of function families that work row by row (str.concat aggregates; strptime without a format infers one from the rows). */
const ROWWISE_FAMILIES: Record<string, ReadonlySet<string>> = {
  Boolean: new Set(['Not', 'IsNull', 'IsNotNull', 'IsNan', 'IsNotNan', 'IsFinite', 'IsInfinite', 'IsIn', 'IsBetween', 'AnyHorizontal', 'AllHorizontal']),
  StringExpr: new Set([
    'Contains', 'StartsWith', 'EndsWith', 'Replace', 'Slice', 'Head', 'Tail', 'Lowercase', 'Uppercase', 'LenBytes', 'LenChars',
    'StripChars', 'StripCharsStart', 'StripCharsEnd', 'ConcatHorizontal', 'CountMatches', 'Extract', 'ZFill', 'PadStart', 'PadEnd', 'Strptime',
  ]),
  TemporalExpr: new Set([
    'Year', 'IsoYear', 'Quarter', 'Month', 'Week', 'WeekDay', 'Day', 'OrdinalDay', 'Hour', 'Minute', 'Second',
    'Millisecond', 'Microsecond', 'Nanosecond', 'Date', 'Time', 'Truncate', 'Round', 'CastTimeUnit', 'ConvertTimeZone',
  ]),
};

export function isRowwise(e: Expr): boolean {
  if (!isRecord(e)) return false;
  const entries = Object.entries(e);
  if (entries.length !== 1) return false;
  const [[kind, body]] = entries as [[string, unknown]];
  switch (kind) {
    case 'Column': return typeof body === 'string';
    // A Series literal has its own length; a scalar is broadcast to every row.
    case 'Literal': return isRecord(body) && ('Scalar' in body || 'Dyn' in body);
    case 'Alias': return Array.isArray(body) && isRowwise(body[0]);
    case 'KeepName': return isRowwise(body);
    case 'RenameAlias': return isRecord(body) && isRowwise(body.expr);
    case 'Cast': return isRecord(body) && isRowwise(body.expr);
    case 'BinaryExpr': return isRecord(body) && isRowwise(body.left) && isRowwise(body.right);
    case 'Ternary': return isRecord(body) && isRowwise(body.predicate) && isRowwise(body.truthy) && isRowwise(body.falsy);
    case 'Function': return isRecord(body) && Array.isArray(body.input) && rowwiseFunction(body.function, body.input);
    default: return false;
  }
}

function rowwiseFunction(fn: unknown, input: unknown[]): boolean {
  if (!input.every(isRowwise)) return false;
  const [name, detail] = nameOf(fn);
  if (name === undefined) return false;
  const family = ROWWISE_FAMILIES[name];
  if (!family) return ROWWISE_FUNCTIONS.has(name);
  const [member] = nameOf(detail);
  if (member === undefined || !family.has(member)) return false;
  // is_in against a column tests membership in the whole column, not row by row.
  if (member === 'IsIn') return input.slice(1).every((x) => isRecord(x) && 'Literal' in x);
  if (member === 'Strptime') return hasFormat(isRecord(detail) ? detail.Strptime : undefined);
  return true;
}

/** A serialized enum's variant name ("Abs", {"Round": {...}}) and its body. */
function nameOf(v: unknown): [string | undefined, unknown] {
  if (typeof v === 'string') return [v, undefined];
  if (!isRecord(v)) return [undefined, undefined];
  const entries = Object.entries(v);
  return entries.length === 1 ? entries[0]! : [undefined, undefined];
}

function hasFormat(strptime: unknown): boolean {
  return Array.isArray(strptime) && isRecord(strptime[1]) && typeof strptime[1].format === 'string';
}
