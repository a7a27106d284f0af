// Schemas on the client: each operation is tried on an empty frame of the input's schema, so
// an unknown column or a type mismatch fails at once, named, and the output schema is Polars'
// own answer, not a re-implementation of its typing rules.
import pl from 'nodejs-polars';
import type { Schema } from './plan/nodes.js';
import { DataFrameError, polarsMessage } from './errors.js';

export type PlSchema = Record<string, pl.DataType>;

export function emptyFrame(schema: PlSchema): pl.DataFrame {
  return pl.DataFrame(Object.fromEntries(Object.keys(schema).map((k) => [k, []])), { schema });
}

/** The schema `apply` gives on an empty frame of `schema`; what Polars says is wrong, as a DataFrameError naming `what`. */
export function inferSchema(what: string, apply: (lf: pl.LazyDataFrame) => pl.LazyDataFrame, ...schemas: PlSchema[]): PlSchema {
  try {
    return apply(emptyFrame(schemas[0] ?? {}).lazy()).collectSync().schema as PlSchema;
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
