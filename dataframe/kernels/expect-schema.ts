// A partition made by a user function (mapPartitions) must have the schema the plan was built
// with: what follows was checked against it. A mismatch fails the partition, naming the function.
import type pl from 'nodejs-polars';
import type { Schema } from '../plan/nodes.js';
import { dtypeName, frameSchema } from '../schema.js';
import { KernelInputError } from './errors.js';

export function expectSchema(lf: pl.LazyDataFrame, expected: Schema, what: string): pl.LazyDataFrame {
  // The input is a frame in memory: its schema costs no work.
  const actual = Object.entries(frameSchema(lf.head(0).collectSync())).map(([name, dtype]) => ({ name, dtype: dtypeName(dtype) }));
  const text = (s: Schema) => s.map((f) => `${f.name}: ${f.dtype}`).join(', ');
  if (text(actual) !== text(expected)) {
    throw new KernelInputError(`${what} returned columns [${text(actual)}], expected [${text(expected)}]; pass { schema } to mapPartitions when the function changes the columns`);
  }
  return lf;
}
