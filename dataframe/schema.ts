// Schemas on the client: each operation is tried on an empty frame of the input's schema, so
// an unknown column or a type mismatch fails at once, named, and the output schema is Polars'
// own answer, not a re-implementation of its typing rules.
import pl from 'nodejs-polars';
import type { Schema } from './plan/nodes.js';
import { DataFrameError, polarsMessage } from './errors.js';

export type PlSchema = Record<string, pl.DataType>;

/** Empty frames by schema. Making one costs ~0.8 ms a column (nodejs-polars builds a Series
 *  wrapper of hundreds of closures for each), and every operation on a DataFrame makes one. */
const empties = new Map<string, pl.DataFrame>();
const MAX_EMPTIES = 256;

/** An empty frame of the schema; shared, so never mutate it (derive new frames from it). */
export function emptyFrame(schema: PlSchema): pl.DataFrame {
  const key = JSON.stringify(Object.entries(schema).map(([name, dtype]) => [name, dtypeName(dtype)]));
  let frame = empties.get(key);
  if (frame) {
    empties.delete(key); // most recently used last: the first key is the one to evict
  } else {
    frame = pl.DataFrame(Object.fromEntries(Object.keys(schema).map((k) => [k, []])), { schema });
    if (empties.size >= MAX_EMPTIES) empties.delete(empties.keys().next().value!);
  }
  empties.set(key, frame);
  return frame;
}

/** The frame's schema from its names and dtypes (its `schema` getter makes a Series wrapper a column). */
export function frameSchema(df: pl.DataFrame): PlSchema {
  const dtypes = df.dtypes;
  return Object.fromEntries(df.columns.map((name, i) => [name, dtypes[i]!]));
}

/** The schema `apply` gives on an empty frame of `schema`; what Polars says is wrong, as a DataFrameError naming `what`. */
export function inferSchema(what: string, apply: (lf: pl.LazyDataFrame) => pl.LazyDataFrame, ...schemas: PlSchema[]): PlSchema {
  try {
    return frameSchema(apply(emptyFrame(schemas[0] ?? {}).lazy()).collectSync());
  } catch (err) {
    throw new DataFrameError(`${what}: ${polarsMessage(err)}`, { cause: err });
  }
}

/** The plan's (pure, JSON-able) form of a schema. */
export function planSchema(schema: PlSchema): Schema {
  return Object.entries(schema).map(([name, dtype]) => ({ name, dtype: dtypeName(dtype) }));
}

export function dtypeName(dtype: pl.DataType): string {
  return String(dtype).replace(/^DataType\((.*)\)$/, '$1');
}

/** Where two schemas differ, in words, or undefined when they are equal. */
export function schemaDifference(a: PlSchema, b: PlSchema): string | undefined {
  const names = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  for (const name of names) {
    if (!(name in a)) return `column "${name}" is only in the second`;
    if (!(name in b)) return `column "${name}" is only in the first`;
    if (dtypeName(a[name]!) !== dtypeName(b[name]!)) return `column "${name}" is ${dtypeName(a[name]!)} in the first and ${dtypeName(b[name]!)} in the second`;
  }
  const order = Object.keys(a).join(',') !== Object.keys(b).join(',');
  return order ? 'the columns are in a different order' : undefined;
}
